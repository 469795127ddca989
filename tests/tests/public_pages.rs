//! The signboard's QR code opens a page any phone's browser shows: the street, its chief, the
//! street's problems lately resolved, and forms to report a problem or apply as a steward.
//! Here over real HTTP on loopback, with a browser-like client; `public_browser.rs` drives real
//! Chromium through the same pages.

use patrol_tests::net::TestServer;
use patrol_tests::public::{
    AFTER_PHOTO_MAKE, Browser, Page, SIGNBOARD_AT, Site, close_the_loop, jpeg_with_gps,
};
use reqwest::blocking::multipart::{Form, Part};

/// The report form as a browser sends it, from the page just read.
fn report_form(page: &Page, category: &str, photos: &[Vec<u8>]) -> Form {
    let mut form = Form::new()
        .text("form_token", page.input("form_token").expect("form token"))
        .text("website", "")
        .text("category", category.to_owned())
        .text("description", "路口垃圾桶旁堆了很多装修垃圾")
        .text("contact_phone", "138 1234 5678")
        .text("lat", "")
        .text("lon", "");
    for (i, p) in photos.iter().enumerate() {
        form = form.part(
            "photos",
            Part::bytes(p.clone())
                .file_name(format!("IMG_{i}.jpg"))
                .mime_str("image/jpeg")
                .unwrap(),
        );
    }
    form
}

fn report_url(site: &Site) -> String {
    format!("{}/report", site.page())
}

/// What the server holds of residents' reports: rows, issue documents, photo files.
fn stored(site: &Site) -> (usize, usize, usize) {
    let storage = site.server.storage();
    let mut tx = storage.read().unwrap();
    let reports = tx.public_reports(0, 1000).unwrap().len();
    let docs = tx.docs_of_kind("issue").unwrap().len();
    let files = walk(&site.server.data.join("blobs"));
    (reports, docs, files)
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_signboard_page_shows_its_street_chief_and_forms_in_chinese_first() {
    let site = Site::new();
    // A category the district published offers itself beside the built-in ones.
    patrol_server::rules::publish_category(
        site.server.storage().as_ref(),
        &patrol_model::reference::CategoryRow {
            code: "shared_bikes".into(),
            name_zh: "共享单车乱停".into(),
            name_en: "Shared bikes parked badly".into(),
            due_hours: 12,
        },
    )
    .unwrap();
    // The duty line and hotline the district wants shown.
    patrol_server::public::info::update(
        site.server.storage().as_ref(),
        Some("负责本街巷环境卫生和秩序"),
        None,
        Some("12345"),
    )
    .unwrap();
    let mut b = Browser::new();
    let page = b.get(&site.page());
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("负责本街巷环境卫生和秩序"));
    assert!(page.body.contains("href=\"tel:12345\""));
    assert!(page.body.contains("<html lang=\"zh-CN\">"));
    assert!(page.body.contains("八角西街"), "{}", page.body);
    assert!(page.body.contains("王芳"));
    assert!(page.body.contains("八角街道"));
    assert!(page.body.contains("我要反映问题"));
    assert!(
        page.body.contains("暴露垃圾"),
        "the catalog's Chinese labels"
    );
    assert!(page.body.contains("小巷管家"));
    assert!(
        b.cookie
            .as_deref()
            .is_some_and(|c| c.starts_with("sp_form="))
    );
    assert!(page.input("form_token").is_some_and(|t| t.len() > 20));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    // Nothing is fetched from anywhere else: every src and href is this server's.
    for attr in ["src=\"", "href=\""] {
        for part in page.body.split(attr).skip(1) {
            let target = &part[..part.find('"').unwrap()];
            assert!(
                target.starts_with('/')
                    || target.starts_with('?')
                    || target.starts_with('#')
                    || target.starts_with("tel:")
                    || target == "data:,",
                "{attr}{target}"
            );
        }
    }
    let (status, css) = b.get_bytes(&format!("{}/assets/public.css", site.server.url()));
    assert_eq!(status, 200);
    assert!(!css.is_empty());

    let en = b.get(&format!("{}?lang=en", site.page()));
    assert!(en.body.contains("<html lang=\"en\">"));
    assert!(en.body.contains("Report a problem"));
    assert!(en.body.contains("litter"));
    let accept_en = b
        .http
        .get(site.page())
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(accept_en.contains("Report a problem"));
}

