//! The public's door in tests: a district with a signboard on a street with a chief, photos
//! with real EXIF, and a browser-like client (the form cookie kept, forms read from the page).

use std::io::Cursor;

use patrol_core::Role;
use patrol_core::sync::wire::Scope;
use patrol_model::signboard::Signboard;
use patrol_server::{admin, network};

use crate::net::{TWO_STREETS, TestServer};

/// Where the signboard of [`Site`] stands: on 八角西街, 39.9075 N 116.1936 E.
pub const SIGNBOARD_AT: (f64, f64) = (39.9075, 116.1936);

/// A district ready for residents: 八角街道 with [`TWO_STREETS`], 王芳 chief of 八角西街 (not yet
/// enrolled: her code is kept), a signboard on 八角西街, and the server's own address as the
/// district's public address.
#[derive(Debug)]
pub struct Site {
    pub server: TestServer,
    pub signboard: Signboard,
    pub chief_code: String,
    pub supervisor_code: String,
}

impl Site {
    pub fn new() -> Self {
        Self::on(TestServer::start())
    }

    pub fn on(server: TestServer) -> Self {
        let storage = server.storage();
        let s = storage.as_ref();
        admin::add_subdistrict(s, "八角街道", None).expect("subdistrict");
        let file = server.network_file(&TWO_STREETS);
        let options = patrol_core::streets::StreetImportOptions {
            subdistrict: Some("八角街道".into()),
            ..Default::default()
        };
        network::import_streets(s, &file, &options).expect("import");
        let (chief, chief_code) = server.add_user("王芳", Role::Chief, Scope::Own);
        admin::assign(s, "八角西街", &chief, Role::Chief, true).expect("assign");
        let sub = admin::parse_scope(s, "subdistrict:八角街道").expect("scope");
        let (_, supervisor_code) = server.add_user("李强", Role::Supervisor, sub);
        network::set_public_url(s, &server.url()).expect("public url");
        let signboard = network::issue_signboard(s, &server.data, "八角西街", Some(SIGNBOARD_AT))
            .expect("signboard");
        Self {
            server,
            signboard,
            chief_code,
            supervisor_code,
        }
    }

    /// The signboard's page address.
    pub fn page(&self) -> String {
        self.signboard.link.clone()
    }
}

impl Default for Site {
    fn default() -> Self {
        Self::new()
    }
}

/// A JPEG of `w`x`h` pixels whose EXIF says it was taken at `(lat, lon)` by camera `make`.
pub fn jpeg_with_gps(w: u32, h: u32, lat: f64, lon: f64, make: &str) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x + y) % 256) as u8,
        ])
    });
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .expect("encode jpeg");
    let tiff = exif_tiff(lat, lon, make);
    let mut app1 = vec![0xFF, 0xE1];
    let len = u16::try_from(2 + 6 + tiff.len()).expect("small exif");
    app1.extend_from_slice(&len.to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A little-endian TIFF block: IFD0 with Make and a GPS IFD pointer; the GPS IFD with
/// latitude and longitude (north and east) as degrees, minutes, seconds.
fn exif_tiff(lat: f64, lon: f64, make: &str) -> Vec<u8> {
    let mut make_bytes = make.as_bytes().to_vec();
    make_bytes.push(0);
    let ifd0_at = 8u32;
    let ifd0_len = 2 + 2 * 12 + 4;
    let make_at = ifd0_at + ifd0_len;
    let gps_at = make_at + make_bytes.len() as u32;
    let gps_len = 2 + 4 * 12 + 4;
    let lat_at = gps_at + gps_len;
    let lon_at = lat_at + 24;
    let mut t = Vec::new();
    t.extend_from_slice(b"II\x2A\x00");
    t.extend_from_slice(&ifd0_at.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    };
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(
        &mut t,
        0x010F,
        2,
        make_bytes.len() as u32,
        make_at.to_le_bytes(),
    );
    entry(&mut t, 0x8825, 4, 1, gps_at.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&make_bytes);
    t.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, lat_at.to_le_bytes());
    entry(&mut t, 0x0003, 2, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, 5, 3, lon_at.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    for v in [lat, lon] {
        let deg = v.trunc();
        let min = ((v - deg) * 60.0).trunc();
        let sec_milli = (((v - deg) * 60.0 - min) * 60.0 * 1000.0).round();
        for (num, den) in [
            (deg as u32, 1u32),
            (min as u32, 1),
            (sec_milli as u32, 1000),
        ] {
            t.extend_from_slice(&num.to_le_bytes());
            t.extend_from_slice(&den.to_le_bytes());
        }
    }
    t
}

/// A browser as far as the forms go: keeps the form cookie, follows no redirects (tests look at
/// them), and says it prefers Chinese.
#[derive(Debug)]
pub struct Browser {
    pub http: reqwest::blocking::Client,
    pub cookie: Option<String>,
}

/// A response as a test reads it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    /// The value of the first `<input name=NAME value=...>` on the page.
    pub fn input(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\" value=\""))?;
        let rest = &self.body[at + name.len() + 15..];
        Some(rest[..rest.find('"')?].to_owned())
    }
}

