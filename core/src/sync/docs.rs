//! CRDT documents (issues and merchants) in the sync exchange: which of this device's documents
//! have changes the server has not confirmed, the uploads (only this device's own changes, past
//! the heads the server has), and storing what comes down.

use automerge::ChangeHash;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::wire::{DocDownload, DocHeads, DocKind, DocUpload};
use crate::docs::DocTables;
use crate::domain::{IssueId, MerchantId};
use crate::error::{Error, Result};

fn heads_from_text(text: &str) -> Vec<ChangeHash> {
    text.split_whitespace()
        .filter_map(|h| h.parse().ok())
        .collect()
}

/// Where documents of a kind are stored, and the `sync_account` column holding how far this
/// device's own edits of that kind have been marked pending.
fn tables(kind: DocKind) -> (DocTables, &'static str) {
    match kind {
        DocKind::Issue => (crate::issues::persist::ISSUES, "local_doc_cursor"),
        DocKind::Merchant => (crate::merchants::MERCHANTS, "local_merchant_cursor"),
    }
}

/// Downloaded documents merged per transaction: few enough that the app's own writes on its
/// connection wait at most a fraction of a second while a sync stores a page, many enough that
/// commits cost nothing next to the merging.
pub(crate) const DOCS_PER_TRANSACTION: usize = 250;

/// The kind `sync_doc` records for a document (issues before merchants synced).
fn kind_of(conn: &Connection, id: &str) -> Result<DocKind> {
    let name: Option<String> = conn
        .prepare_cached("SELECT kind FROM sync_doc WHERE doc_id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(name
        .as_deref()
        .and_then(DocKind::parse)
        .unwrap_or(DocKind::Issue))
}

/// A document the server refused, with its reason.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RejectedDoc {
    pub id: String,
    pub reason: String,
}

/// Marks every document edited here since the last look as pending upload, inside the
/// caller's transaction.
pub(crate) fn mark_pending_docs(tx: &Transaction<'_>) -> Result<()> {
    for kind in DocKind::ALL {
        let (docs, cursor_column) = tables(kind);
        let cursor: i64 = tx.query_row(
            &format!("SELECT {cursor_column} FROM sync_account"),
            [],
            |r| r.get(0),
        )?;
        let edited = docs.edited_since(tx, cursor)?;
        let Some(max) = edited.iter().map(|(_, seq)| *seq).max() else {
            continue;
        };
        for (id, _) in &edited {
            tx.prepare_cached(
                "INSERT INTO sync_doc (doc_id, kind, pending) VALUES (?1, ?2, 1)
                 ON CONFLICT (doc_id) DO UPDATE SET pending = 1",
            )?
            .execute(params![id, kind.as_str()])?;
        }
        tx.execute(
            &format!("UPDATE sync_account SET {cursor_column} = ?1"),
            [max],
        )?;
    }
    Ok(())
}