#[test]
fn a_forged_or_unknown_code_gets_a_clear_page_not_an_error() {
    let site = Site::new();
    let mut b = Browser::new();
    let url = site.server.url();
    let code = &site.signboard.payload;
    // One character changed in the signature, a code of another district, nonsense, a huge one.
    let mut flipped = code.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let other = {
        let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        patrol_model::signboard::encode_code(
            &key,
            patrol_model::domain::SignboardId::new(),
            site.signboard.street_id,
        )
    };
    for bad in [
        String::from_utf8(flipped).unwrap(),
        other,
        "hello".into(),
        "SP1.".repeat(300),
    ] {
        let page = b.get(&format!("{url}/s/{bad}"));
        assert_eq!(page.status, 404, "{bad}");
        assert!(page.body.contains("未找到"), "{}", page.body);
    }
}

#[test]
fn a_residents_report_reaches_the_chief_and_the_receipt_follows_the_loop() {
    let site = Site::new();
    let mut b = Browser::new();
    let page = b.get(&site.page());
    // Taken 30 m from the signboard: the report lies where the photo says.
    let photo = jpeg_with_gps(
        640,
        480,
        SIGNBOARD_AT.0 + 0.0003,
        SIGNBOARD_AT.1,
        "ResidentPhone",
    );
    let done = b.post_multipart(
        &report_url(&site),
        report_form(&page, "litter", std::slice::from_ref(&photo)),
    );
    assert_eq!(done.status, 303, "{}", done.body);
    let receipt_path = done.location.clone().expect("redirect to the receipt");
    assert!(receipt_path.starts_with("/r/"), "{receipt_path}");
    let receipt_url = format!("{}{receipt_path}", site.server.url());
    let receipt = b.get(&receipt_url);
    assert_eq!(receipt.status, 200);
    assert!(receipt.body.contains("已受理"), "{}", receipt.body);
    assert!(receipt.body.contains("138****5678"), "the phone is masked");
    assert!(!receipt.body.contains("13812345678"));

    // The issue the server wrote: reported by the role public on 八角西街, at the photo's place.
    let storage = site.server.storage();
    let rows = storage.read().unwrap().public_reports(0, 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].contact_phone.as_deref(), Some("13812345678"));
    let issue: patrol_core::IssueId = rows[0].issue_id.parse().unwrap();
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&photo));

    let after = close_the_loop(&site, issue, std::slice::from_ref(&sha));

    let receipt = b.get(&receipt_url);
    assert!(receipt.body.contains("已核实办结"), "{}", receipt.body);
    // The loop closed, the contact phone is no longer needed: it is gone from the server.
    assert!(!receipt.body.contains("138****5678"), "{}", receipt.body);
    let rows = storage.read().unwrap().public_reports(0, 10).unwrap();
    assert_eq!(rows[0].contact_phone, None, "erased once verified");
    assert!(
        receipt.body.contains("城市物业"),
        "who acted, by department"
    );
    for name in ["王芳", "李强", "刘师傅"] {
        assert!(
            !receipt.body.contains(name),
            "no staff names on a receipt: {name}"
        );
    }
    let after_src = format!("/r/{}/photo/{after}", &receipt_path[3..]);
    assert!(receipt.body.contains(&after_src), "{}", receipt.body);
    let (status, shown) = b.get_bytes(&format!("{}{after_src}", site.server.url()));
    assert_eq!(status, 200);
    let exif = patrol_core::photos::read_exif(&shown);
    assert_eq!(
        (exif.lat, exif.lon),
        (None, None),
        "no EXIF position in a public photo"
    );
    assert!(
        !shown
            .windows(AFTER_PHOTO_MAKE.len())
            .any(|w| w == AFTER_PHOTO_MAKE.as_bytes()),
        "no camera in a public photo"
    );
    assert!(image::load_from_memory(&shown).is_ok());
    // Another report's token, or a photo not on this receipt, shows nothing.
    let (status, _) = b.get_bytes(&format!(
        "{}/r/{}/photo/{after}",
        site.server.url(),
        "A".repeat(25)
    ));
    assert_eq!(status, 404);
    let (status, _) = b.get_bytes(&format!(
        "{}{receipt_path}/photo/{}",
        site.server.url(),
        "0".repeat(64)
    ));
    assert_eq!(status, 404);

    // The street's page now shows the problem resolved and verified.
    let page = b.get(&site.page());
    assert!(page.body.contains("已核实"), "{}", page.body);
}

