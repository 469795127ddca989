//! What the hostile-device tests share: requests made by hand with an enrolled device's own
//! token, and a small district of two subdistricts (八角: 八角西街 and 杨庄东街; 古城: 古城小巷)
//! to make them in.

use patrol_core::points::{NewPickup, beijing_day};
use patrol_core::streets::StreetImportOptions;
use patrol_core::sync::wire::{PROTOCOL_VERSION, Scope};
use patrol_core::{Datum, Role};
use patrol_server::{admin, network};
use serde_json::{Value, json};

use crate::net::{Device, THREE_STREETS, TestServer};

/// A plain HTTP client (loopback, so TLS is never used, but reqwest needs a crypto provider).
pub fn http() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::new()
}

/// The device's bearer token.
pub fn token(dev: &Device) -> String {
    dev.store.sync_account().unwrap().unwrap().token
}

/// Posts a sync request as `dev`; returns the status and the JSON body.
pub fn post_sync(dev: &Device, body: Value) -> (u16, Value) {
    let r = http()
        .post(format!("{}/v1/sync", dev.url))
        .bearer_auth(token(dev))
        .json(&body)
        .send()
        .expect("sync request");
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

/// Uploads records (a JSON array of `LedgerRecord`s) as `dev`.
pub fn upload_records(dev: &Device, records: Value) -> (u16, Value) {
    post_sync(
        dev,
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "records": records }),
    )
}

/// A server with two subdistricts and three streets.
#[derive(Debug)]
pub struct District {
    pub server: TestServer,
    pub bajiao: String,
    pub gucheng: String,
}

pub fn district() -> District {
    let server = TestServer::start();
    let storage = server.storage();
    let bajiao = admin::add_subdistrict(storage.as_ref(), "八角街道", None).unwrap();
    let gucheng = admin::add_subdistrict(storage.as_ref(), "古城街道", None).unwrap();
    for (streets, sub) in [
        (vec![THREE_STREETS[0], THREE_STREETS[2]], "八角街道"),
        (vec![THREE_STREETS[1]], "古城街道"),
    ] {
        let file = server.network_file(&streets);
        let options = StreetImportOptions {
            subdistrict: Some(sub.into()),
            ..Default::default()
        };
        network::import_streets(storage.as_ref(), &file, &options).unwrap();
    }
    District {
        server,
        bajiao: bajiao.to_string(),
        gucheng: gucheng.to_string(),
    }
}

impl District {
    /// A person's phone, enrolled and synced once (it holds the network, as a phone in use does).
    pub fn person(&self, name: &str, role: Role, scope: Scope, streets: &[&str]) -> Device {
        let (id, code) = self.server.add_user(name, role, scope);
        for s in streets {
            admin::assign(self.server.storage().as_ref(), s, &id, role, true).unwrap();
        }
        let mut dev = Device::enrol(&self.server.url(), &code);
        dev.sync();
        dev
    }

    pub fn street(&self, name: &str) -> String {
        admin::resolve_street(self.server.storage().as_ref(), name).unwrap()
    }

    /// A supervisor of the whole district (points entries and patrols without a street reach
    /// the district).
    pub fn district_supervisor(&self) -> Device {
        self.person("区督查", Role::Supervisor, Scope::District, &[])
    }

    pub fn supervisor(&self, sub: &str) -> Device {
        let scope = Scope::Subdistrict(sub.parse().unwrap());
        self.person("督查", Role::Supervisor, scope, &[])
    }
}

/// A pickup logged on the phone as a steward logs it: its id and the points it earned there.
pub fn steward_pickup(dev: &mut Device, street: &str, bags: u32) -> (String, i64) {
    let out = dev
        .store
        .log_pickup(NewPickup {
            lat: 39.9075,
            lon: 116.1936,
            datum: Datum::Wgs84,
            bags,
            items: 0,
            street_id: Some(street.into()),
            photo_sha256: None,
            note: None,
        })
        .unwrap();
    (out.pickup.id.to_string(), out.points.points)
}

/// A pickup record as the phone uploads it, made by hand.
pub fn pickup_record(
    dev: &Device,
    id: &str,
    at_ms: i64,
    bags: u32,
    street: Option<&str>,
    photo: Option<&str>,
) -> Value {
    let me = dev.store.require_device().unwrap();
    json!({ "kind": "pickup", "id": id, "user_id": me.user_id, "body": {
        "id": id, "user_id": me.user_id, "device_id": me.device_id, "at_ms": at_ms,
        "lat": 39.9075, "lon": 116.1936, "bags": bags, "items": 0, "street_id": street,
        "photo_sha256": photo, "note": null }})
}

/// A points entry as the phone uploads it, made by hand: `kind`'s rule at `version`, for
/// `source` (a redemption is its own source).
pub fn points_record(
    dev: &Device,
    source: &str,
    kind: &str,
    points: Value,
    at_ms: i64,
    version: i64,
) -> Value {
    let me = dev.store.require_device().unwrap().user_id;
    let id = patrol_core::PickupId::new().to_string();
    let source = if kind == "redemption" {
        id.clone()
    } else {
        source.to_owned()
    };
    json!({ "kind": "points", "id": id, "user_id": me, "body": {
        "id": id, "user_id": me, "at_ms": at_ms, "day": beijing_day(at_ms), "kind": kind,
        "source_id": source, "rule_id": kind, "rule_version": version, "points": points, "note": null }})
}
