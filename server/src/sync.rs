//! One sync round trip, inside one storage transaction: take the device's uploads (refusing the
//! whole request, storing nothing, if any part is not allowed), then walk the change feed past the
//! device's cursor and send what its scope allows and it does not have yet.
//!
//! Cost: proportional to the uploads plus the feed entries past the cursor, never to the number
//! of documents the device holds, so a no-op sync of 10,000 documents is one indexed query.

use std::collections::HashSet;

use automerge::{Automerge, Change, ChangeHash, ReadDoc};
use patrol_model::Role;
use patrol_model::docs::validate::MAX_DOC_UPLOAD_BYTES;
use patrol_model::wire::{
    DocDownload, DocHeads, DocKind, DocUpload, FixMark, LedgerRecord, PROTOCOL_VERSION,
    PatrolRecord, ReferenceRow, Scope, SyncRequest, SyncResponse,
};

use crate::policy::{DeviceCtx, DocFacts, DocPolicy};
use crate::storage::{DeviceDoc, DeviceRow, FeedRow, FeedScope, Storage, Tx};
use crate::sync_error::{SyncError, SyncResult};

/// Most feed entries one response carries; the device asks again while `more` is set.
pub const MAX_ENTRIES_PER_RESPONSE: usize = 2_000;
/// Most documents one request may upload.
pub const MAX_DOCS_PER_REQUEST: usize = 2_000;
/// Record kinds devices may upload.
pub const RECORD_KINDS: &[&str] = &["pickup", "points"];

/// The subdistrict a person's own records and patrols belong to when no street says: their
/// scope's, if it is one.
fn home_subdistrict(ctx: &DeviceCtx) -> Option<String> {
    match &ctx.user.scope {
        Scope::Subdistrict(s) => Some(s.to_string()),
        _ => None,
    }
}

/// The department names an issue can be assigned to, as they appear in a feed audience.
pub fn department_of(role: Role) -> Option<&'static str> {
    match role {
        Role::Crew => Some("city_property"),
        Role::Enforcement => Some("enforcement"),
        _ => None,
    }
}

pub fn device_ctx(tx: &mut dyn Tx, device: &DeviceRow) -> SyncResult<DeviceCtx> {
    let mut streets: HashSet<String> = tx.streets_of_user(&device.user.id)?.into_iter().collect();
    if let Scope::Street(s) = &device.user.scope {
        streets.insert(s.clone());
    }
    Ok(DeviceCtx {
        device_id: device.id,
        user: device.user.clone(),
        actor_id: device.actor_id.clone(),
        streets,
    })
}

/// Whether the device may receive a feed item.
pub fn visible(ctx: &DeviceCtx, row: &FeedRow) -> bool {
    // Merchants (contacts, inspections, ratings) are supervisors' and chiefs' business.
    if row.kind == "doc:merchant" && !matches!(ctx.user.role, Role::Supervisor | Role::Chief) {
        return false;
    }
    let me = ctx.user.id.to_string();
    let s = &row.scope;
    if s.owner_id.as_deref() == Some(me.as_str()) || s.audience.contains(&me) {
        return true;
    }
    let in_subdistrict = |sub: &patrol_model::SubdistrictId| {
        s.subdistrict_id.as_deref() == Some(sub.to_string().as_str())
    };
    let on_my_streets = s
        .street_id
        .as_ref()
        .is_some_and(|st| ctx.streets.contains(st));
    let is_reference = row.kind.starts_with("ref:");
    match ctx.user.role {
        Role::Public => false,
        Role::Supervisor => match &ctx.user.scope {
            Scope::District => true,
            Scope::Subdistrict(sub) => {
                in_subdistrict(sub) || (is_reference && s.street_id.is_none())
            }
            Scope::Street(_) | Scope::Own => on_my_streets,
        },
        Role::Chief | Role::Steward => on_my_streets || (is_reference && s.street_id.is_none()),
        Role::Crew | Role::Enforcement => {
            let department = department_of(ctx.user.role).unwrap_or_default();
            let scoped = match &ctx.user.scope {
                Scope::Subdistrict(sub) => in_subdistrict(sub),
                Scope::Street(_) => on_my_streets,
                Scope::District | Scope::Own => true,
            };
            // Issues addressed to their department; the district's network (streets,
            // segments, signboards, rules: published to every device) to find their way.
            let for_department = s.audience.iter().any(|a| a == department);
            let wayfinding = row.kind == "ref:street"
                || row.kind == "ref:segment"
                || (is_reference && s.street_id.is_none());
            (scoped && for_department) || wayfinding
        }
    }
}