fn server_heads(conn: &Connection, id: &str) -> Result<Vec<ChangeHash>> {
    let text: Option<String> = conn
        .query_row(
            "SELECT server_heads FROM sync_doc WHERE doc_id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(text.map(|t| heads_from_text(&t)).unwrap_or_default())
}

/// The changes by `actor` (this device) the server lacks, per pending document (at most `limit`).
pub(crate) fn docs_to_upload(
    conn: &Connection,
    actor: &str,
    limit: usize,
) -> Result<Vec<DocUpload>> {
    let pending: Vec<(String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT doc_id, kind FROM sync_doc WHERE pending = 1 AND rejected IS NULL ORDER BY doc_id LIMIT ?1",
        )?;
        stmt.query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::new();
    for (id, kind) in pending {
        let kind = DocKind::parse(&kind).unwrap_or(DocKind::Issue);
        let (docs, _) = tables(kind);
        let changes = docs
            .own_changes_since(conn, &id, &server_heads(conn, &id)?, actor)?
            .unwrap_or_default();
        if changes.is_empty() {
            conn.execute("UPDATE sync_doc SET pending = 0 WHERE doc_id = ?1", [&id])?;
            continue;
        }
        let heads = docs
            .stored_heads(conn, &id)?
            .map(|(_, h)| h)
            .unwrap_or_default();
        out.push(DocUpload {
            kind,
            id,
            changes,
            heads: heads.iter().map(|h| h.to_string()).collect(),
        });
    }
    Ok(out)
}

/// Documents to ask for whole again.
pub(crate) fn docs_to_refetch(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT doc_id FROM sync_doc WHERE refetch = 1 LIMIT 500")?;
    Ok(stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Records what the server confirmed it has; a document stays pending while any of this
/// device's own changes (by `actor`) are still missing there.
pub(crate) fn confirm_docs(conn: &Connection, actor: &str, accepted: &[DocHeads]) -> Result<()> {
    for a in accepted {
        let heads: Vec<ChangeHash> = a.heads.iter().filter_map(|h| h.parse().ok()).collect();
        let (docs, _) = tables(kind_of(conn, &a.id)?);
        let still = docs
            .own_changes_since(conn, &a.id, &heads, actor)?
            .is_some_and(|c| !c.is_empty());
        conn.execute(
            "INSERT INTO sync_doc (doc_id, server_heads, pending) VALUES (?1, ?2, ?3)
             ON CONFLICT (doc_id) DO UPDATE SET server_heads = excluded.server_heads, pending = excluded.pending",
            params![a.id, a.heads.join(" "), still as i64],
        )?;
    }
    Ok(())
}

/// Merges one part of the documents that came down inside the caller's transaction (see
/// [`crate::Store::apply_sync_response`]): each document in a savepoint of its own; one that
/// cannot be applied (this device lacks what it builds on) is marked to be fetched whole.
/// Returns how many were applied.
pub(crate) fn store_doc_part(
    tx: &mut Transaction<'_>,
    merge: &mut crate::issues::sync::IssueMerge,
    docs: &[DocDownload],
    whole: bool,
    set_aside: &mut Vec<super::engine::SetAside>,
) -> Result<u64> {
    let mut applied = 0;
    let any_aside = super::engine::any_set_aside(tx)?;
    for d in docs {
        let bad_id = || {
            Error::Protocol(format!(
                "the server sent a {} with id {:?}",
                d.kind.as_str(),
                d.id
            ))
        };
        let sp = tx.savepoint()?;
        let merged = match d.kind {
            DocKind::Issue => match d.id.parse::<IssueId>() {
                Ok(id) => merge
                    .apply(&sp, Some(id), &d.data)
                    .and_then(|(_, transition)| {
                        crate::points::credit_issue_transition(&sp, merge.me(), &transition)
                    }),
                Err(_) => Err(bad_id()),
            },
            DocKind::Merchant => match d.id.parse::<MerchantId>() {
                Ok(id) => crate::merchants::merge_merchant(&sp, Some(id), &d.data, merge.now())
                    .map(|(_, latest)| {
                        if let Some(latest) = latest {
                            merge.observe(&latest);
                        }
                    }),
                Err(_) => Err(bad_id()),
            },
        };
        match merged {
            Ok(_) => {
                applied += 1;
                for sha in &d.blobs {
                    let here: bool = sp
                        .prepare_cached("SELECT EXISTS (SELECT 1 FROM photo WHERE sha256 = ?1)")?
                        .query_row([sha], |r| r.get(0))?;
                    // Wanted when not here; whether the server has it is known only once it
                    // is uploaded or downloaded.
                    if !here {
                        sp.prepare_cached(
                            "INSERT INTO sync_blob (sha256, wanted) VALUES (?1, 1)
                             ON CONFLICT (sha256) DO UPDATE SET wanted = 1",
                        )?
                        .execute(params![sha])?;
                    }
                }
                sp.prepare_cached(
                    "INSERT INTO sync_doc (doc_id, kind, server_heads) VALUES (?1, ?2, ?3)
                     ON CONFLICT (doc_id) DO UPDATE SET server_heads = excluded.server_heads, refetch = 0",
                )?
                .execute(params![d.id, d.kind.as_str(), d.heads.join(" ")])?;
                if any_aside {
                    super::engine::clear_set_aside(
                        &sp,
                        &format!("doc:{}", d.kind.as_str()),
                        &d.id,
                    )?;
                }
                sp.commit()?;
            }
            Err(Error::BadDocument(_)) | Err(Error::UnknownIssue(_)) if !whole => {
                drop(sp); // rolls back whatever the failed merge wrote
                tx.execute(
                    "INSERT INTO sync_doc (doc_id, kind, refetch) VALUES (?1, ?2, 1) ON CONFLICT (doc_id) DO UPDATE SET refetch = 1",
                    params![d.id, d.kind.as_str()],
                )?;
            }
            // Whole and still unreadable (or refused by a check): set aside with the
            // reason, and the other documents go on.
            Err(e) if super::engine::is_item_fault(&e) => {
                drop(sp);
                let item = super::engine::SetAside {
                    kind: format!("doc:{}", d.kind.as_str()),
                    id: d.id.clone(),
                    reason: e.to_string(),
                };
                let body = format!("{} bytes, heads {}", d.data.len(), d.heads.join(" "));
                super::engine::set_item_aside(tx, item, &body, merge.now(), set_aside)?;
            }
            Err(e) => return Err(e),
        }
    }
    merge.finish(tx)?;
    Ok(applied)
}

/// Marks a document the server refused; it is left out of uploads from now on.
pub(crate) fn reject_doc(conn: &Connection, id: &str, reason: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_doc (doc_id, rejected) VALUES (?1, ?2) ON CONFLICT (doc_id) DO UPDATE SET rejected = excluded.rejected",
        params![id, reason],
    )?;
    Ok(())
}

/// Marks a patrol header or record the server refused.
pub(crate) fn reject_item(conn: &Connection, kind: &str, id: &str, reason: &str) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO sync_rejected (kind, id, reason) VALUES (?1, ?2, ?3)",
        params![kind, id, reason],
    )?;
    Ok(())
}

