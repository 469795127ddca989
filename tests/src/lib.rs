//! Helpers shared by the end-to-end tests: where the real data lives, and independent
//! computations to check the core against.

pub mod browser;
pub mod district;
pub mod hostile;
pub mod office;
pub mod public;
mod shared_data;

pub use shared_data::{in_ci, shared_data, shared_data_dir};

/// Haversine distance written out independently of the core (mean Earth radius, as geo uses).
pub fn independent_haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().asin()
}

/// Track segments of a GPX file read with a deliberately naive text scan (no XML library):
/// the (lat, lon) of every `<trkpt` between `<trkseg` and `</trkseg>`, empty segments included.
pub fn naive_gpx_segments(text: &str) -> Vec<Vec<(f64, f64)>> {
    let mut segments = Vec::new();
    for chunk in text.split("<trkseg").skip(1) {
        let body = chunk.split("</trkseg>").next().unwrap_or("");
        let mut points = Vec::new();
        for pt in body.split("<trkpt").skip(1) {
            let tag = &pt[..pt.find('>').unwrap_or(pt.len())];
            let attr = |name: &str| -> f64 {
                let key = format!("{name}=\"");
                let start = tag.find(&key).expect("attribute present") + key.len();
                let end = start + tag[start..].find('"').expect("attribute closed");
                tag[start..end].trim().parse().expect("a number")
            };
            points.push((attr("lat"), attr("lon")));
        }
        segments.push(points);
    }
    segments
}

/// A highway way of an OpenStreetMap file, read with a deliberately naive text scan.
#[derive(Debug, Clone, PartialEq)]
pub struct NaiveWay {
    pub id: String,
    pub name: Option<String>,
    pub highway: String,
    /// (lat, lon) of its nodes, in order.
    pub points: Vec<(f64, f64)>,
}

/// Every way with a `highway` tag in an OpenStreetMap XML text, nodes resolved, found by
/// splitting the text on `<node` and `<way` (no XML library). Assumes attributes in double
/// quotes, as the OSM API writes them.
pub fn naive_osm_highways(text: &str) -> Vec<NaiveWay> {
    fn attr(tag: &str, name: &str) -> Option<String> {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        let end = start + tag[start..].find('"')?;
        Some(tag[start..end].to_owned())
    }
    let mut nodes = std::collections::HashMap::new();
    for chunk in text.split("<node ").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
        let tag = format!(" {tag}");
        if let (Some(id), Some(lat), Some(lon)) =
            (attr(&tag, "id"), attr(&tag, "lat"), attr(&tag, "lon"))
        {
            nodes.insert(
                id,
                (
                    lat.parse::<f64>().expect("lat"),
                    lon.parse::<f64>().expect("lon"),
                ),
            );
        }
    }
    let mut ways = Vec::new();
    for chunk in text.split("<way ").skip(1) {
        let body = chunk.split("</way>").next().unwrap_or("");
        let head = format!(" {}", &body[..body.find('>').unwrap_or(body.len())]);
        let mut highway = None;
        let mut name = None;
        for t in body.split("<tag ").skip(1) {
            let t = format!(" {}", &t[..t.find('>').unwrap_or(t.len())]);
            match attr(&t, "k").as_deref() {
                Some("highway") => highway = attr(&t, "v"),
                Some("name") => name = attr(&t, "v"),
                _ => {}
            }
        }
        let Some(highway) = highway else { continue };
        let points = body
            .split("<nd ")
            .skip(1)
            .filter_map(|nd| {
                attr(
                    &format!(" {}", &nd[..nd.find('>').unwrap_or(nd.len())]),
                    "ref",
                )
            })
            .filter_map(|r| nodes.get(&r).copied())
            .collect();
        ways.push(NaiveWay {
            id: attr(&head, "id").unwrap_or_default(),
            name,
            highway,
            points,
        });
    }
    ways
}

/// Independent Haversine length of a (lat, lon) polyline.
pub fn independent_length_m(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| independent_haversine_m(w[0].0, w[0].1, w[1].0, w[1].1))
        .sum()
}

pub mod net {
    //! A real server on loopback and devices that enrol and sync with it, for end-to-end tests.

    use std::path::{Path, PathBuf};

    use patrol_core::sync::wire::Scope;
    use patrol_core::sync::{NetworkState, NoProgress, SyncPolicy, SyncReport};
    use patrol_core::{Role, Store, StoreConfig, UserId};
    use patrol_server::http::ratelimit::RateLimit;
    use patrol_server::{ServerConfig, ServerThread, admin};

