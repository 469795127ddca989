//! A scanned signboard code, verified, and what its page shows: the street, its chief, the
//! subdistrict, and the street's problems lately resolved (the public sees the loop working).

use ed25519_dalek::VerifyingKey;
use patrol_model::Role;
use patrol_model::domain::IssueStatus;
use patrol_model::reference::{DistrictKeyRow, SignboardRow, StreetBundle};
use patrol_model::signboard::{decode_code, decode_public_key};

use super::{PublicError, PublicResult};
use crate::storage::Tx;

/// How far back the page looks for resolved problems.
pub const RESOLVED_WINDOW_MS: i64 = 90 * 24 * 3600 * 1000;
/// Most resolved problems the page lists.
pub const MAX_RESOLVED_SHOWN: usize = 10;
/// Longest code text looked at (a real one is about 130 characters).
const MAX_CODE_CHARS: usize = 400;

/// A signboard whose code verified, with its street.
#[derive(Debug, Clone)]
pub struct VerifiedSignboard {
    pub row: SignboardRow,
    pub street: StreetBundle,
}

impl VerifiedSignboard {
    /// Where the signboard stands, when it was recorded.
    pub fn position(&self) -> Option<(f64, f64)> {
        self.row.lat.zip(self.row.lon)
    }

    /// A point on the street itself: its middle vertex.
    pub fn street_point(&self) -> Option<(f64, f64)> {
        let points: Vec<(f64, f64)> = self
            .street
            .segments
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .collect();
        points.get(points.len() / 2).copied()
    }

    /// How far `(lat, lon)` is from the signboard, or from the street's nearest vertex when the
    /// signboard's position was not recorded, in metres.
    pub fn distance_m(&self, lat: f64, lon: f64) -> f64 {
        use patrol_model::geodesy::haversine_distance_m;
        match self.position() {
            Some((a, o)) => haversine_distance_m(a, o, lat, lon),
            None => self
                .street
                .segments
                .iter()
                .flat_map(|s| s.points.iter())
                .map(|&(a, o)| haversine_distance_m(a, o, lat, lon))
                .fold(f64::INFINITY, f64::min),
        }
    }
}

/// Verifies a code (the bare code or a link ending in it) against the district's key and finds
/// its signboard and street. Anything that does not verify, or names a signboard the district
/// does not have (withdrawn, or from another district), is [`PublicError::NotFound`].
pub fn verify(tx: &mut dyn Tx, code: &str) -> PublicResult<VerifiedSignboard> {
    if code.is_empty() || code.chars().count() > MAX_CODE_CHARS {
        return Err(PublicError::NotFound);
    }
    let key = match tx.reference("district_key", "district")? {
        Some((body, false)) => serde_json::from_value::<DistrictKeyRow>(body)
            .map_err(|e| anyhow::anyhow!("the district key row is damaged: {e}"))?,
        _ => return Err(PublicError::NoSignboards),
    };
    let key = decode_public_key(&key.public_key)
        .ok()
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(|| anyhow::anyhow!("the district key is not a valid key"))?;
    let decoded = decode_code(code, &[key]).map_err(|_| PublicError::NotFound)?;
    let row = match tx.reference("signboard", &decoded.signboard_id.to_string())? {
        Some((body, false)) => serde_json::from_value::<SignboardRow>(body)
            .map_err(|e| anyhow::anyhow!("signboard row damaged: {e}"))?,
        _ => return Err(PublicError::NotFound),
    };
    if row.street_id != decoded.street_id.to_string() {
        return Err(PublicError::NotFound);
    }
    let street = match tx.reference("street", &row.street_id)? {
        Some((body, false)) => serde_json::from_value::<StreetBundle>(body)
            .map_err(|e| anyhow::anyhow!("street row damaged: {e}"))?,
        _ => return Err(PublicError::NotFound),
    };
    Ok(VerifiedSignboard { row, street })
}

