//! The district's street network and signboards, administered on the server and sent down to
//! devices.
//!
//! The network is what the server publishes: one `street` reference row per street (a
//! [`StreetBundle`] with its key and segments). An import reads the file and plans it over those
//! rows with the model's own import ([`plan_street`]: segments of bounded length, ids kept by
//! key and geometry across re-imports), then publishes every street whose row changed, in one
//! transaction. Signboards are signed with the district's key, kept in the server's storage.
//!
//! Servers before this one kept the network and the key in a phone store beside the data
//! (`network.db`); its streets were published as the same rows, and the first signboard issued
//! now moves its key here, so codes already printed stay valid.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use patrol_model::domain::{SignboardId, StreetId};
use patrol_model::geodesy::check_coordinates;
use patrol_model::reference::SiteRow;
use patrol_model::reference::{DistrictKeyRow, SignboardRow, StreetBundle};
use patrol_model::signboard::Signboard;
use patrol_model::signboard::{check_public_url, encode_code, link_for};
use patrol_model::spatial::IndexedNetwork;
use patrol_model::streets::{
    PlannedStreet, Segment, StoredStreet, Street, StreetImportOptions, StreetImportReport,
    StreetNetwork, StreetsError, from_e7, plan_street, read_street_file, to_e7,
};
use rusqlite::OptionalExtension;
use serde_json::json;

use crate::storage::{FeedScope, Storage, Tx};

/// Imports a street file (`.osm` or `.geojson`) into the district network and publishes every
/// street whose row changed. All or nothing: a bad file publishes nothing.
pub fn import_streets(
    storage: &dyn Storage,
    file: &Path,
    options: &StreetImportOptions,
) -> Result<StreetImportReport> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let draft = read_street_file(file, &bytes, options)?;
    if draft.streets.is_empty() {
        return Err(StreetsError::NoLineFeatures.into());
    }
    let mut tx = storage.write()?;
    let mut stored: HashMap<String, StreetBundle> = published_streets(tx.as_mut())?
        .into_iter()
        .map(|b| (b.key.clone(), b))
        .collect();
    let subdistricts = tx.subdistricts()?;
    let mut report = StreetImportReport::start(&draft, options);
    for s in &draft.streets {
        let planned = plan_street(
            s,
            options.max_segment_m,
            stored.remove(&s.key).map(stored_street),
        );
        publish_street(tx.as_mut(), &bundle_of(&planned), &subdistricts)?;
        report.count(&planned);
    }
    let version = network_version(tx.as_mut())?.saturating_add(1);
    tx.put_site_setting(NETWORK_VERSION, version.to_string().as_bytes())?;
    tx.commit()?;
    Ok(report)
}

/// The published street network with its R-tree, or `None` before one is imported: what the
/// server's reports and its coverage measurer match patrols against.
pub fn indexed(tx: &mut dyn Tx) -> Result<Option<IndexedNetwork>> {
    let mut streets = Vec::new();
    let mut segments = Vec::new();
    for (id, body) in tx.references("street")? {
        let bundle: StreetBundle =
            serde_json::from_value(body).with_context(|| format!("street {id}"))?;
        streets.push(bundle.street);
        segments.extend(bundle.segments);
    }
    if streets.is_empty() {
        return Ok(None);
    }
    Ok(Some(IndexedNetwork::build(StreetNetwork::new(
        streets, segments,
    ))))
}

/// Where the street network's version is kept.
const NETWORK_VERSION: &str = "network_version";