    /// A patrol-server on a free loopback port with its own data folder, and its metrics on
    /// another.
    #[derive(Debug)]
    pub struct TestServer {
        pub data: PathBuf,
        pub server: Option<ServerThread>,
        /// The enrolment limit it runs with: tests enrol dozens of phones from 127.0.0.1 in a
        /// second, so [`TestServer::start`] lifts it ([`RateLimit::NONE`]);
        /// [`TestServer::start_with_enrol_limit`] sets one.
        pub enrol_limit: RateLimit,
        /// The signboard pages' limits per address and per signboard: lifted too unless
        /// [`TestServer::start_with_public_limits`] sets them.
        pub public_limits: (RateLimit, RateLimit),
        _dir: Option<tempfile::TempDir>,
    }

    impl TestServer {
        pub fn start() -> Self {
            Self::start_with_enrol_limit(RateLimit::NONE)
        }

        pub fn start_with_enrol_limit(enrol_limit: RateLimit) -> Self {
            Self::start_with_limits(enrol_limit, (RateLimit::NONE, RateLimit::NONE))
        }

        /// A server whose signboard-page posts are limited per address and per signboard.
        pub fn start_with_public_limits(per_address: RateLimit, per_signboard: RateLimit) -> Self {
            Self::start_with_limits(RateLimit::NONE, (per_address, per_signboard))
        }

        fn start_with_limits(
            enrol_limit: RateLimit,
            public_limits: (RateLimit, RateLimit),
        ) -> Self {
            let dir = tempfile::tempdir().expect("tempdir");
            let data = dir.path().join("server");
            let mut s = Self {
                data,
                server: None,
                enrol_limit,
                public_limits,
                _dir: Some(dir),
            };
            s.restart();
            s
        }

        /// Starts (again) on a new port with the same data.
        pub fn restart(&mut self) {
            self.restart_on("127.0.0.1:0".parse().expect("addr"));
        }

        /// Stops and starts again on the same address (a server restart mid-sync).
        pub fn restart_same_port(&mut self) {
            let addr = self.server.as_ref().expect("server running").addr;
            self.restart_on(addr);
        }

        fn restart_on(&mut self, listen: std::net::SocketAddr) {
            if let Some(s) = self.server.take() {
                s.stop();
            }
            let mut tries = 0;
            loop {
                let cfg = ServerConfig {
                    metrics_listen: Some("127.0.0.1:0".parse().expect("addr")),
                    enrol_limit: self.enrol_limit,
                    public_limit: self.public_limits.0,
                    signboard_limit: self.public_limits.1,
                    page_limit: RateLimit::NONE,
                    ..ServerConfig::new(self.data.clone(), listen)
                };
                match ServerThread::spawn(cfg) {
                    Ok(s) => {
                        self.server = Some(s);
                        return;
                    }
                    Err(e) if tries < 50 => {
                        tries += 1;
                        let _ = e;
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                    Err(e) => panic!("server does not start again on {listen}: {e}"),
                }
            }
        }

        pub fn stop(&mut self) {
            if let Some(s) = self.server.take() {
                s.stop();
            }
        }

        pub fn url(&self) -> String {
            self.server.as_ref().expect("server running").url()
        }

        /// The metrics listener's base URL (`/metrics` is there, not on [`Self::url`]).
        pub fn metrics_url(&self) -> String {
            let addr = self
                .server
                .as_ref()
                .expect("server running")
                .metrics_addr
                .expect("metrics listener");
            format!("http://{addr}")
        }

        /// Adds a user directly through the admin operations; returns (user id, enrolment code).
        pub fn add_user(&self, name: &str, role: Role, scope: Scope) -> (UserId, String) {
            let storage = patrol_server::open_storage(&self.data).expect("storage");
            let u = admin::add_user(storage.as_ref(), name, role, scope, None).expect("add user");
            (u.user_id, u.enrol_code)
        }

        pub fn storage(&self) -> std::sync::Arc<dyn patrol_server::storage::Storage> {
            patrol_server::open_storage(&self.data).expect("storage")
        }

        /// Writes streets (a name and two ends, `[lon, lat]`) as a GeoJSON file in the server's
        /// data folder, the file `patrol-server admin streets import` takes; returns its path.
        pub fn network_file(&self, streets: &[(&str, [[f64; 2]; 2])]) -> PathBuf {
            let features: Vec<serde_json::Value> = streets
                .iter()
                .map(|(name, ends)| {
                    serde_json::json!({
                        "type": "Feature", "properties": { "name": name },
                        "geometry": { "type": "LineString", "coordinates": ends }
                    })
                })
                .collect();
            let geojson = serde_json::json!({ "type": "FeatureCollection", "features": features });
            let path = self.data.join("net.geojson");
            std::fs::create_dir_all(&self.data).expect("server data dir");
            std::fs::write(&path, serde_json::to_vec(&geojson).expect("json"))
                .expect("write network");
            path
        }

        /// Imports streets (a name and two ends, `[lon, lat]`) as the district's network, as
        /// `patrol-server admin streets import` does with a GeoJSON file.
        pub fn import_streets(&self, streets: &[(&str, [[f64; 2]; 2])]) {
            patrol_server::network::import_streets(
                self.storage().as_ref(),
                &self.network_file(streets),
                &Default::default(),
            )
            .expect("import streets");
        }
    }