impl Browser {
    pub fn new() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            http: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: None,
        }
    }

    fn finish(&mut self, r: reqwest::blocking::Response) -> Page {
        if let Some(c) = r
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
        {
            self.cookie = Some(c.to_owned());
        }
        Page {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            headers: r.headers().clone(),
            body: r.text().unwrap_or_default(),
        }
    }

    fn with_cookie(
        &self,
        b: reqwest::blocking::RequestBuilder,
    ) -> reqwest::blocking::RequestBuilder {
        match &self.cookie {
            Some(c) => b.header(reqwest::header::COOKIE, c),
            None => b,
        }
    }

    pub fn get(&mut self, url: &str) -> Page {
        let b = self.with_cookie(self.http.get(url));
        let r = b.send().expect("GET");
        self.finish(r)
    }

    pub fn get_bytes(&self, url: &str) -> (u16, Vec<u8>) {
        let r = self.with_cookie(self.http.get(url)).send().expect("GET");
        (r.status().as_u16(), r.bytes().expect("body").to_vec())
    }

    pub fn post_multipart(&mut self, url: &str, form: reqwest::blocking::multipart::Form) -> Page {
        let b = self.with_cookie(self.http.post(url)).multipart(form);
        let r = b.send().expect("POST");
        self.finish(r)
    }

    pub fn post_form(&mut self, url: &str, fields: &[(&str, &str)]) -> Page {
        let b = self.with_cookie(self.http.post(url)).form(fields);
        let r = b.send().expect("POST");
        self.finish(r)
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

/// The crew member's camera: where [`close_the_loop`]'s after-photo says it was taken.
pub const AFTER_PHOTO_MAKE: &str = "CrewCam";

/// The issue's loop closed by the district's phones, each a real device syncing with the site's
/// server: the chief's phone receives the resident's issue (with its photos), the subdistrict
/// supervisor dispatches it to city property, a crew member accepts and resolves it with an
/// after-photo (EXIF GPS and camera), and the chief verifies. Returns the after-photo's hash.
pub fn close_the_loop(site: &Site, issue: patrol_core::IssueId, photos: &[String]) -> String {
    use patrol_core::issues::Assignee;
    use patrol_core::{Department, IssueStatus};

    use crate::net::Device;

    let url = site.server.url();
    let mut chief = Device::enrol(&url, &site.chief_code);
    chief.sync();
    let seen = chief
        .store
        .issue(issue)
        .expect("the chief's phone holds the resident's issue");
    assert_eq!(seen.status, IssueStatus::Reported);
    assert_eq!(seen.reporter.role, Role::Public);
    for sha in photos {
        let info = chief
            .store
            .photo(sha)
            .expect("the resident's photo on the chief's phone");
        let bytes = std::fs::read(&info.path).expect("photo file");
        use sha2::Digest;
        assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), *sha);
    }

    let mut supervisor = Device::enrol(&url, &site.supervisor_code);
    supervisor.sync();
    supervisor
        .store
        .assign_issue(issue, Assignee::Department(Department::CityProperty), None)
        .expect("dispatch");
    supervisor.sync();

    let storage = site.server.storage();
    let crew_scope = admin::parse_scope(storage.as_ref(), "subdistrict:八角街道").expect("scope");
    let (_, crew_code) = site.server.add_user("刘师傅", Role::Crew, crew_scope);
    let mut crew = Device::enrol(&url, &crew_code);
    crew.sync();
    crew.store.accept_issue(issue).expect("accept");
    let after = crew.dir.path().join("after.jpg");
    std::fs::write(
        &after,
        jpeg_with_gps(
            320,
            240,
            SIGNBOARD_AT.0,
            SIGNBOARD_AT.1 + 0.0001,
            AFTER_PHOTO_MAKE,
        ),
    )
    .expect("after photo");
    let ap = crew.store.attach_photo(&after).expect("attach");
    crew.store
        .resolve_issue(issue, &ap.sha256, None, Some("已清理".into()))
        .expect("resolve");
    crew.sync();

    chief.sync();
    assert_eq!(
        chief.store.issue(issue).expect("issue").status,
        IssueStatus::Resolved
    );
    chief.store.verify_issue(issue, None).expect("verify");
    chief.sync();
    ap.sha256
}

/// The path of the `patrol-server` binary beside this test's (built by `cargo test
/// --workspace`; built here when a narrower run did not).
pub fn server_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target profile folder");
    let bin = dir.join("patrol-server");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = std::process::Command::new(cargo)
            .args(["build", "-p", "patrol-server", "--bin", "patrol-server"])
            .status()
            .expect("cargo build");
        assert!(ok.success(), "building patrol-server failed");
    }
    bin
}
