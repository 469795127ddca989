//! The district side of the demo: a patrol-server on loopback with the 八角 neighbourhood as its
//! street network, the people of one street team, and their phones enrolled.

use anyhow::Result;
use patrol_core::streets::StreetImportOptions;
use patrol_core::sync::wire::Scope;
use patrol_core::sync::{NativeTransport, NetworkState, NoProgress, SyncPolicy, SyncReport};
use patrol_core::{Role, Store, UserId};
use patrol_server::{ServerConfig, ServerThread, admin, network};
use serde_json::json;

/// The neighbourhood: streets as (name, polyline of (lat, lon)), around the 八角 pilot streets.
pub fn neighbourhood() -> Vec<(&'static str, Vec<(f64, f64)>)> {
    vec![
        (
            "八角西街",
            vec![
                (39.9040, 116.1935),
                (39.9075, 116.1936),
                (39.9110, 116.1937),
            ],
        ),
        (
            "八角北路",
            vec![
                (39.9110, 116.1937),
                (39.9111, 116.1975),
                (39.9112, 116.2010),
            ],
        ),
        (
            "杨庄东街",
            vec![
                (39.9040, 116.1935),
                (39.9041, 116.1972),
                (39.9042, 116.2010),
            ],
        ),
        (
            "古城小巷",
            vec![
                (39.9112, 116.2010),
                (39.9077, 116.2010),
                (39.9042, 116.2010),
            ],
        ),
        // Assigned too, but the chief's walk does not go there: the coverage shows it.
        ("杨庄北巷", vec![(39.9075, 116.1936), (39.9076, 116.1975)]),
    ]
}

/// The neighbourhood as a GeoJSON street file, the way a supervisor imports it.
fn neighbourhood_geojson() -> Vec<u8> {
    let features: Vec<_> = neighbourhood()
        .iter()
        .map(|(name, line)| {
            let coordinates: Vec<_> = line.iter().map(|(lat, lon)| json!([lon, lat])).collect();
            json!({
                "type": "Feature",
                "properties": { "name": name, "subdistrict": "八角街道", "highway": "residential" },
                "geometry": { "type": "LineString", "coordinates": coordinates },
            })
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features })
        .to_string()
        .into_bytes()
}

/// One phone of the demo.
pub struct Phone {
    pub name: &'static str,
    pub user_id: UserId,
    pub store: Store,
    /// The phone's HTTP stack (a phone app hands in its platform's).
    pub transport: NativeTransport,
}

impl Phone {
    /// Syncs on the given network, as the phone's sync worker would.
    pub fn sync(&mut self, network: NetworkState) -> Result<SyncReport> {
        let policy = SyncPolicy::on(network);
        let report =
            patrol_core::sync::sync(&mut self.store, &self.transport, &policy, &NoProgress)?;
        Ok(report)
    }
}

/// The server and the team's phones.
pub struct District {
    pub server: ServerThread,
    /// The server's data folder.
    pub server_data: std::path::PathBuf,
    pub chief: Phone,
    pub steward: Phone,
    pub crew: Phone,
    pub supervisor: Phone,
    pub signboard_link: String,
    pub network_streets: u64,
    pub network_length_m: f64,
}

/// Starts the server in `dir`, administers the district, and enrols the four phones; the
/// chief's store is `chief_db`, the others live in `dir`.
pub fn set_up(
    dir: &std::path::Path,
    chief_db: &std::path::Path,
    listen: std::net::SocketAddr,
) -> Result<District> {
    let data = dir.join("server");
    // The demo's own server on loopback enrols its four phones at once: no enrolment limit.
    let server = ServerThread::spawn(ServerConfig {
        enrol_limit: patrol_server::http::ratelimit::RateLimit::NONE,
        ..ServerConfig::new(data.clone(), listen)
    })?;
    let storage = patrol_server::open_storage(&data)?;
    let s = storage.as_ref();
    admin::set_district(s, "石景山区", Some("110107"))?;
    admin::add_subdistrict(s, "八角街道", Some("110107003"))?;
    let file = dir.join("八角.geojson");
    std::fs::write(&file, neighbourhood_geojson())?;
    let report = network::import_streets(s, &file, &StreetImportOptions::default())?;
    let sub = admin::parse_scope(s, "subdistrict:八角街道")?;
    let people = [
        ("王芳", Role::Chief, Scope::Own),
        ("李大妈", Role::Steward, sub.clone()),
        ("刘师傅", Role::Crew, sub.clone()),
        ("陈主任", Role::Supervisor, sub),
    ];
    let mut phones = Vec::new();
    for (i, (name, role, scope)) in people.into_iter().enumerate() {
        let user = admin::add_user(s, name, role, scope, Some(&server.url()))?;
        match role {
            Role::Chief => {
                for (street, _) in neighbourhood() {
                    admin::assign(s, street, &user.user_id, Role::Chief, true)?;
                }
            }
            Role::Steward => admin::assign(s, "杨庄东街", &user.user_id, Role::Steward, true)?,
            _ => {}
        }
        let path = if i == 0 {
            chief_db.to_path_buf()
        } else {
            dir.join(format!("phone-{i}.db"))
        };
        let mut store = crate::output::open_store(&path)?;
        if store.device()?.is_some() {
            anyhow::bail!(
                "{} already holds a device's data; the demo needs a new store (choose another --db)",
                path.display()
            );
        }
        let transport = NativeTransport::new()?;
        patrol_core::sync::enrol(
            &mut store,
            &transport,
            &NoProgress,
            &server.url(),
            &user.enrol_code,
            SyncPolicy::on(NetworkState::Wifi),
        )?;
        phones.push(Phone {
            name,
            user_id: user.user_id,
            store,
            transport,
        });
    }
    // The district's public address is this loopback server: the signboard's QR link points at it.
    network::set_public_url(s, &server.url())?;
    let sign = network::issue_signboard(s, &data, "八角西街", Some((39.9075, 116.1937)))?;
    let mut it = phones.into_iter();
    let (chief, steward, crew, supervisor) = (
        it.next().expect("four phones"),
        it.next().expect("four phones"),
        it.next().expect("four phones"),
        it.next().expect("four phones"),
    );
    Ok(District {
        server,
        server_data: data,
        chief,
        steward,
        crew,
        supervisor,
        signboard_link: sign.link,
        network_streets: report.streets,
        network_length_m: report.total_length_m,
    })
}

/// A small real JPEG (a gradient), like a phone camera would give, for the demo's photos.
pub fn photo(dir: &std::path::Path, name: &str, tint: u8) -> Result<std::path::PathBuf> {
    let path = dir.join(name);
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 2) as u8, tint])
    });
    img.save_with_format(&path, image::ImageFormat::Jpeg)?;
    Ok(path)
}