/// Everything the server refused (documents, patrol headers, records), with the reasons.
pub(crate) fn rejected_items(conn: &Connection) -> Result<Vec<RejectedDoc>> {
    let mut stmt = conn.prepare(
        "SELECT doc_id, rejected FROM sync_doc WHERE rejected IS NOT NULL
         UNION ALL SELECT kind || ':' || id, reason FROM sync_rejected ORDER BY 1",
    )?;
    Ok(stmt
        .query_map([], |r| {
            Ok(RejectedDoc {
                id: r.get(0)?,
                reason: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issues::NewIssue;
    use crate::{Role, Store, StoreConfig};

    fn download(id: IssueId, data: Vec<u8>) -> DocDownload {
        DocDownload {
            kind: DocKind::Issue,
            id: id.to_string(),
            data,
            heads: vec![],
            blobs: vec!["ab".repeat(32)],
        }
    }

    fn refetch_marked(store: &Store) -> Vec<String> {
        let mut stmt = store
            .conn
            .prepare("SELECT doc_id FROM sync_doc WHERE refetch = 1 ORDER BY doc_id")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_page_stores_what_applies_and_marks_the_rest_for_refetch() {
        let dir = tempfile::tempdir().unwrap();
        let open = |name: &str, role| {
            let mut s = Store::open(dir.path().join(name), StoreConfig::default()).unwrap();
            s.init_device(name, role, None).unwrap();
            s
        };
        let mut chief = open("chief", Role::Chief);
        let mut supervisor = open("supervisor", Role::Supervisor);
        let a = chief
            .report_issue(NewIssue::at("litter", 39.9075, 116.1936))
            .unwrap()
            .issue
            .id;
        let b = chief
            .report_issue(NewIssue::at("litter", 39.9076, 116.1936))
            .unwrap()
            .issue
            .id;
        let base = chief.issue_heads(b).unwrap();
        chief.comment_issue(b, "more").unwrap();
        let page = [
            download(a, chief.export_issue(a).unwrap()),
            // Changes to an issue this phone has never seen: cannot apply, fetch it whole.
            download(b, chief.issue_changes_since(b, &base).unwrap()),
            download(IssueId::new(), b"garbage".to_vec()),
        ];

        let mut aside = Vec::new();
        assert_eq!(
            supervisor
                .store_doc_downloads(&page, false, &mut aside)
                .unwrap(),
            1
        );
        assert!(aside.is_empty(), "{aside:?}");
        assert_eq!(
            supervisor.issue(a).unwrap().heads,
            chief.issue(a).unwrap().heads
        );
        assert!(matches!(supervisor.issue(b), Err(Error::UnknownIssue(_))));
        let mut want = vec![b.to_string(), page[2].id.clone()];
        want.sort();
        assert_eq!(refetch_marked(&supervisor), want);
        let wanted: i64 = supervisor
            .conn
            .query_row("SELECT COUNT(*) FROM sync_blob WHERE wanted = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(
            wanted, 1,
            "the applied document's photo is wanted, the others' are not"
        );

        // Refetched whole, the issue arrives; a document still unreadable when whole is set
        // aside with the reason, and the page goes on.
        let refetched = [
            download(IssueId::new(), b"still garbage".to_vec()),
            download(b, chief.export_issue(b).unwrap()),
        ];
        assert_eq!(
            supervisor
                .store_doc_downloads(&refetched, true, &mut aside)
                .unwrap(),
            1
        );
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert_eq!(aside[0].kind, "doc:issue");
        assert_eq!(aside[0].id, refetched[0].id);
        assert_eq!(supervisor.set_aside_items().unwrap(), aside);
        assert_eq!(refetch_marked(&supervisor), vec![page[2].id.clone()]);
        assert_eq!(supervisor.issue(b).unwrap().comments.len(), 1);
    }
}