/// One of the street's problems lately resolved, as the public sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedLine {
    pub category: String,
    pub reported_at_ms: i64,
    pub resolved_at_ms: i64,
    /// The chief (or the reporter) confirmed the fix.
    pub verified: bool,
}

/// What a signboard's page shows.
#[derive(Debug, Clone)]
pub struct SignboardPage {
    pub signboard: VerifiedSignboard,
    pub street_name: String,
    pub subdistrict_name: Option<String>,
    /// The chiefs' names (the district's public duty roster).
    pub chiefs: Vec<String>,
    pub resolved: Vec<ResolvedLine>,
    /// Problems on the street still being handled.
    pub open_count: usize,
    /// The district's categories (built in and published), for the form and the labels.
    pub catalog: patrol_model::issues::Catalog,
    /// The duty line and hotline the district wants shown.
    pub info: super::info::PublicInfo,
}

/// The page of the signboard whose code this is.
pub fn page(tx: &mut dyn Tx, code: &str, now_ms: i64) -> PublicResult<SignboardPage> {
    let signboard = verify(tx, code)?;
    let street_id = signboard.row.street_id.clone();
    let subdistrict_name = match tx.street_subdistrict(&street_id)?.flatten() {
        Some(sub) => tx
            .subdistricts()?
            .into_iter()
            .find(|(id, _, _)| *id == sub)
            .map(|(_, name, _)| name),
        None => signboard.street.street.subdistrict.clone(),
    };
    let mut chiefs = Vec::new();
    for (user, role) in tx.street_assignees(&street_id)? {
        if role == Role::Chief
            && let Some(u) = tx.user(&user)?
        {
            chiefs.push(u.name);
        }
    }
    let (resolved, open_count) = street_issues(tx, &street_id, now_ms)?;
    let catalog = crate::rules::catalog(tx)?;
    let info = super::info::load(tx)?;
    Ok(SignboardPage {
        catalog,
        info,
        street_name: signboard.street.street.label(),
        signboard,
        subdistrict_name,
        chiefs,
        resolved,
        open_count,
    })
}

/// The street's problems resolved within [`RESOLVED_WINDOW_MS`] (newest first, at most
/// [`MAX_RESOLVED_SHOWN`]) and how many are open, folded from the stored documents (each
/// document's fold is remembered by its heads, see [`FoldCache`]; only a document whose heads
/// changed is read at all).
fn street_issues(
    tx: &mut dyn Tx,
    street_id: &str,
    now_ms: i64,
) -> PublicResult<(Vec<ResolvedLine>, usize)> {
    let mut resolved = Vec::new();
    let mut open = 0;
    for (kind, id) in tx.feed_items_of_street(street_id)? {
        if kind != "doc:issue" || tx.quarantined(&kind, &id)?.is_some() {
            continue;
        }
        let Some(heads) = tx.doc_heads(&id)? else {
            continue;
        };
        let folded = FOLDS.get_or_fold(&id, &heads, || {
            Ok(tx.doc(&id)?.map(|row| row.data).unwrap_or_default())
        })?;
        match folded {
            Folded::Open => open += 1,
            Folded::Resolved(line) if now_ms - line.resolved_at_ms <= RESOLVED_WINDOW_MS => {
                resolved.push(line);
            }
            Folded::Resolved(_) | Folded::Other => {}
        }
    }
    resolved.sort_by_key(|r| std::cmp::Reverse(r.resolved_at_ms));
    resolved.truncate(MAX_RESOLVED_SHOWN);
    Ok((resolved, open))
}

/// What the page takes from one issue document.
#[derive(Debug, Clone, PartialEq)]
enum Folded {
    /// Still being handled.
    Open,
    /// Resolved or verified.
    Resolved(ResolvedLine),
    /// Closed otherwise (cancelled, a duplicate), or not readable as an issue.
    Other,
}