fn parse_heads(heads: &[String]) -> SyncResult<Vec<ChangeHash>> {
    heads
        .iter()
        .map(|h| {
            h.parse::<ChangeHash>()
                .map_err(|_| SyncError::Malformed(format!("{h:?} is not a change hash")))
        })
        .collect()
}

fn heads_hex(doc: &Automerge) -> Vec<String> {
    let mut h: Vec<String> = doc.get_heads().iter().map(|h| h.to_string()).collect();
    h.sort();
    h
}

/// A document kind's name on the change feed (`doc:issue`).
fn feed_kind(kind: DocKind) -> String {
    format!("doc:{}", kind.as_str())
}

fn kind_from_feed(kind: &str) -> Option<DocKind> {
    kind.strip_prefix("doc:").and_then(DocKind::parse)
}

/// The feed scope of a document from its facts, with the subdistrict looked up by street.
fn doc_scope(tx: &mut dyn Tx, facts: &DocFacts) -> SyncResult<FeedScope> {
    let subdistrict_id = match &facts.street_id {
        Some(st) => tx.street_subdistrict(st)?.flatten(),
        None => None,
    };
    Ok(FeedScope {
        street_id: facts.street_id.clone(),
        subdistrict_id,
        owner_id: facts.owner_id.clone(),
        audience: facts.audience.clone(),
    })
}

/// Whether the device may write to a document of `kind` in `scope`: only to what it may see.
fn may_write(ctx: &DeviceCtx, kind: DocKind, scope: &FeedScope) -> bool {
    let row = FeedRow {
        seq: 0,
        kind: feed_kind(kind),
        item_id: String::new(),
        scope: scope.clone(),
    };
    visible(ctx, &row)
}

fn apply_doc_upload(
    tx: &mut dyn Tx,
    policy: &dyn DocPolicy,
    ctx: &DeviceCtx,
    up: &DocUpload,
    now_ms: i64,
) -> SyncResult<DocHeads> {
    let changes = decode_upload(ctx, up)?;
    let before = stored_doc(tx, policy, ctx, up)?;
    let uploaded: Vec<ChangeHash> = changes.iter().map(Change::hash).collect();
    let mut after = before.clone().unwrap_or_default();
    after.apply_changes(changes).map_err(|e| {
        SyncError::Invalid(format!("document {}: changes do not apply: {e}", up.id))
    })?;
    let missing = after.get_missing_deps(&[]);
    if !missing.is_empty() {
        return Err(SyncError::MissingDependencies(format!(
            "document {}: these changes build on {} change(s) the server does not have yet (the document reached this \
             device by hand); they stay on the device and go up once the device that made those changes has synced",
            up.id,
            missing.len()
        )));
    }
    let declared = parse_heads(&up.heads)?;
    let facts = policy.check_update(up.kind, &up.id, before.as_ref(), &after, &uploaded, ctx)?;
    let scope = doc_scope(tx, &facts)?;
    if before.is_none() && !may_write(ctx, up.kind, &scope) {
        return Err(SyncError::NotAllowed(format!(
            "document {} is outside what this device may create",
            up.id
        )));
    }
    // A merchant's street may be corrected, but only to where the device may still write (an
    // issue's location is fixed, and its audience moves with the workflow).
    if before.is_some() && up.kind == DocKind::Merchant && !may_write(ctx, up.kind, &scope) {
        return Err(SyncError::NotAllowed(format!(
            "merchant {}: this device may not move it outside what it may change",
            up.id
        )));
    }
    let heads = heads_hex(&after);
    let changed = before.as_ref().is_none_or(|b| heads_hex(b) != heads);
    if changed {
        tx.put_doc(
            &up.id,
            up.kind.as_str(),
            &after.save(),
            &heads,
            &facts.blobs,
            now_ms,
        )?;
        tx.feed_touch(&feed_kind(up.kind), &up.id, &scope)?;
        after_stored(tx, &up.id, &facts, now_ms)?;
    }
    confirm_declared_heads(tx, ctx, up, &after, &declared)?;
    Ok(DocHeads {
        id: up.id.clone(),
        heads,
    })
}