/// The street network's version: it moves with every import, so what was measured against an
/// older network (a patrol's kept coverage) is measured again.
pub fn network_version(tx: &mut dyn Tx) -> Result<i64> {
    Ok(tx
        .site_setting(NETWORK_VERSION)?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// The street rows the server publishes, parsed.
fn published_streets(tx: &mut dyn Tx) -> Result<Vec<StreetBundle>> {
    tx.references("street")?
        .into_iter()
        .map(|(id, body)| {
            serde_json::from_value(body)
                .with_context(|| format!("the published street {id} is not a street bundle"))
        })
        .collect()
}

/// What a published street holds, for a re-import to keep its ids.
fn stored_street(b: StreetBundle) -> StoredStreet {
    StoredStreet {
        id: b.street.id,
        segments: b
            .segments
            .into_iter()
            .map(|s| {
                let points = s.points.iter().map(|&(lat, lon)| to_e7(lat, lon)).collect();
                (s.ordinal, points, s.id)
            })
            .collect(),
    }
}

/// The published row of a planned street.
fn bundle_of(p: &PlannedStreet<'_>) -> StreetBundle {
    StreetBundle {
        street: Street {
            id: p.id,
            name: p.draft.name.clone(),
            subdistrict: p.draft.subdistrict.clone(),
            class: p.class.clone(),
            length_m: p.length_m,
        },
        key: p.draft.key.clone(),
        segments: p
            .segments
            .iter()
            .map(|s| Segment {
                id: s.id,
                street_id: p.id,
                ordinal: s.ordinal,
                points: s.points.iter().map(|&e| from_e7(e)).collect(),
                length_m: s.length_m,
            })
            .collect(),
    }
}

/// Publishes one street unless its row is already the same.
fn publish_street(
    tx: &mut dyn Tx,
    b: &StreetBundle,
    subdistricts: &[(String, String, Option<String>)],
) -> Result<bool> {
    let id = b.street.id.to_string();
    let body = serde_json::to_value(b)?;
    if tx
        .reference("street", &id)?
        .is_some_and(|(old, deleted)| old == body && !deleted)
    {
        return Ok(false);
    }
    let sub = b
        .street
        .subdistrict
        .as_deref()
        .and_then(|name| {
            subdistricts.iter().find(|(_, n, _)| {
                n == name || n.trim_end_matches("街道") == name.trim_end_matches("街道")
            })
        })
        .map(|(id, _, _)| id.clone());
    tx.put_street(&id, &b.street.label(), sub.as_deref())?;
    tx.put_reference("street", &id, None, &body, false)?;
    // Every device of the staff gets the whole network: matching needs the streets around
    // one's own, and it is map data, not personal data.
    tx.feed_touch(
        "ref:street",
        &id,
        &FeedScope {
            street_id: None,
            subdistrict_id: None,
            owner_id: None,
            audience: vec![],
        },
    )?;
    Ok(true)
}

/// The street a name or id names: an id of a published street, or a name exactly one street
/// has.
fn resolve_street(tx: &mut dyn Tx, street: &str) -> Result<StreetId> {
    if let Ok(id) = street.parse::<StreetId>()
        && tx.reference("street", &id.to_string())?.is_some()
    {
        return Ok(id);
    }
    let mut ids = tx.streets_named(street)?;
    match ids.len() {
        0 => Err(StreetsError::UnknownStreet(street.to_owned()).into()),
        1 => Ok(ids.remove(0).parse()?),
        count => Err(StreetsError::AmbiguousStreet {
            name: street.to_owned(),
            count,
            ids: ids.join(", "),
        }
        .into()),
    }
}

/// The district's signing key: the server's own, else the one an earlier server kept in
/// `network.db` (moved here), else a new one.
fn district_key(tx: &mut dyn Tx, data_dir: &Path, now_ms: i64) -> Result<SigningKey> {
    let secret = match tx.district_secret_key()? {
        Some(secret) => secret,
        None => {
            let secret = match key_of_earlier_server(&data_dir.join("network.db"))? {
                Some(secret) => secret,
                None => {
                    let mut seed = [0u8; 32];
                    getrandom::fill(&mut seed)
                        .map_err(|e| anyhow!("no system randomness for a district key: {e}"))?;
                    seed
                }
            };
            let key = SigningKey::from_bytes(&secret);
            tx.put_district_key(&key.verifying_key().to_bytes(), &secret, now_ms)?;
            secret
        }
    };
    Ok(SigningKey::from_bytes(&secret))
}

/// The signing key an earlier server kept in its phone store, if that file is there.
fn key_of_earlier_server(path: &Path) -> Result<Option<[u8; 32]>> {
    if !path.exists() {
        return Ok(None);
    }
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {} for the district key", path.display()))?;
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'district_key')",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(None);
    }
    let secret: Option<Vec<u8>> = conn
        .query_row(
            "SELECT secret_key FROM district_key WHERE secret_key IS NOT NULL ORDER BY created_at_ms DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    match secret {
        None => Ok(None),
        Some(s) => Ok(Some(s.try_into().map_err(|_| {
            anyhow!("the district key in {} is damaged", path.display())
        })?)),
    }
}

