//! The report rules the district published, as received in sync (`reference_row`, table
//! `rules`). The rules themselves are [`patrol_model::report::rules`].

use rusqlite::OptionalExtension;

use crate::error::Result;
use crate::report::ReportRules;
use crate::store::Store;

impl Store {
    /// The report rules the district published (received in sync), or `None` when it published
    /// none: reports then score by the shipped rules ([`ReportRules::default`]).
    pub fn published_report_rules(&self) -> Result<Option<ReportRules>> {
        let body: Option<String> = self
            .connection()
            .query_row(
                "SELECT body FROM reference_row WHERE tbl = 'rules' AND id = ?1 AND deleted = 0",
                [ReportRules::REFERENCE_ID],
                |r| r.get(0),
            )
            .optional()?;
        Ok(body.map(|b| ReportRules::from_json(&b)).transpose()?)
    }

    /// The rules reports score by on this device: the district's published ones, else the
    /// shipped ones.
    pub fn report_rules(&self) -> Result<ReportRules> {
        Ok(self.published_report_rules()?.unwrap_or_default())
    }
}