/// Stores a new document the server wrote itself on behalf of `ctx` (a resident's report made
/// through a signboard page, by the public desk) after the same checks a device's upload of it
/// would pass: the document model, the role table and the fold, through `policy`. Returns the
/// scope it was published with; the caller checks that scope is where it meant to write.
pub fn accept_server_doc(
    tx: &mut dyn Tx,
    policy: &dyn DocPolicy,
    ctx: &DeviceCtx,
    kind: DocKind,
    id: &str,
    doc: &Automerge,
    now_ms: i64,
) -> SyncResult<FeedScope> {
    if tx.doc(id)?.is_some() {
        return Err(SyncError::Conflict(format!("document {id} exists already")));
    }
    let changes: Vec<ChangeHash> = doc.get_changes(&[]).iter().map(|c| c.hash()).collect();
    let facts = policy.check_update(kind, id, None, doc, &changes, ctx)?;
    let scope = doc_scope(tx, &facts)?;
    tx.put_doc(
        id,
        kind.as_str(),
        &doc.save(),
        &heads_hex(doc),
        &facts.blobs,
        now_ms,
    )?;
    tx.feed_touch(&feed_kind(kind), id, &scope)?;
    after_stored(tx, id, &facts, now_ms)?;
    Ok(scope)
}

/// Stores the server's own change to an existing document, made on behalf of `ctx` (a
/// supervisor's action on the office platform), after the checks a device's upload of the same
/// change would pass: `ctx` may change the document where it stands, it is not quarantined, and
/// the document model, the role table and the fold (through `policy`) accept the new changes.
/// Returns the scope it is published with now.
#[expect(
    clippy::too_many_arguments,
    reason = "the same inputs as accept_server_doc, plus the document before"
)]
pub fn accept_server_change(
    tx: &mut dyn Tx,
    policy: &dyn DocPolicy,
    ctx: &DeviceCtx,
    kind: DocKind,
    id: &str,
    before: &Automerge,
    after: &Automerge,
    now_ms: i64,
) -> SyncResult<FeedScope> {
    let outside = || {
        SyncError::NotAllowed(format!(
            "document {id} is outside what this user may change"
        ))
    };
    let facts_before = policy.facts(kind, before)?;
    if !may_write(ctx, kind, &doc_scope(tx, &facts_before)?) {
        return Err(outside());
    }
    not_quarantined(tx, &feed_kind(kind), id)?;
    let changes: Vec<ChangeHash> = after
        .get_changes(&before.get_heads())
        .iter()
        .map(|c| c.hash())
        .collect();
    let facts = policy.check_update(kind, id, Some(before), after, &changes, ctx)?;
    let scope = doc_scope(tx, &facts)?;
    tx.put_doc(
        id,
        kind.as_str(),
        &after.save(),
        &heads_hex(after),
        &facts.blobs,
        now_ms,
    )?;
    tx.feed_touch(&feed_kind(kind), id, &scope)?;
    after_stored(tx, id, &facts, now_ms)?;
    Ok(scope)
}

/// What storing a document entails beyond it: when an issue's loop ends (verified, cancelled,
/// a duplicate), the contact phone a resident left with its report is erased, in the same
/// transaction, and the audit log says so. It was kept for following the problem up only
/// (docs/privacy.md).
fn after_stored(tx: &mut dyn Tx, id: &str, facts: &DocFacts, now_ms: i64) -> SyncResult<()> {
    if facts.closed {
        crate::retention::erase_contact_of_closed(tx, id, now_ms)?;
    }
    Ok(())
}

