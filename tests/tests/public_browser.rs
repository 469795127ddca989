//! The signboard pages in real headless Chromium, as a resident's phone shows them: the page fits
//! a 390 px and a 360 px wide phone and fetches nothing from anywhere else; the server's error
//! for a form sent without a category shows and keeps what was typed; a report with a real
//! camera photo (EXIF GPS) goes through to a receipt, which follows the loop the district's
//! phones close to "verified" and shows the after-photo without EXIF; a steward application is
//! approved with the real `patrol-server admin applications approve` and the code its page then
//! shows enrols a phone. `public_pages.rs` checks the same pages over plain HTTP.
//!
//! The browser part is `tests/browser/public.mjs`, run with node once per step (`report`,
//! `receipt`, `steward`, `application`); it prints what it saw as one JSON line and the
//! assertions are here. It needs:
//!   - Chromium at /usr/bin/chromium (Debian: `apt-get install chromium`; `PATROL_CHROMIUM`
//!     names another), and for the screenshots a CJK font and Chromium's own words in Chinese
//!     (Debian: `fonts-noto-cjk`, `chromium-l10n`);
//!   - node, and npm `playwright-core` at the version pinned in tests/browser/package.json,
//!     installed outside the repository:
//!     `npm install --prefix ~/.cache/streetpatrol/browser playwright-core@VERSION`
//!     (`$PATROL_TOOLS_DIR/browser` when set; `PATROL_BROWSER_MODULES` names another
//!     node_modules folder).
//!
//! `bash .ci/run` installs all of it. Without it each test prints SKIP, unless `CI` is set or
//! `PATROL_REQUIRE_BROWSER=1` (set by `.ci/run`), which make it fail.
//!
//! The report test writes the pages' screenshots to docs/images/public-*.png (phone 390 px at 2x,
//! desktop 1440 px), which are committed. On a failure the pages open then are saved under
//! `target/tmp/`.

use std::process::Command;

use patrol_tests::browser::{Tools, assert_only_the_server, assert_png_width, shots_dir, str_of};
use patrol_tests::public::{
    AFTER_PHOTO_MAKE, SIGNBOARD_AT, Site, close_the_loop, jpeg_with_gps, server_binary,
};
use serde_json::{Value, json};

/// Runs one mode of tests/browser/public.mjs and returns what it saw.
fn browse(tools: &Tools, mode: &str, args: Value) -> Value {
    patrol_tests::browser::browse(tools, "public.mjs", mode, args)
}

fn tools_or_skip(test: &str) -> Option<Tools> {
    patrol_tests::browser::tools_or_skip(test)
}

/// The server's origin (`http://127.0.0.1:PORT`).
fn origin(site: &Site) -> String {
    site.server.url().trim_end_matches('/').to_owned()
}

/// No page scrolls sideways at any width it was measured at.
fn assert_fits(widths: &Value, what: &str) {
    let map = widths.as_object().expect("widths");
    assert!(!map.is_empty(), "{what}: no width measured");
    for (w, m) in map {
        let scroll = m["scroll_width"].as_f64().expect("scroll width");
        let inner = m["inner_width"].as_f64().expect("inner width");
        assert!(
            scroll <= inner,
            "{what} scrolls sideways at {w} px: the document is {scroll} px wide in a {inner} px window; widest: {}",
            m["widest"]
        );
    }
}