#[test]
fn bad_input_gets_a_clear_page_and_writes_nothing() {
    let site = Site::new();
    let mut b = Browser::new();
    let page = b.get(&site.page());
    let good = jpeg_with_gps(64, 48, SIGNBOARD_AT.0, SIGNBOARD_AT.1, "x");
    let url = report_url(&site);
    let nothing = stored(&site);

    // A missing category: the form again, with the message and what was typed.
    let r = b.post_multipart(&url, report_form(&page, "", std::slice::from_ref(&good)));
    assert_eq!(r.status, 422);
    assert!(r.body.contains("请选择问题类型"), "{}", r.body);
    assert!(
        r.body.contains("路口垃圾桶旁堆了很多装修垃圾"),
        "the description is kept"
    );
    assert!(r.body.contains("138 1234 5678"), "the phone is kept");
    // A category not in the catalog, a bad phone.
    let r = b.post_multipart(&url, report_form(&page, "<script>", &[]));
    assert_eq!(r.status, 422);
    assert!(!r.body.contains("<script>"), "input is escaped");
    let bad_phone = report_form(&page, "litter", &[]).text("contact_phone", "12345");
    let r = b.post_multipart(&url, bad_phone);
    assert_eq!(r.status, 422);
    // A photo that is not one; one over the limit; four photos.
    let r = b.post_multipart(
        &url,
        report_form(&page, "litter", &[b"MZ\x90 not a photo".to_vec()]),
    );
    assert_eq!(r.status, 422);
    assert!(r.body.contains("JPEG"), "{}", r.body);
    // A small file that would decode into far more pixels than a camera gives.
    let wide = {
        let img = image::GrayImage::new(4_097, 2);
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png
    };
    let r = b.post_multipart(&url, report_form(&page, "litter", &[wide]));
    assert_eq!(r.status, 422, "{}", r.body);
    let huge = vec![0xFFu8; 9 * 1024 * 1024];
    let r = b.post_multipart(&url, report_form(&page, "litter", &[huge]));
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("MB"), "{}", r.body);
    let r = b.post_multipart(&url, report_form(&page, "litter", &vec![good.clone(); 4]));
    assert_eq!(r.status, 422);
    assert!(r.body.contains("最多 3 张"), "{}", r.body);
    // A position that is no place.
    let r = b.post_multipart(
        &url,
        report_form(&page, "litter", &[])
            .text("lat", "91")
            .text("lon", "x"),
    );
    assert_eq!(r.status, 422);

    // A tampered or missing form token, another browser's cookie, the honeypot filled.
    let r = b.post_multipart(
        &url,
        report_form(&page, "litter", &[]).text("form_token", "AAAA"),
    );
    assert_eq!(r.status, 403);
    assert!(r.body.contains("表单已失效"));
    let mut stranger = Browser::new();
    let r = stranger.post_multipart(&url, report_form(&page, "litter", &[]));
    assert_eq!(r.status, 403, "a form token is good only with its cookie");
    let r = b.post_multipart(
        &url,
        report_form(&page, "litter", &[]).text("website", "http://spam"),
    );
    assert_eq!(r.status, 400);
    // A forged code; a body that is not a form.
    let forged = format!("{}/s/SP1.AAAA/report", site.server.url());
    let r = b.post_multipart(&forged, report_form(&page, "litter", &[]));
    assert_eq!(r.status, 404);
    let r = b
        .http
        .post(&url)
        .header("content-type", "multipart/form-data; boundary=x")
        .body("garbage")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // A body over the endpoint's limit is refused on its announced length, before it is sent.
    {
        use std::io::{Read, Write};
        let addr = site.server.server.as_ref().unwrap().addr;
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        let path = url.trim_start_matches(&site.server.url()).to_owned();
        write!(
            tcp,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary=x\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            patrol_server::http::public::MAX_REPORT_BODY_BYTES + 1
        )
        .unwrap();
        let mut head = [0u8; 12];
        tcp.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 413");
    }

    assert_eq!(stored(&site), nothing, "nothing half-written");

    // The same form, put right, goes through.
    let r = b.post_multipart(&url, report_form(&page, "litter", &[good]));
    assert_eq!(r.status, 303, "{}", r.body);
    let (reports, docs, files) = stored(&site);
    assert_eq!((reports, docs), (nothing.0 + 1, nothing.1 + 1));
    assert_eq!(files, nothing.2 + 1);
}