/// An upload's changes, decoded, after checking the id, the size and that every change is this
/// device's own (signed by its actor).
fn decode_upload(ctx: &DeviceCtx, up: &DocUpload) -> SyncResult<Vec<Change>> {
    if !crate::validate::valid_id(&up.id) {
        return Err(SyncError::Malformed(format!(
            "document id {:?} is not a valid id",
            up.id
        )));
    }
    let adds: usize = up.changes.iter().map(Vec::len).sum();
    if adds > MAX_DOC_UPLOAD_BYTES {
        return Err(SyncError::TooLarge(format!(
            "document {}: this upload adds {adds} bytes of changes; one upload may add at most {MAX_DOC_UPLOAD_BYTES} to a document",
            up.id
        )));
    }
    let mut changes = Vec::with_capacity(up.changes.len());
    for (i, bytes) in up.changes.iter().enumerate() {
        let change = Change::from_bytes(bytes.clone()).map_err(|e| {
            SyncError::Malformed(format!(
                "document {}: change {i} is not an Automerge change: {e}",
                up.id
            ))
        })?;
        if change.actor_id().to_hex_string() != ctx.actor_id {
            return Err(SyncError::NotAllowed(format!(
                "document {}: change {i} is signed by actor {}, not this device's ({}); a device uploads only its own changes",
                up.id,
                change.actor_id(),
                ctx.actor_id
            )));
        }
        changes.push(change);
    }
    Ok(changes)
}

/// The stored document an upload changes (`None` for a new one), after checking the device may
/// change it and it is not quarantined. Said as for a document out of reach whenever it may not.
fn stored_doc(
    tx: &mut dyn Tx,
    policy: &dyn DocPolicy,
    ctx: &DeviceCtx,
    up: &DocUpload,
) -> SyncResult<Option<Automerge>> {
    let existing = tx.doc(&up.id)?;
    let outside = || {
        SyncError::NotAllowed(format!(
            "document {} is outside what this device may change",
            up.id
        ))
    };
    let before = match &existing {
        Some(row) => {
            // Said as for a document out of reach: the answer tells nothing of what it is.
            if row.kind != up.kind.as_str() {
                return Err(outside());
            }
            Some(Automerge::load(&row.data).map_err(|e| {
                SyncError::Internal(anyhow::anyhow!("stored doc {} unreadable: {e}", up.id))
            })?)
        }
        None => None,
    };
    if let Some(b) = &before {
        let facts = policy.facts(up.kind, b)?;
        let scope = doc_scope(tx, &facts)?;
        if !may_write(ctx, up.kind, &scope) {
            return Err(outside());
        }
        not_quarantined(tx, &feed_kind(up.kind), &up.id)?;
    }
    Ok(before)
}

/// The device has what it declared (its heads), so only others' changes are sent back: its
/// confirmed heads are recorded when the merged document holds them all.
fn confirm_declared_heads(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    up: &DocUpload,
    after: &Automerge,
    declared: &[ChangeHash],
) -> SyncResult<()> {
    let known = declared
        .iter()
        .all(|h| after.get_change_by_hash(h).is_some());
    if known && !declared.is_empty() {
        let mut d = up.heads.clone();
        d.sort();
        tx.set_device_doc(
            &ctx.device_id,
            &up.id,
            &DeviceDoc {
                confirmed_heads: Some(d),
                pending_heads: None,
                pending_seq: None,
            },
        )?;
    }
    Ok(())
}

/// Refuses an upload to an item an administrator quarantined (asked only once the device is
/// known to own or reach the item; the administrator's reason stays with the administrator).
fn not_quarantined(tx: &mut dyn Tx, kind: &str, id: &str) -> SyncResult<()> {
    match tx.quarantined(kind, id)? {
        Some(_) => Err(SyncError::Conflict(format!(
            "{kind} {id} is held by the district's administrator; it takes no changes until released"
        ))),
        None => Ok(()),
    }
}

