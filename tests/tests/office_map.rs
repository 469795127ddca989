//! The office map over real HTTP on loopback: after a chief's phone synced a patrol along 八角西街
//! and a problem, a supervisor's map data holds every segment of the district's network with the
//! period's coverage (八角西街 covered, 古城小巷 not), the open problem and the signboard; another
//! subdistrict's supervisor gets none of them; nothing without a session; the page loads only
//! the server's own scripts and styles, and Leaflet is served from the binary.

use std::collections::{HashMap, HashSet};

use patrol_core::Role;
use patrol_model::reference::StreetBundle;
use patrol_server::admin;
use patrol_tests::net::{Device, TWO_STREETS};
use patrol_tests::office::{
    get, report_litter, set_password, signed_in, text_of, walk_bajiao_west,
};
use patrol_tests::public::{Browser, Page, SIGNBOARD_AT, Site};
use serde_json::Value;

fn header(page: &Page, name: &str) -> String {
    page.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The map's GeoJSON as `b` gets it for `query`.
fn map_data(b: &mut Browser, site: &Site, query: &str) -> Value {
    let p = get(b, site, &format!("/office/map/data.geojson{query}"));
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(header(&p, "content-type"), "application/geo+json");
    assert!(
        p.headers.get("content-disposition").is_none(),
        "shown, not downloaded, without download=1"
    );
    let v: Value = serde_json::from_str(&p.body).expect("GeoJSON parses");
    assert_eq!(v["type"], "FeatureCollection");
    v
}

fn of_kind<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter(|f| f["properties"]["kind"] == kind)
        .collect()
}

/// The published network read straight from the server's storage: segment id -> (street
/// name, length).
fn published_segments(site: &Site) -> HashMap<String, (String, f64)> {
    let storage = site.server.storage();
    let mut tx = storage.read().expect("tx");
    let mut out = HashMap::new();
    for (_, body) in tx.references("street").expect("streets") {
        let b: StreetBundle = serde_json::from_value(body).expect("street bundle");
        for s in &b.segments {
            out.insert(
                s.id.to_string(),
                (b.street.name.clone().unwrap_or_default(), s.length_m),
            );
        }
    }
    out
}

/// Length-weighted covered share of a street's segments on the map.
fn covered_share(segments: &[&Value], street: &str) -> f64 {
    let (mut covered, mut total) = (0.0, 0.0);
    for f in segments
        .iter()
        .filter(|f| f["properties"]["street"] == street)
    {
        let len = f["properties"]["length_m"].as_f64().expect("length");
        covered += len * f["properties"]["covered_ratio"].as_f64().expect("ratio");
        total += len;
    }
    assert!(total > 0.0, "{street} has segments on the map");
    covered / total
}