#[test]
fn a_flood_past_the_rate_limits_gets_a_clear_429() {
    use patrol_server::http::ratelimit::RateLimit;
    use std::time::Duration;
    let per_minute = |burst| RateLimit {
        burst,
        every: Duration::from_secs(60),
    };
    // Per address: 3.
    let site = Site::on(TestServer::start_with_public_limits(
        per_minute(3),
        RateLimit::NONE,
    ));
    let mut b = Browser::new();
    let page = b.get(&site.page());
    for _ in 0..3 {
        let r = b.post_multipart(&report_url(&site), report_form(&page, "", &[]));
        assert_eq!(r.status, 422);
    }
    let r = b.post_multipart(&report_url(&site), report_form(&page, "litter", &[]));
    assert_eq!(r.status, 429);
    assert!(r.body.contains("操作太频繁"), "{}", r.body);
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(stored(&site).0, 0);
    // Pages are still shown.
    assert_eq!(b.get(&site.page()).status, 200);

    // Per signboard: 2, whatever the address; posts without a form token take none of them
    // (nobody can shut a signboard's forms with posts that were never forms).
    let site = Site::on(TestServer::start_with_public_limits(
        RateLimit::NONE,
        per_minute(2),
    ));
    let mut b = Browser::new();
    for _ in 0..5 {
        let r = Browser::new().post_form(&format!("{}/steward", site.page()), &[("name", "x")]);
        assert_eq!(r.status, 403);
    }
    let page = b.get(&site.page());
    for _ in 0..2 {
        let r = b.post_form(
            &format!("{}/steward", site.page()),
            &[
                ("form_token", &page.input("form_token").unwrap()),
                ("name", ""),
            ],
        );
        assert_eq!(r.status, 422);
    }
    let r = b.post_multipart(&report_url(&site), report_form(&page, "litter", &[]));
    assert_eq!(r.status, 429);
}

#[test]
fn a_steward_application_is_approved_and_its_code_enrols_a_phone() {
    use patrol_server::public::applications;
    use patrol_server::storage::ApplicationStatus;
    let site = Site::new();
    let mut b = Browser::new();
    let page = b.get(&site.page());
    let token = page.input("form_token").unwrap();
    let steward_url = format!("{}/steward", site.page());

    // A missing phone keeps the rest.
    let r = b.post_form(
        &steward_url,
        &[
            ("form_token", &token),
            ("name", "张阿姨"),
            ("phone", ""),
            ("availability", "周末上午"),
        ],
    );
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("张阿姨") && r.body.contains("周末上午"),
        "{}",
        r.body
    );
    let r = b.post_form(
        &steward_url,
        &[
            ("form_token", &token),
            ("name", "张阿姨"),
            ("phone", "13900001111"),
            ("street", "not-a-street"),
            ("availability", "周末上午"),
        ],
    );
    assert_eq!(r.status, 422);

    let r = b.post_form(
        &steward_url,
        &[
            ("form_token", &token),
            ("name", "张阿姨"),
            ("phone", "139 0000 1111"),
            ("street", ""),
            ("availability", "周末上午"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let status_url = format!("{}{}", site.server.url(), r.location.unwrap());
    let status = b.get(&status_url);
    assert!(status.body.contains("报名已收到"), "{}", status.body);
    assert!(status.body.contains("139****1111"));

    let storage = site.server.storage();
    let pending = applications::list(storage.as_ref(), Some(ApplicationStatus::Pending)).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].phone, "13900001111");
    assert_eq!(pending[0].street_id, site.signboard.street_id.to_string());
    let approved = applications::approve(
        storage.as_ref(),
        &pending[0].id,
        Some(&site.server.url()),
        patrol_server::admin::now_ms(),
    )
    .unwrap();
    assert!(
        applications::approve(
            storage.as_ref(),
            &pending[0].id,
            None,
            patrol_server::admin::now_ms()
        )
        .is_err(),
        "once"
    );

    let status = b.get(&status_url);
    assert!(status.body.contains("审核已通过"), "{}", status.body);
    assert!(status.body.contains(&approved.enrol_code));
    let mut phone = patrol_tests::net::Device::enrol(&site.server.url(), &approved.enrol_code);
    phone.sync();
    let me = phone.store.device().unwrap().unwrap();
    assert_eq!(me.role, patrol_core::Role::Steward);
    assert_eq!(me.user_id, approved.user_id);
    let street = phone.store.resolve_street("八角西街").unwrap();
    let mine = phone
        .store
        .assignments_of(&approved.user_id.to_string())
        .unwrap();
    assert!(mine.iter().any(|a| a.street_id == street), "{mine:?}");

    // A second application, declined with a reason the applicant reads.
    let r = b.post_form(
        &steward_url,
        &[
            ("form_token", &token),
            ("name", "赵先生"),
            ("phone", "13700002222"),
            ("availability", "工作日晚上"),
        ],
    );
    let status_url = format!("{}{}", site.server.url(), r.location.unwrap());
    let id = applications::list(storage.as_ref(), Some(ApplicationStatus::Pending)).unwrap()[0]
        .id
        .clone();
    applications::decline(
        storage.as_ref(),
        &id,
        "本街巷名额已满",
        patrol_server::admin::now_ms(),
    )
    .unwrap();
    let status = b.get(&status_url);
    assert!(
        status.body.contains("未通过") && status.body.contains("本街巷名额已满"),
        "{}",
        status.body
    );
    assert_eq!(
        b.get(&format!("{}/a/{}", site.server.url(), "B".repeat(25)))
            .status,
        404
    );
}