/// Loads and folds an issue document.
fn fold(data: &[u8]) -> Folded {
    let Ok(doc) = automerge::Automerge::load(data) else {
        return Folded::Other;
    };
    let Ok(issue) = patrol_model::issues::doc::read(&doc) else {
        return Folded::Other;
    };
    let state = patrol_model::issues::workflow::fold(&issue);
    if state.status.is_open() {
        return Folded::Open;
    }
    if !matches!(state.status, IssueStatus::Resolved | IssueStatus::Verified) {
        return Folded::Other;
    }
    let resolved_at_ms = state
        .applied()
        .filter(|e| e.kind == patrol_model::domain::IssueEventKind::Resolve)
        .map(|e| e.at.wall_ms)
        .max()
        .unwrap_or(state.updated_at_ms);
    Folded::Resolved(ResolvedLine {
        category: issue.category.clone(),
        reported_at_ms: state.reported_at_ms,
        resolved_at_ms,
        verified: state.status == IssueStatus::Verified,
    })
}

/// Most documents whose fold is remembered; past that the memory starts again.
const MAX_FOLDS_KEPT: usize = 50_000;

/// Each issue document's fold, by document id, kept with the heads and size of the document it
/// was folded from. Loading and folding a document costs about half a millisecond, and a page
/// folds every document of its street on every view (and again behind every post), which made
/// most of a page's time; a document whose heads have not changed is the same document (heads
/// are the hashes of its latest changes), so its fold is reused. Process-wide: ids and heads
/// name content, so servers sharing a process (tests) cannot mix each other's documents up.
/// At most [`MAX_FOLDS_KEPT`] entries (about 300 bytes each).
#[derive(Debug, Default)]
struct FoldCache {
    folds: std::sync::Mutex<std::collections::HashMap<String, (String, Folded)>>,
}

static FOLDS: std::sync::LazyLock<FoldCache> = std::sync::LazyLock::new(FoldCache::default);

impl FoldCache {
    /// The fold of document `id` at `heads`, remembered, or folded from what `load` reads (only
    /// then is the document read at all).
    fn get_or_fold(
        &self,
        id: &str,
        heads: &[String],
        load: impl FnOnce() -> PublicResult<Vec<u8>>,
    ) -> PublicResult<Folded> {
        if heads.is_empty() {
            return Ok(fold(&load()?));
        }
        let key = heads.join(" ");
        let lock = || self.folds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((h, f)) = lock().get(id)
            && *h == key
        {
            return Ok(f.clone());
        }
        let folded = fold(&load()?);
        let mut folds = lock();
        if folds.len() >= MAX_FOLDS_KEPT {
            folds.clear();
        }
        folds.insert(id.to_owned(), (key, folded.clone()));
        Ok(folded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fold_is_reused_only_for_the_same_heads_and_the_document_is_read_only_otherwise() {
        let cache = FoldCache::default();
        let heads = vec!["aa".to_owned()];
        let reads = std::cell::Cell::new(0);
        let load = || {
            reads.set(reads.get() + 1);
            Ok(b"xx".to_vec())
        };
        // Not a document: folded as "other", and remembered.
        assert_eq!(
            cache.get_or_fold("d1", &heads, load).unwrap(),
            Folded::Other
        );
        assert_eq!(reads.get(), 1);
        let line = ResolvedLine {
            category: "litter".into(),
            reported_at_ms: 1,
            resolved_at_ms: 2,
            verified: true,
        };
        cache
            .folds
            .lock()
            .unwrap()
            .insert("d1".into(), ("aa".into(), Folded::Resolved(line.clone())));
        assert_eq!(
            cache.get_or_fold("d1", &heads, load).unwrap(),
            Folded::Resolved(line)
        );
        assert_eq!(reads.get(), 1, "the same heads: not read again");
        // Other heads, no heads: read and folded again.
        assert_eq!(
            cache.get_or_fold("d1", &["bb".into()], load).unwrap(),
            Folded::Other
        );
        assert_eq!(cache.get_or_fold("d1", &[], load).unwrap(), Folded::Other);
        assert_eq!(reads.get(), 3);
    }
}
