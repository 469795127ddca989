//! The report rules the district published, as received in sync (`reference_row`, table
//! `rules`). The rules themselves are [`patrol_model::report::rules`].

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;
use crate::report::ReportRules;

/// The report rules the district published (received in sync), or `None` when it published
/// none: reports then score by the shipped rules ([`ReportRules::default`]).
pub(crate) fn published_rules(conn: &Connection) -> Result<Option<ReportRules>> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM reference_row WHERE tbl = 'rules' AND id = ?1 AND deleted = 0",
            [ReportRules::REFERENCE_ID],
            |r| r.get(0),
        )
        .optional()?;
    Ok(body.map(|b| ReportRules::from_json(&b)).transpose()?)
}