/// Takes a patrol header; `false` when the id is another device's (ignored, with the same
/// answer as a new one: ids are UUIDv7 made on the device, so this is no honest collision, and
/// a different answer would tell whether the id exists).
fn apply_patrol_upload(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    p: &PatrolRecord,
    now_ms: i64,
) -> SyncResult<bool> {
    if p.user_id != ctx.user.id || p.device_id != ctx.device_id {
        return Err(SyncError::NotAllowed(format!(
            "patrol {} belongs to another user or device",
            p.id
        )));
    }
    let id = p.id.to_string();
    let existing = tx.patrol(&id)?;
    let mine = existing.as_ref().filter(|e| e.device_id == ctx.device_id);
    // Checked before anything is said of the id, so a bad header is refused the same whether
    // or not the id is someone else's.
    let kept = crate::validate::check_patrol(tx, ctx, p, mine, now_ms)?;
    if existing.is_some() && mine.is_none() {
        return Ok(false);
    }
    not_quarantined(tx, "patrol", &id)?;
    tx.put_patrol(&kept, now_ms)?;
    tx.set_patrol_fix_claim(&id, crate::validate::claimed_fixes(p))?;
    let street = p.planned_streets.first().cloned();
    let subdistrict_id = match &street {
        Some(s) => tx.street_subdistrict(s)?.flatten(),
        None => None,
    }
    .or_else(|| home_subdistrict(ctx));
    tx.feed_touch(
        "patrol",
        &id,
        &FeedScope {
            street_id: street,
            subdistrict_id,
            owner_id: Some(ctx.user.id.to_string()),
            audience: vec![],
        },
    )?;
    Ok(true)
}

fn apply_record_upload(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    r: &LedgerRecord,
    now_ms: i64,
) -> SyncResult<()> {
    if !RECORD_KINDS.contains(&r.kind.as_str()) {
        return Err(SyncError::Malformed(format!(
            "record kind {:?} is not one of {RECORD_KINDS:?}",
            r.kind
        )));
    }
    if !crate::validate::valid_id(&r.id) {
        return Err(SyncError::Malformed(format!(
            "record id {:?} is not a valid id",
            r.id
        )));
    }
    if r.user_id != ctx.user.id {
        return Err(SyncError::NotAllowed(format!(
            "record {} belongs to another user",
            r.id
        )));
    }
    if r.body.to_string().len() > 64 * 1024 {
        return Err(SyncError::TooLarge(format!(
            "record {} is larger than 64 KiB",
            r.id
        )));
    }
    let existing = tx.record(&r.kind, &r.id)?;
    if let Some(existing) = &existing
        && existing.user_id == r.user_id
    {
        // Immutable: the same id must carry the same record.
        if existing.body != r.body {
            return Err(SyncError::Conflict(format!(
                "record {} already exists with other content; records are immutable",
                r.id
            )));
        }
        return Ok(());
    }
    // Checked before anything is said of the id, so a bad record is refused the same whether
    // or not the id is someone else's.
    let (street, points) = match r.kind.as_str() {
        "pickup" => (
            crate::validate::check_pickup(tx, ctx, r, now_ms)?.street_id,
            None,
        ),
        _ => (
            None,
            Some(crate::validate::check_points(tx, ctx, r, now_ms)?),
        ),
    };
    // Another user's id: ignored with the answer a new record gets (no existence oracle; UUIDv7
    // ids made on devices do not collide honestly).
    if existing.is_some() {
        return Ok(());
    }
    let feed_kind = format!("record:{}", r.kind);
    not_quarantined(tx, &feed_kind, &r.id)?;
    tx.put_record(r)?;
    let subdistrict_id = match &street {
        Some(s) => tx.street_subdistrict(s)?.flatten(),
        None => None,
    }
    .or_else(|| home_subdistrict(ctx));
    let scope = FeedScope {
        street_id: street,
        subdistrict_id,
        owner_id: Some(ctx.user.id.to_string()),
        audience: vec![],
    };
    match points {
        // A redemption past the automatic limit waits out of every feed for a supervisor.
        Some(row) if row.status == crate::storage::PointsStatus::Pending => {
            tx.put_points(&row)?;
            tx.quarantine(&crate::storage::QuarantineRow {
                kind: feed_kind,
                item_id: r.id.clone(),
                reason: format!(
                    "a redemption of {} points past the automatic limit waits for a supervisor's approval",
                    -row.points
                ),
                at_ms: now_ms,
                scope,
            })?;
        }
        Some(row) => {
            tx.put_points(&row)?;
            tx.feed_touch(&feed_kind, &r.id, &scope)?;
        }
        None => {
            tx.feed_touch(&feed_kind, &r.id, &scope)?;
        }
    }
    Ok(())
}