    /// Two parallel streets 650 m apart: 八角西街 and 古城小巷.
    pub const TWO_STREETS: [(&str, [[f64; 2]; 2]); 2] = [
        ("八角西街", [[116.1935, 39.9040], [116.1937, 39.9110]]),
        ("古城小巷", [[116.2010, 39.9040], [116.2010, 39.9110]]),
    ];

    /// [`TWO_STREETS`] and 杨庄东街 joining their southern ends.
    pub const THREE_STREETS: [(&str, [[f64; 2]; 2]); 3] = [
        TWO_STREETS[0],
        TWO_STREETS[1],
        ("杨庄东街", [[116.1935, 39.9040], [116.2010, 39.9040]]),
    ];

    /// A phone: a store in its own folder, enrolled with a server.
    #[derive(Debug)]
    pub struct Device {
        pub store: Store,
        pub dir: tempfile::TempDir,
        pub url: String,
    }

    /// The HTTP stack of a device in these tests (a phone app hands in its platform's). Made
    /// per call: cheap next to the sync it carries.
    fn transport() -> patrol_core::sync::NativeTransport {
        patrol_core::sync::NativeTransport::new().expect("HTTP client")
    }

    impl Device {
        pub fn path(&self) -> &Path {
            self.dir.path()
        }

        pub fn enrol(url: &str, code: &str) -> Self {
            Self::enrol_with_clock(url, code, std::sync::Arc::new(patrol_core::SystemClock))
        }

        /// A phone whose wall clock is `clock` (one set wrong, as phones' clocks are).
        pub fn enrol_with_clock(
            url: &str,
            code: &str,
            clock: std::sync::Arc<dyn patrol_core::Clock>,
        ) -> Self {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut store =
                Store::open_with_clock(dir.path().join("phone.db"), StoreConfig::default(), clock)
                    .expect("store");
            patrol_core::sync::enrol(
                &mut store,
                &transport(),
                &NoProgress,
                url,
                code,
                SyncPolicy::on(NetworkState::Wifi),
            )
            .expect("enrol");
            Self {
                store,
                dir,
                url: url.to_owned(),
            }
        }

        pub fn sync_with(&mut self, policy: SyncPolicy) -> patrol_core::Result<SyncReport> {
            patrol_core::sync::sync(&mut self.store, &transport(), &policy, &NoProgress)
        }

        pub fn sync(&mut self) -> SyncReport {
            let policy = SyncPolicy {
                max_attempts: 3,
                ..SyncPolicy::on(NetworkState::Wifi)
            };
            self.sync_with(policy).expect("sync")
        }

        /// Points this device at another server address (after a restart on a new port).
        pub fn repoint(&mut self, url: &str) {
            self.store
                .connection()
                .execute("UPDATE sync_account SET server_url = ?1", [url])
                .expect("repoint");
            self.url = url.to_owned();
        }
    }
}

pub mod proxy {
    //! A TCP proxy that misbehaves like a bad mobile network: it cuts connections after a random
    //! number of bytes (either direction), delays traffic, and replays whole request streams to
    //! the server a second time. For fault tests of the sync protocol.

    use std::io::{Read, Write};
    use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use patrol_model::sim::SimRng;

    #[derive(Debug, Clone)]
    pub struct Faults {
        /// Chance a connection is cut somewhere in its first `cut_within` bytes.
        pub cut_probability: f64,
        pub cut_within: u64,
        /// Largest delay added per chunk forwarded.
        pub max_delay_ms: u64,
        /// Chance a finished connection's request bytes are sent to the server again.
        pub replay_probability: f64,
    }

