//! Every table of the office downloads as CSV (the main table) and XLSX (all of them), written
//! with the phones' own report tables and writers (`patrol_core::report::{tables, export}`);
//! each download is written to the audit log.

use axum::http::{Extensions, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use patrol_core::report::Table;
use patrol_core::report::export as write;
use patrol_model::report::period::Period;
use serde::Deserialize;

use super::overview_page::period_of;
use super::sign_in::ip_of;
use super::{AppState, run};
use crate::office::sessions::Session;
use crate::office::{OfficeResult, OfficeUser, audit};
use crate::storage::Storage;

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    pub period: Option<String>,
}

/// Which file an export writes.
#[derive(Debug, Clone, Copy)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }
}

/// The tables `make` builds for the user and the query's period (and how many rows its main
/// table has, for the log), as a file named `{what}-{period}.{csv|xlsx}`.
pub async fn export(
    state: AppState,
    session: Session,
    ext: &Extensions,
    q: ExportQuery,
    format: ExportFormat,
    what: &'static str,
    make: impl FnOnce(&dyn Storage, &OfficeUser, &Period) -> OfficeResult<(Vec<Table>, usize)>
    + Send
    + 'static,
) -> Response {
    let storage = state.storage.clone();
    let now = state.now_ms();
    let address = ip_of(ext).to_string();
    let built = run(move || {
        let period = period_of(q.period.as_deref(), now)?;
        let (tables, rows) = make(storage.as_ref(), &session.user, &period)?;
        let bytes = match format {
            ExportFormat::Csv => tables
                .first()
                .map(|t| write::csv(t).into_bytes())
                .unwrap_or_default(),
            ExportFormat::Xlsx => {
                write::xlsx(&tables).map_err(|e| anyhow::anyhow!("writing the workbook: {e}"))?
            }
        };
        let mut tx = storage.write()?;
        audit::record(
            tx.as_mut(),
            now,
            Some(&session.user.user.id),
            &format!("export.{what}_{}", format.extension()),
            None,
            &format!("{rows} rows, period {}", period.label),
            Some(&address),
        )?;
        tx.commit()?;
        Ok((bytes, format!("{what}-{}", period.label)))
    })
    .await;
    match built {
        Ok((bytes, stem)) => download(format, &stem, bytes),
        Err(r) => r,
    }
}

/// A file to download, named `{stem}.csv` or `.xlsx` (the stem made of safe characters only).
pub fn download(format: ExportFormat, stem: &str, bytes: Vec<u8>) -> Response {
    let stem: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mime = match format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    };
    let disposition = format!("attachment; filename=\"{stem}.{}\"", format.extension());
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
