//! The district's street network, administered on the server and sent down to devices.
//!
//! The network lives in `network.db` in the data folder: a patrol-core store, so an import here
//! behaves exactly as on a device (segments of bounded length, ids kept across re-imports) and
//! the district's signboard key is kept with it. After each change the affected rows are
//! published as reference rows on the change feed.

use std::path::Path;

use anyhow::{Context, Result, bail};
use patrol_core::streets::{StreetImportOptions, StreetImportReport};
use patrol_core::sync::reference::{DistrictKeyRow, SignboardRow, StreetBundle};
use patrol_core::{Role, Store, StoreConfig};
use serde_json::json;

use crate::storage::{FeedScope, Storage};

fn open_network(data_dir: &Path) -> Result<Store> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("network.db");
    let mut store = Store::open(&path, StoreConfig::default())
        .with_context(|| format!("opening {}", path.display()))?;
    if store.device()?.is_none() {
        store.init_device("patrol-server", Role::Supervisor, None)?;
    }
    Ok(store)
}

/// Imports a street file (`.osm` or `.geojson`) into the district network and publishes every
/// street whose rows changed.
pub fn import_streets(
    storage: &dyn Storage,
    data_dir: &Path,
    file: &Path,
    options: &StreetImportOptions,
) -> Result<StreetImportReport> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut net = open_network(data_dir)?;
    let report = net.import_streets_file(file, &bytes, options)?;
    publish_streets(storage, &net)?;
    Ok(report)
}

/// Publishes the network's streets (only those whose published row differs).
pub fn publish_streets(storage: &dyn Storage, net: &Store) -> Result<usize> {
    let bundles = net.street_bundles()?;
    let mut tx = storage.write()?;
    let subdistricts = tx.subdistricts()?;
    let mut published = 0;
    for b in bundles {
        let id = b.street.id.to_string();
        let body = serde_json::to_value(&b)?;
        if tx
            .reference("street", &id)?
            .is_some_and(|(old, deleted)| old == body && !deleted)
        {
            continue;
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
        published += 1;
    }
    tx.commit()?;
    Ok(published)
}

/// Issues a signboard for a street (by id or name), publishing it and the district's key.
pub fn issue_signboard(
    storage: &dyn Storage,
    data_dir: &Path,
    street: &str,
    position: Option<(f64, f64)>,
) -> Result<patrol_core::signboard::Signboard> {
    let mut net = open_network(data_dir)?;
    let street_id = net.resolve_street(street)?;
    let sign = net.issue_signboard(street_id, position)?;
    let key = net.district_public_key()?;
    let mut tx = storage.write()?;
    let key_row = serde_json::to_value(DistrictKeyRow { public_key: key })?;
    if tx.reference("district_key", "district")?.map(|(b, _)| b) != Some(key_row.clone()) {
        tx.put_reference("district_key", "district", None, &key_row, false)?;
        tx.feed_touch("ref:district_key", "district", &FeedScope::default())?;
    }
    let row = SignboardRow {
        id: sign.id.to_string(),
        street_id: street_id.to_string(),
        lat: sign.lat,
        lon: sign.lon,
        payload: sign.payload.clone(),
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
    Ok(sign)
}

/// The streets of the network as (id, label), for admins.
pub fn list_streets(data_dir: &Path) -> Result<Vec<serde_json::Value>> {
    let net = open_network(data_dir)?;
    if net.street_totals()?.0 == 0 {
        bail!("no streets yet; import them with `admin streets import FILE`");
    }
    Ok(net
        .street_bundles()?
        .into_iter()
        .map(|b| json!({ "id": b.street.id, "name": b.street.name, "label": b.street.label(), "segments": b.segments.len(), "length_m": b.street.length_m }))
        .collect())
}

/// Checks a bundle is well formed (used by tests).
pub fn bundle_ok(b: &StreetBundle) -> bool {
    !b.segments.is_empty() && b.segments.iter().all(|s| s.street_id == b.street.id)
}