/// Everything the device lacks of a document, or `None` when it has it all.
fn doc_download(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    kind: DocKind,
    id: &str,
    seq: u64,
) -> SyncResult<Option<DocDownload>> {
    let Some(row) = tx.doc(id)? else {
        return Ok(None);
    };
    let state = tx.device_doc(&ctx.device_id, id)?;
    let base = state.confirmed_heads.clone();
    if base.as_ref() == Some(&row.heads) {
        return Ok(None);
    }
    let data = match &base {
        None => row.data.clone(),
        Some(base) => {
            let doc = Automerge::load(&row.data).map_err(|e| {
                SyncError::Internal(anyhow::anyhow!("stored doc {id} unreadable: {e}"))
            })?;
            let have: Vec<ChangeHash> = base.iter().filter_map(|h| h.parse().ok()).collect();
            let changes = doc.get_changes(&have);
            if changes.is_empty() {
                return Ok(None);
            }
            let mut out = Vec::new();
            for c in changes {
                out.extend_from_slice(c.raw_bytes());
            }
            out
        }
    };
    tx.set_device_doc(
        &ctx.device_id,
        id,
        &DeviceDoc {
            confirmed_heads: state.confirmed_heads,
            pending_heads: Some(row.heads.clone()),
            pending_seq: Some(seq),
        },
    )?;
    Ok(Some(DocDownload {
        kind,
        id: id.to_owned(),
        data,
        heads: row.heads,
        blobs: row.blobs,
    }))
}

/// Handles one sync request for an authenticated device.
pub fn sync(
    storage: &dyn Storage,
    policy: &dyn DocPolicy,
    device: &DeviceRow,
    req: &SyncRequest,
    now_ms: i64,
) -> SyncResult<SyncResponse> {
    if req.protocol != PROTOCOL_VERSION {
        return Err(SyncError::ProtocolVersion(format!(
            "sync protocol {} is not supported; this server speaks {PROTOCOL_VERSION}; update the app",
            req.protocol
        )));
    }
    if req.docs.len() > MAX_DOCS_PER_REQUEST {
        return Err(SyncError::TooLarge(format!(
            "{} documents in one request; at most {MAX_DOCS_PER_REQUEST}",
            req.docs.len()
        )));
    }
    let mut tx = storage.write()?;
    let ctx = device_ctx(tx.as_mut(), device)?;
    let mut resp = SyncResponse {
        protocol: PROTOCOL_VERSION,
        server_time_ms: now_ms,
        ..Default::default()
    };

    apply_uploads(tx.as_mut(), policy, &ctx, req, now_ms, &mut resp)?;
    tx.confirm_device_docs(&ctx.device_id, req.cursor)?;
    refetch(tx.as_mut(), &ctx, req, &mut resp)?;
    let (cursor, more) = walk_feed(tx.as_mut(), &ctx, req, &mut resp)?;
    resp.cursor = cursor;
    resp.more = more;
    tx.touch_device(&ctx.device_id, now_ms)?;
    tx.commit()?;
    Ok(resp)
}