/// Sets the district's public address (where residents' phones reach this server; the printed
/// signboard links point under it) and publishes it to every device. Setting the same address
/// again changes nothing. Returns it as stored (no trailing slash).
pub fn set_public_url(storage: &dyn Storage, url: &str) -> Result<String> {
    let url = check_public_url(url)?;
    let row = serde_json::to_value(SiteRow {
        public_url: url.clone(),
    })?;
    let mut tx = storage.write()?;
    if tx.reference(SiteRow::TABLE, SiteRow::ID)?.map(|(b, _)| b) != Some(row.clone()) {
        tx.put_reference(SiteRow::TABLE, SiteRow::ID, None, &row, false)?;
        tx.feed_touch("ref:site", SiteRow::ID, &FeedScope::default())?;
        tx.commit()?;
    }
    Ok(url)
}

/// The district's public address, when one is set.
pub fn public_url(tx: &mut dyn Tx) -> Result<Option<String>> {
    Ok(match tx.reference(SiteRow::TABLE, SiteRow::ID)? {
        Some((body, false)) => Some(serde_json::from_value::<SiteRow>(body)?.public_url),
        _ => None,
    })
}

/// Issues a signboard for a street (by id or name), publishing it and the district's key.
pub fn issue_signboard(
    storage: &dyn Storage,
    data_dir: &Path,
    street: &str,
    position: Option<(f64, f64)>,
) -> Result<Signboard> {
    if let Some((lat, lon)) = position {
        check_coordinates(lat, lon).map_err(|why| anyhow!("signboard position {why}"))?;
    }
    let now_ms = crate::admin::now_ms();
    let mut tx = storage.write()?;
    let street_id = resolve_street(tx.as_mut(), street)?;
    let key = district_key(tx.as_mut(), data_dir, now_ms)?;
    let base = public_url(tx.as_mut())?;
    let id = SignboardId::new();
    let payload = encode_code(&key, id, street_id);
    let key_row = serde_json::to_value(DistrictKeyRow {
        public_key: URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
    })?;
    if tx.reference("district_key", "district")?.map(|(b, _)| b) != Some(key_row.clone()) {
        tx.put_reference("district_key", "district", None, &key_row, false)?;
        tx.feed_touch("ref:district_key", "district", &FeedScope::default())?;
    }
    let row = SignboardRow {
        id: id.to_string(),
        street_id: street_id.to_string(),
        lat: position.map(|p| p.0),
        lon: position.map(|p| p.1),
        payload: payload.clone(),
    };
    tx.put_reference(
        "signboard",
        &row.id,
        Some(&row.street_id),
        &serde_json::to_value(&row)?,
        false,
    )?;
    tx.feed_touch("ref:signboard", &row.id, &FeedScope::default())?;
    tx.commit()?;
    Ok(Signboard {
        id,
        street_id,
        lat: position.map(|p| p.0),
        lon: position.map(|p| p.1),
        link: link_for(base.as_deref(), &payload),
        payload,
        created_at_ms: now_ms,
    })
}

/// The streets of the network as (id, name, label, segments, length), for admins.
pub fn list_streets(storage: &dyn Storage) -> Result<Vec<serde_json::Value>> {
    let mut tx = storage.read()?;
    let streets = published_streets(tx.as_mut())?;
    if streets.is_empty() {
        bail!("no streets yet; import them with `admin streets import FILE`");
    }
    Ok(streets
        .into_iter()
        .map(|b| json!({ "id": b.street.id, "name": b.street.name, "label": b.street.label(), "segments": b.segments.len(), "length_m": b.street.length_m }))
        .collect())
}

/// Checks a bundle is well formed (used by tests).
pub fn bundle_ok(b: &StreetBundle) -> bool {
    !b.segments.is_empty() && b.segments.iter().all(|s| s.street_id == b.street.id)
}
