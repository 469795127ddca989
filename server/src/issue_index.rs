//! The issue index: one row per issue document, its fold (status, assignees, times, due time),
//! which the office's queue, overview and map and the server's reports read instead of folding
//! thousands of documents per request. Caught up before each read: the documents whose heads moved since their row was written
//! (synced from phones, written by the public desk or the office) are folded again; when the
//! categories' due times change, every row is.

use automerge::Automerge;
use patrol_model::domain::{IssueEventKind, IssueStatus};
use patrol_model::issues::{Catalog, fold};

use crate::storage::{IssueIndexRow, Storage, Tx};
use anyhow::Result;

/// Where the index remembers the due times it was folded with.
const CATALOG_SETTING: &str = "issue_index_catalog";

/// The due times the rows' `due_at_ms` were computed with, as one comparable text.
fn catalog_fingerprint(catalog: &Catalog) -> String {
    let mut dues: Vec<String> = catalog
        .all()
        .iter()
        .map(|c| format!("{}={}", c.code, catalog.due_ms(&c.code)))
        .collect();
    dues.sort();
    dues.join(",")
}

/// The index row of one issue document, or `None` when the document does not read (one of a
/// newer schema: it is left out, as reports leave it out).
pub fn row_of(
    tx: &mut dyn Tx,
    id: &str,
    data: &[u8],
    heads: &[String],
    catalog: &Catalog,
) -> Result<Option<IssueIndexRow>> {
    let Ok(doc) = Automerge::load(data) else {
        return Ok(None);
    };
    let Ok(issue) = patrol_model::issues::doc::read(&doc) else {
        return Ok(None);
    };
    let state = fold(&issue);
    let last = |kind: IssueEventKind| {
        state
            .applied()
            .filter(|e| e.kind == kind)
            .map(|e| e.at.wall_ms)
            .last()
    };
    let resolved_at_ms = matches!(state.status, IssueStatus::Resolved | IssueStatus::Verified)
        .then(|| last(IssueEventKind::Resolve))
        .flatten();
    let verified_at_ms = (state.status == IssueStatus::Verified)
        .then(|| last(IssueEventKind::Verify))
        .flatten();
    let subdistrict_id = match &issue.location.street_id {
        Some(st) => tx.street_subdistrict(st)?.flatten(),
        None => None,
    };
    Ok(Some(IssueIndexRow {
        id: id.to_owned(),
        heads: heads.to_vec(),
        status: state.status,
        category: issue.category.clone(),
        description: issue.description.clone(),
        street_id: issue.location.street_id.clone(),
        subdistrict_id,
        lat: issue.location.lat,
        lon: issue.location.lon,
        reporter_role: issue.reporter.role,
        reporter_id: issue.reporter.user_id.to_string(),
        applied: patrol_model::report::facts::applied_events(&state),
        assignees: state.assignees.iter().map(ToString::to_string).collect(),
        reported_at_ms: state.reported_at_ms,
        updated_at_ms: state.updated_at_ms,
        due_at_ms: state
            .round_started_at_ms
            .saturating_add(catalog.due_ms(&issue.category)),
        resolved_at_ms,
        verified_at_ms,
        photo_count: u32::try_from(issue.photos.len()).unwrap_or(u32::MAX),
    }))
}

/// Folds again, in `tx`, the one document `id` (after the office changed it).
pub fn refresh(tx: &mut dyn Tx, id: &str, catalog: &Catalog) -> Result<()> {
    if let Some(doc) = tx.doc(id)?
        && let Some(row) = row_of(tx, id, &doc.data, &doc.heads, catalog)?
    {
        tx.put_issue_index(&row)?;
    }
    Ok(())
}

/// Brings the index up to date with the documents; returns how many rows it wrote. Cheap when
/// nothing changed (one indexed comparison of heads).
pub fn catch_up(storage: &dyn Storage) -> Result<usize> {
    {
        let mut tx = storage.read()?;
        let catalog = crate::rules::catalog(tx.as_mut())?;
        let same_catalog = tx.site_setting(CATALOG_SETTING)?.as_deref()
            == Some(catalog_fingerprint(&catalog).as_bytes());
        if same_catalog && tx.stale_issue_index()?.is_empty() {
            return Ok(0);
        }
    }
    let mut tx = storage.write()?;
    let catalog = crate::rules::catalog(tx.as_mut())?;
    let fingerprint = catalog_fingerprint(&catalog);
    if tx.site_setting(CATALOG_SETTING)?.as_deref() != Some(fingerprint.as_bytes()) {
        tx.clear_issue_index()?;
        tx.put_site_setting(CATALOG_SETTING, fingerprint.as_bytes())?;
    }
    let stale = tx.stale_issue_index()?;
    let mut written = 0;
    for id in &stale {
        if let Some(doc) = tx.doc(id)?
            && let Some(row) = row_of(tx.as_mut(), id, &doc.data, &doc.heads, &catalog)?
        {
            tx.put_issue_index(&row)?;
            written += 1;
        }
    }
    tx.commit()?;
    Ok(written)
}