#[test]
fn the_map_shows_the_networks_coverage_the_open_problems_and_the_signboards_in_reach() {
    let site = Site::new();
    let url = site.server.url();
    let storage = site.server.storage();
    set_password(&site, "李强", false);

    // 王芳 walks 八角西街 end to end and reports litter by the signboard.
    let mut chief = Device::enrol(&url, &site.chief_code);
    chief.sync();
    walk_bajiao_west(&mut chief, 11);
    let issue = report_litter(&mut chief);
    let up = chief.sync();
    assert_eq!((up.patrols_up, up.docs_up), (1, 1), "{up:?}");

    // No session: the page sends the browser to sign in, the data is refused.
    let mut anon = Browser::new();
    let p = get(&mut anon, &site, "/office/map");
    assert_eq!(p.status, 303);
    assert_eq!(p.location.as_deref(), Some("/office/login"));
    for path in [
        "/office/map/data.geojson",
        "/office/map/data.geojson?download=1",
    ] {
        let p = get(&mut anon, &site, path);
        assert_eq!(p.status, 401, "{path}");
        assert!(!p.body.contains("FeatureCollection"));
    }

    let mut web = signed_in(&site, "李强");
    let v = map_data(&mut web, &site, "");

    // Every segment of the published network, once, with a coverage in 0..=1.
    let published = published_segments(&site);
    assert!(published.len() >= 2, "{published:?}");
    let segments = of_kind(&v, "segment");
    let on_map: HashSet<String> = segments
        .iter()
        .map(|f| {
            f["properties"]["segment_id"]
                .as_str()
                .expect("id")
                .to_owned()
        })
        .collect();
    assert_eq!(on_map.len(), segments.len(), "no segment twice");
    assert_eq!(
        on_map,
        published.keys().cloned().collect::<HashSet<_>>(),
        "the map holds exactly the published segments"
    );
    for f in &segments {
        let p = &f["properties"];
        let id = p["segment_id"].as_str().expect("id");
        assert_eq!(p["street"], published[id].0.as_str(), "{p}");
        let r = p["covered_ratio"].as_f64().expect("ratio");
        assert!((0.0..=1.0).contains(&r) && r.is_sign_positive(), "{p}");
        assert_eq!(f["geometry"]["type"], "LineString");
        let coords = f["geometry"]["coordinates"].as_array().expect("coords");
        assert!(coords.len() >= 2);
        for c in coords {
            let (lon, lat) = (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"));
            assert!(
                (116.19..116.21).contains(&lon) && (39.90..39.92).contains(&lat),
                "[lon, lat] order: {c}"
            );
        }
    }
    let names: HashSet<&str> = TWO_STREETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        segments
            .iter()
            .map(|f| f["properties"]["street"].as_str().expect("name"))
            .collect::<HashSet<_>>(),
        names
    );
    let walked = covered_share(&segments, "八角西街");
    assert!(walked > 0.8, "the walked street is covered: {walked}");
    assert_eq!(
        covered_share(&segments, "古城小巷"),
        0.0,
        "nobody walked 古城小巷"
    );
    assert!(
        segments
            .iter()
            .filter(|f| f["properties"]["street"] == "八角西街")
            .any(|f| f["properties"]["patrols"] == 1),
        "the patrol counts on the street it walked"
    );

    // The open problem, and the signboard where it was put up.
    let issues = of_kind(&v, "issue");
    assert_eq!(issues.len(), 1, "{issues:?}");
    let p = &issues[0]["properties"];
    assert_eq!(p["id"], issue.to_string());
    assert_eq!(p["status"], "reported");
    assert_eq!(p["status_name"], "待派单");
    assert_eq!(p["overdue"], false);
    assert_eq!(p["url"], format!("/office/issues/{issue}"));
    assert_eq!(p["street"], "八角西街");
    assert!(
        !p["category"].as_str().expect("category").is_empty() && p["category"] != "litter",
        "the category's Chinese name: {p}"
    );
    let at = &issues[0]["geometry"]["coordinates"];
    assert!((at[0].as_f64().expect("lon") - SIGNBOARD_AT.1).abs() < 1e-6);
    assert!((at[1].as_f64().expect("lat") - SIGNBOARD_AT.0).abs() < 1e-6);
    let boards = of_kind(&v, "signboard");
    assert_eq!(boards.len(), 1, "{boards:?}");
    assert_eq!(boards[0]["properties"]["id"], site.signboard.id.to_string());
    assert_eq!(boards[0]["properties"]["street"], "八角西街");
    let at = &boards[0]["geometry"]["coordinates"];
    assert!((at[0].as_f64().expect("lon") - SIGNBOARD_AT.1).abs() < 1e-6);
    assert!((at[1].as_f64().expect("lat") - SIGNBOARD_AT.0).abs() < 1e-6);
    assert_eq!(
        v["features"].as_array().expect("features").len(),
        segments.len() + 2,
        "nothing else on the map"
    );

    // A period before the patrol: the same streets, none covered; the open problem still shows.
    let old = map_data(&mut web, &site, "?period=2020-01");
    let old_segments = of_kind(&old, "segment");
    assert_eq!(old_segments.len(), segments.len());
    assert!(
        old_segments
            .iter()
            .all(|f| f["properties"]["covered_ratio"] == 0.0),
        "coverage is the period's"
    );
    assert_eq!(of_kind(&old, "issue").len(), 1);
    assert_eq!(
        get(&mut web, &site, "/office/map/data.geojson?period=nonsense").status,
        400
    );

    // The page: the summary, and only the server's own scripts and styles.
    let page = get(&mut web, &site, "/office/map");
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(text_of(&page, "map-segments"), segments.len().to_string());
    assert_eq!(text_of(&page, "map-open"), "1");
    assert_eq!(text_of(&page, "map-overdue"), "0");
    assert_eq!(text_of(&page, "map-signboards"), "1");
    let percent: f64 = text_of(&page, "map-covered")
        .trim_end_matches('%')
        .parse()
        .expect("a percentage");
    assert!(percent > 0.0 && percent < 100.0, "{percent}");
    assert!(page.body.contains("data-src=\"/office/map/data.geojson\""));
    assert!(page.body.contains("<script src=\"/assets/leaflet.js"));
    assert!(page.body.contains("<script src=\"/assets/office-map.js"));
    assert!(page.body.contains("href=\"/assets/leaflet.css"));
    assert!(
        !page.body.contains("http://") && !page.body.contains("https://"),
        "nothing from outside the server"
    );
    for tag in page.body.split("<script").skip(1) {
        let tag = &tag[..tag.find('>').expect("tag end")];
        assert!(
            tag.contains(" src=\"/assets/"),
            "only the server's own script files, no inline script: <script{tag}>"
        );
    }
    for tag in page.body.split("<link").skip(1) {
        let tag = &tag[..tag.find('>').expect("tag end")];
        if tag.contains("stylesheet") {
            assert!(tag.contains("href=\"/assets/"), "<link{tag}>");
        }
    }
    assert!(
        !page.body.contains(" style="),
        "no inline style under the CSP"
    );
    let with_period = get(&mut web, &site, "/office/map?period=2020-01");
    assert!(
        with_period
            .body
            .contains("data-src=\"/office/map/data.geojson?period=2020-01\"")
    );
    assert_eq!(text_of(&with_period, "map-covered"), "0.0%");

    // The download: an attachment, written to the audit log.
    let before = storage.read().expect("tx").audit(None, 100).expect("audit");
    assert!(!before.iter().any(|a| a.action == "export.map_geojson"));
    let d = get(&mut web, &site, "/office/map/data.geojson?download=1");
    assert_eq!(d.status, 200);
    assert_eq!(header(&d, "content-type"), "application/geo+json");
    let disposition = header(&d, "content-disposition");
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".geojson"),
        "{disposition}"
    );
    let downloaded: Value = serde_json::from_str(&d.body).expect("GeoJSON");
    assert_eq!(of_kind(&downloaded, "segment").len(), segments.len());
    let after = storage.read().expect("tx").audit(None, 100).expect("audit");
    let logged: Vec<_> = after
        .iter()
        .filter(|a| a.action == "export.map_geojson")
        .collect();
    assert_eq!(logged.len(), 1, "the download is logged once");
    let li = admin::resolve_user(storage.as_ref(), "李强").expect("user");
    assert_eq!(logged[0].user_id, Some(li.id));

    // A supervisor of another subdistrict sees none of 八角街道's streets, problems or boards.
    admin::add_subdistrict(storage.as_ref(), "杨庄街道", None).expect("subdistrict");
    let other = admin::parse_scope(storage.as_ref(), "subdistrict:杨庄街道").expect("scope");
    site.server.add_user("陈静", Role::Supervisor, other);
    set_password(&site, "陈静", false);
    let mut elsewhere = signed_in(&site, "陈静");
    let theirs = map_data(&mut elsewhere, &site, "");
    assert_eq!(
        theirs["features"].as_array().expect("features").len(),
        0,
        "{theirs}"
    );
    let page = get(&mut elsewhere, &site, "/office/map");
    assert_eq!(page.status, 200);
    assert_eq!(text_of(&page, "map-segments"), "0");
    assert_eq!(text_of(&page, "map-open"), "0");
    assert_eq!(text_of(&page, "map-signboards"), "0");
}

#[test]
fn leaflet_and_the_map_script_are_served_from_the_binary() {
    let site = Site::new();
    let mut b = Browser::new();
    for (path, mime, holds) in [
        ("/assets/leaflet.js", "text/javascript", "version=\"1.9.4\""),
        ("/assets/leaflet.css", "text/css", ".leaflet-container"),
        ("/assets/office-map.js", "text/javascript", "L.circleMarker"),
    ] {
        let p = get(&mut b, &site, path);
        assert_eq!(p.status, 200, "{path}");
        assert!(header(&p, "content-type").starts_with(mime), "{path}");
        assert!(p.body.contains(holds), "{path} holds {holds}");
    }
    assert_eq!(get(&mut b, &site, "/assets/leaflet.js.map").status, 404);
}