/// The request's uploads, checked and stored: documents (their merged heads go back in
/// `accepted`), patrol headers (with the fix mark to upload from) and records.
fn apply_uploads(
    tx: &mut dyn Tx,
    policy: &dyn DocPolicy,
    ctx: &DeviceCtx,
    req: &SyncRequest,
    now_ms: i64,
    resp: &mut SyncResponse,
) -> SyncResult<()> {
    for up in &req.docs {
        resp.accepted
            .push(apply_doc_upload(tx, policy, ctx, up, now_ms)?);
    }
    for p in &req.patrols {
        let next_seq = if apply_patrol_upload(tx, ctx, p, now_ms)? {
            tx.fix_mark(&p.id.to_string())?
        } else {
            0
        };
        resp.fix_marks.push(FixMark {
            patrol_id: p.id,
            next_seq,
        });
    }
    for r in &req.records {
        apply_record_upload(tx, ctx, r, now_ms)?;
    }
    Ok(())
}

/// Documents the device asks for again in full (at most 500 a request), those it may see.
fn refetch(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    req: &SyncRequest,
    resp: &mut SyncResponse,
) -> SyncResult<()> {
    for id in req.refetch.iter().take(500) {
        if !crate::validate::valid_id(id) {
            return Err(SyncError::Malformed(format!(
                "refetch: {id:?} is not a document id"
            )));
        }
        // The feed row says what kind of document it is (an indexed lookup, no document loaded).
        let mut found = None;
        for kind in DocKind::ALL {
            if let Some(row) = tx.feed_row(&feed_kind(kind), id)? {
                found = Some((kind, row));
                break;
            }
        }
        let Some((kind, row)) = found else { continue };
        if !visible(ctx, &row) {
            continue;
        }
        tx.set_device_doc(&ctx.device_id, id, &DeviceDoc::default())?;
        if let Some(d) = doc_download(tx, ctx, kind, id, row.seq)? {
            resp.refetched.push(d);
        }
    }
    Ok(())
}

/// The feed after the request's cursor, the entries this device may see, up to the page size it
/// asked for; returns the new cursor and whether there is more.
fn walk_feed(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    req: &SyncRequest,
    resp: &mut SyncResponse,
) -> SyncResult<(u64, bool)> {
    let want = req.max_entries.map_or(MAX_ENTRIES_PER_RESPONSE, |m| {
        (m as usize).clamp(1, MAX_ENTRIES_PER_RESPONSE)
    });
    let mut cursor = req.cursor;
    let mut sent = 0usize;
    let mut more = false;
    'feed: loop {
        let rows = tx.feed_after(cursor, want * 2)?;
        let exhausted = rows.len() < want * 2;
        for row in rows {
            if sent >= want {
                more = true;
                break 'feed;
            }
            cursor = row.seq;
            if !visible(ctx, &row) {
                continue;
            }
            sent += 1;
            send_feed_item(tx, ctx, &row, resp)?;
        }
        if exhausted {
            break;
        }
    }
    Ok((cursor, more))
}

/// One visible feed entry into the answer: a document, another device's patrol header with its
/// fix mark, another user's record, or a row of reference data.
fn send_feed_item(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    row: &FeedRow,
    resp: &mut SyncResponse,
) -> SyncResult<()> {
    if let Some(kind) = kind_from_feed(&row.kind) {
        if let Some(d) = doc_download(tx, ctx, kind, &row.item_id, row.seq)? {
            resp.docs.push(d);
        }
    } else if row.kind == "patrol" {
        if let Some(p) = tx.patrol(&row.item_id)?
            && p.device_id != ctx.device_id
        {
            resp.fix_marks.push(FixMark {
                patrol_id: p.id,
                next_seq: tx.fix_mark(&row.item_id)?,
            });
            resp.patrols.push(p);
        }
    } else if let Some(kind) = row.kind.strip_prefix("record:") {
        if let Some(r) = tx.record(kind, &row.item_id)?
            && r.user_id != ctx.user.id
        {
            resp.records.push(r);
        }
    } else if let Some(tbl) = row.kind.strip_prefix("ref:")
        && let Some((body, deleted)) = tx.reference(tbl, &row.item_id)?
    {
        resp.reference.push(ReferenceRow {
            table: tbl.to_owned(),
            id: row.item_id.clone(),
            deleted,
            body,
        });
    }
    Ok(())
}