    #[derive(Debug)]
    pub struct FaultProxy {
        pub addr: SocketAddr,
        stop: Arc<AtomicBool>,
        pub cuts: Arc<AtomicU64>,
        pub replays: Arc<AtomicU64>,
    }

    impl FaultProxy {
        pub fn start(upstream: SocketAddr, faults: Faults, seed: u64) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
            let addr = listener.local_addr().expect("addr");
            listener.set_nonblocking(true).expect("nonblocking");
            let stop = Arc::new(AtomicBool::new(false));
            let cuts = Arc::new(AtomicU64::new(0));
            let replays = Arc::new(AtomicU64::new(0));
            let rng = Arc::new(Mutex::new(SimRng::new(seed)));
            let (stop2, cuts2, replays2) = (stop.clone(), cuts.clone(), replays.clone());
            std::thread::spawn(move || {
                while !stop2.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let _ = client.set_nonblocking(false);
                            let (f, r, c, rp) =
                                (faults.clone(), rng.clone(), cuts2.clone(), replays2.clone());
                            std::thread::spawn(move || handle(client, upstream, f, r, c, rp));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            });
            Self {
                addr,
                stop,
                cuts,
                replays,
            }
        }

        pub fn url(&self) -> String {
            format!("http://{}", self.addr)
        }
    }

    impl Drop for FaultProxy {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    fn handle(
        client: TcpStream,
        upstream: SocketAddr,
        faults: Faults,
        rng: Arc<Mutex<SimRng>>,
        cuts: Arc<AtomicU64>,
        replays: Arc<AtomicU64>,
    ) {
        let Ok(server) = TcpStream::connect(upstream) else {
            return;
        };
        let (cut_up, cut_down, replay, seed) = {
            let mut r = rng.lock().unwrap_or_else(|e| e.into_inner());
            let cut = |r: &mut SimRng| {
                (r.uniform() < faults.cut_probability)
                    .then(|| (r.uniform() * faults.cut_within as f64) as u64)
            };
            let up = cut(&mut r);
            let down = cut(&mut r);
            (
                up,
                down,
                r.uniform() < faults.replay_probability,
                r.next_u64(),
            )
        };
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let (c2, s2) = (
            client.try_clone().expect("clone"),
            server.try_clone().expect("clone"),
        );
        let rec = recorded.clone();
        let f2 = faults.clone();
        let cuts_up = cuts.clone();
        let up = std::thread::spawn(move || {
            pump(c2, s2, cut_up, f2.max_delay_ms, seed, Some(rec), cuts_up)
        });
        pump(
            server,
            client,
            cut_down,
            faults.max_delay_ms,
            seed ^ 1,
            None,
            cuts,
        );
        let _ = up.join();
        if replay {
            let bytes = recorded.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if !bytes.is_empty()
                && let Ok(mut again) = TcpStream::connect(upstream)
            {
                replays.fetch_add(1, Ordering::Relaxed);
                let _ = again.write_all(&bytes);
                let _ = again.shutdown(Shutdown::Write);
                let _ = again.set_read_timeout(Some(Duration::from_secs(5)));
                let mut sink = Vec::new();
                let _ = again.read_to_end(&mut sink);
            }
        }
    }

    fn pump(
        mut from: TcpStream,
        mut to: TcpStream,
        cut_after: Option<u64>,
        max_delay_ms: u64,
        seed: u64,
        record: Option<Arc<Mutex<Vec<u8>>>>,
        cuts: Arc<AtomicU64>,
    ) {
        let mut rng = SimRng::new(seed);
        let mut buf = [0u8; 16 * 1024];
        let mut total = 0u64;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut chunk = &buf[..n];
            let mut cut = false;
            if let Some(limit) = cut_after
                && total + n as u64 > limit
            {
                chunk = &buf[..(limit - total.min(limit)) as usize];
                cut = true;
            }
            if max_delay_ms > 0 {
                std::thread::sleep(Duration::from_millis(
                    (rng.uniform() * max_delay_ms as f64) as u64,
                ));
            }
            if let Some(r) = &record {
                r.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(chunk);
            }
            if to.write_all(chunk).is_err() {
                break;
            }
            total += chunk.len() as u64;
            if cut {
                cuts.fetch_add(1, Ordering::Relaxed);
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    }
}