#[test]
fn what_keyboards_slip_in_is_cleaned_and_the_same_photo_twice_at_once_is_stored_once() {
    let site = Site::new();
    let mut b = Browser::new();
    let page = b.get(&site.page());
    // Bidi marks and a line separator, as some input methods add them: cleaned, not a 500.
    let form = report_form(&page, "litter", &[])
        .text("description", "门口\u{200F}有垃圾\u{2028}第二行\u{202E}");
    let r = b.post_multipart(&report_url(&site), form);
    assert_eq!(r.status, 303, "{}", r.body);
    let r = b.post_form(
        &format!("{}/steward", site.page()),
        &[
            ("form_token", &page.input("form_token").unwrap()),
            ("name", "张\n\u{202E}三"),
            ("phone", "13900003333"),
            ("availability", "周末"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let storage = site.server.storage();
    let apps = patrol_server::public::applications::list(storage.as_ref(), None).unwrap();
    assert_eq!(apps[0].name, "张 三");
    // The same phone again, while the first waits: said, not stored twice.
    let again = b.post_form(
        &format!("{}/steward", site.page()),
        &[
            ("form_token", &page.input("form_token").unwrap()),
            ("name", "张三"),
            ("phone", "139 0000 3333"),
            ("availability", "周末"),
        ],
    );
    assert_eq!(again.status, 422);
    assert!(again.body.contains("审核中"), "{}", again.body);

    // Ten residents send the same photo at the same moment: every report is stored, and the
    // photo's file is there for all of them.
    let photo = jpeg_with_gps(320, 240, SIGNBOARD_AT.0, SIGNBOARD_AT.1, "x");
    let url = report_url(&site);
    let results: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let (url, photo, site) = (&url, &photo, &site);
                scope.spawn(move || {
                    let mut b = Browser::new();
                    let page = b.get(&site.page());
                    b.post_multipart(
                        url,
                        report_form(&page, "litter", std::slice::from_ref(photo)),
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().all(|s| *s == 303), "{results:?}");
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&photo));
    let file = site.server.data.join("blobs").join(&sha[..2]).join(&sha);
    assert_eq!(std::fs::read(&file).unwrap(), photo);
    assert!(
        storage
            .read()
            .unwrap()
            .blob(&sha)
            .unwrap()
            .is_some_and(|b| b.complete)
    );

    // No device may enrol as the public desk.
    let desk = patrol_server::admin::users(storage.as_ref())
        .unwrap()
        .into_iter()
        .find(|u| u.role == patrol_core::Role::Public)
        .expect("the desk");
    assert!(patrol_server::admin::new_code(storage.as_ref(), &desk.id, None).is_err());
    // A path that is not text gets the page, not a bare 400.
    let r = b.get(&format!("{}/s/%FF%FE", site.server.url()));
    assert_eq!(r.status, 404);
    assert!(r.body.contains("未找到"));
}