#[test]
fn a_resident_reports_through_chromium_and_the_receipt_follows_the_loop() {
    let Some(tools) = tools_or_skip("a_resident_reports_through_chromium") else {
        return;
    };
    let started = std::time::Instant::now();
    let site = Site::new();
    let shots = shots_dir();
    // Taken 30 m from the signboard, by a phone camera that writes EXIF GPS.
    let photo = jpeg_with_gps(
        1024,
        768,
        SIGNBOARD_AT.0 + 0.0003,
        SIGNBOARD_AT.1,
        "ResidentPhone",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let photo_file = dir.path().join("IMG_0001.jpg");
    std::fs::write(&photo_file, &photo).expect("photo");
    let description = "路口垃圾桶旁堆了很多装修垃圾，已经好几天了";

    let seen = browse(
        &tools,
        "report",
        json!({
            "url": site.page(),
            "origin": origin(&site),
            "photo": photo_file,
            "category": "litter",
            "description": description,
            "phone": "138 1234 5678",
            "shots": shots,
        }),
    );
    // The one error expected: the answer to the post without a category.
    assert_only_the_server(
        &seen,
        "the signboard page and its forms",
        &["/report: Failed to load resource: the server responded with a status of 422"],
    );

    // The signboard page, in Chinese, fitting a phone.
    let page = &seen["signboard"];
    assert_eq!(page["status"], 200);
    assert_eq!(page["lang"], "zh-CN");
    assert_eq!(page["street"], "八角西街");
    let facts = str_of(&page["facts"], "facts");
    assert!(
        facts.contains("王芳") && facts.contains("八角街道"),
        "{facts}"
    );
    assert_eq!(
        page["has_js"], true,
        "the page's script ran (CSP allows it)"
    );
    for field in [
        "category",
        "description",
        "photos",
        "contact_phone",
        "name",
        "phone",
    ] {
        assert_eq!(
            page["labels"][field],
            json!(format!(
                "{}#{field}",
                match field {
                    "category" => "select",
                    "description" => "textarea",
                    _ => "input",
                }
            )),
            "the label of #{field}: {}",
            page["labels"]
        );
    }
    // Every id once: each label names its own field.
    assert_eq!(
        page["duplicate_ids"],
        json!([]),
        "ids used twice on the signboard page"
    );
    assert_fits(&page["widths"], "the signboard page");
    assert_fits(&page["desktop_widths"], "the signboard page on a desktop");

    // The server's own check, the browser's turned off: the form again, marked, text kept.
    let error = &seen["form_error"];
    assert_eq!(error["status"], 422, "{error}");
    assert_eq!(error["desktop_status"], 422);
    assert!(str_of(&error["url"], "url").contains("/report"), "{error}");
    assert_eq!(error["category_error"], "请选择问题类型");
    assert_eq!(error["category_invalid"], "true");
    assert!(
        str_of(&error["alert"], "alert").contains("请修改"),
        "{error}"
    );
    assert_eq!(error["description"], description, "the description is kept");
    assert_eq!(error["phone"], "138 1234 5678", "the phone is kept");
    assert_fits(&error["widths"], "the form's error page");

    // Put right and sent with the photo: the receipt.
    assert_eq!(seen["previews"], 1, "the photo's preview");
    let receipt = &seen["receipt"];
    assert_eq!(receipt["post_status"], 303);
    let receipt_url = str_of(&receipt["url"], "receipt url").to_owned();
    let token = receipt_url
        .rsplit("/r/")
        .next()
        .expect("token")
        .split(['?', '#'])
        .next()
        .expect("token")
        .to_owned();
    assert_eq!(receipt["status"], "已受理，等待派单");
    assert_eq!(receipt["status_visible"], true);
    assert_eq!(receipt["token_visible"], true);
    assert_eq!(
        str_of(&receipt["token"], "token").replace('-', ""),
        token,
        "the receipt number shown is the one in its address"
    );
    assert!(
        str_of(&receipt["body"], "body").contains("138****5678"),
        "the phone, masked: {}",
        receipt["body"]
    );
    assert_fits(&receipt["widths"], "the receipt");

    // The district's phones close the loop on the issue the browser's post made; the chief's
    // phone receives the very bytes the browser sent (EXIF and all).
    let storage = site.server.storage();
    let rows = storage.read().unwrap().public_reports(0, 10).unwrap();
    assert_eq!(
        rows.len(),
        1,
        "one report: the one without a category wrote nothing"
    );
    assert_eq!(rows[0].contact_phone.as_deref(), Some("13812345678"));
    let issue: patrol_core::IssueId = rows[0].issue_id.parse().unwrap();
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&photo));
    let after = close_the_loop(&site, issue, std::slice::from_ref(&sha));

    let seen = browse(
        &tools,
        "receipt",
        json!({ "url": receipt_url, "origin": origin(&site), "shots": shots }),
    );
    assert_only_the_server(&seen, "the receipt", &[]);
    assert_eq!(seen["http_status"], 200);
    assert_eq!(seen["status"], "已核实办结");
    assert_fits(&seen["widths"], "the verified receipt");
    assert_fits(&seen["desktop_widths"], "the verified receipt on a desktop");
    let body = str_of(&seen["body"], "body");
    for name in ["王芳", "李强", "刘师傅"] {
        assert!(!body.contains(name), "no staff names on a receipt: {name}");
    }
    let shown = &seen["after_photo"];
    assert!(shown.is_object(), "the after-photo is shown: {body}");
    assert_eq!(
        str_of(&shown["src"], "src"),
        format!("/r/{token}/photo/{after}")
    );
    assert_eq!(shown["content_type"], "image/jpeg");
    assert!(shown["natural_width"].as_u64().is_some_and(|w| w > 0));
    assert!(
        shown["shown_width"].as_f64().is_some_and(|w| w <= 390.0),
        "the after-photo fits the phone: {shown}"
    );
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(str_of(&shown["base64"], "photo bytes"))
        .expect("base64");
    let exif = patrol_core::photos::read_exif(&bytes);
    assert_eq!(
        (exif.lat, exif.lon),
        (None, None),
        "no EXIF position in the photo the browser shows"
    );
    assert!(
        !bytes
            .windows(AFTER_PHOTO_MAKE.len())
            .any(|w| w == AFTER_PHOTO_MAKE.as_bytes()),
        "no camera in the photo the browser shows"
    );
    let img = image::load_from_memory(&bytes).expect("a JPEG");
    assert_eq!(
        u64::from(img.width()),
        shown["natural_width"].as_u64().unwrap()
    );

    for name in [
        "public-signboard-390.png",
        "public-signboard-1440.png",
        "public-form-error-390.png",
        "public-form-error-1440.png",
        "public-receipt-390.png",
        "public-receipt-1440.png",
    ] {
        let want = if name.contains("-390") { 780 } else { 1440 };
        assert_png_width(&shots.join(name), want);
    }
    eprintln!(
        "a_resident_reports_through_chromium: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_steward_applies_through_chromium_and_the_approved_code_enrols_a_phone() {
    let Some(tools) = tools_or_skip("a_steward_applies_through_chromium") else {
        return;
    };
    let started = std::time::Instant::now();
    let site = Site::new();
    let seen = browse(
        &tools,
        "steward",
        json!({
            "url": site.page(),
            "origin": origin(&site),
            "name": "张阿姨",
            "phone": "139 0000 1111",
            "availability": "周末上午",
        }),
    );
    assert_only_the_server(&seen, "the steward form", &[]);
    assert_eq!(
        seen["street"],
        site.signboard.street_id.to_string(),
        "the signboard's street is chosen first"
    );
    assert_eq!(seen["post_status"], 303);
    let status_url = str_of(&seen["url"], "url").to_owned();
    assert!(status_url.contains("/a/"), "{status_url}");
    assert!(
        str_of(&seen["status"], "status").starts_with("报名已收到"),
        "{seen}"
    );
    assert!(str_of(&seen["body"], "body").contains("139****1111"));
    assert_fits(&seen["widths"], "the applicant's page");

    // The real admin command, on the data folder of the server running meanwhile.
    let admin = |args: &[&str]| -> Value {
        let out = Command::new(server_binary())
            .arg("--data")
            .arg(&site.server.data)
            .arg("admin")
            .args(args)
            .output()
            .expect("run patrol-server admin");
        assert!(
            out.status.success(),
            "patrol-server admin {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "patrol-server admin {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    };
    let pending = admin(&["applications", "list", "--json"]);
    let pending = pending.as_array().expect("a list");
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["name"], "张阿姨");
    assert_eq!(pending[0]["phone"], "13900001111");
    assert_eq!(pending[0]["availability"], "周末上午");
    let id = str_of(&pending[0]["id"], "id").to_owned();
    let approved = admin(&["applications", "approve", &id, "--json"]);
    let code = str_of(&approved["enrol_code"], "enrol_code").to_owned();
    let user_id = str_of(&approved["user_id"], "user_id").to_owned();

    let seen = browse(
        &tools,
        "application",
        json!({ "url": status_url, "origin": origin(&site) }),
    );
    assert_only_the_server(&seen, "the applicant's page", &[]);
    assert_eq!(seen["http_status"], 200);
    assert_eq!(seen["status"], "审核已通过，欢迎成为小巷管家！");
    assert_eq!(seen["enrol_code_visible"], true);
    assert_eq!(
        seen["enrol_code"], code,
        "the page shows the code the admin made"
    );
    assert_fits(&seen["widths"], "the approved applicant's page");

    let mut phone = patrol_tests::net::Device::enrol(&site.server.url(), &code);
    phone.sync();
    let me = phone.store.device().unwrap().unwrap();
    assert_eq!(me.role, patrol_core::Role::Steward);
    assert_eq!(me.user_id.to_string(), user_id);
    let street = phone.store.resolve_street("八角西街").unwrap();
    let mine = phone.store.assignments_of(&user_id).unwrap();
    assert!(mine.iter().any(|a| a.street_id == street), "{mine:?}");
    eprintln!(
        "a_steward_applies_through_chromium: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
