//! A phone that worked offline on more documents than one request carries sends them all in
//! one sync (the request loop goes on while a request was full, not only while the server has
//! more to send).

use patrol_core::Role;
use patrol_core::issues::NewIssue;
use patrol_core::sync::engine::DOC_UPLOADS_PER_REQUEST;
use patrol_core::sync::wire::Scope;
use patrol_tests::net::{Device, TestServer};

#[test]
fn one_sync_uploads_more_documents_than_one_request_holds() {
    let server = TestServer::start();
    let (_, chief_code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (_, sup_code) = server.add_user("李主任", Role::Supervisor, Scope::District);
    let mut chief = Device::enrol(&server.url(), &chief_code);
    let mut sup = Device::enrol(&server.url(), &sup_code);

    let n = DOC_UPLOADS_PER_REQUEST + 37;
    for i in 0..n {
        let lat = 39.904 + i as f64 * 1e-5;
        chief
            .store
            .report_issue(NewIssue::at("litter", lat, 116.1935))
            .unwrap();
    }
    let r = chief.sync();
    assert_eq!(
        r.docs_up as usize, n,
        "every offline issue goes up in one sync: {r:?}"
    );
    assert!(r.requests >= 2, "more than one request was needed: {r:?}");
    let again = chief.sync();
    assert_eq!(again.docs_up, 0, "nothing is left to send: {again:?}");

    let got = sup.sync();
    assert_eq!(got.docs_down as usize, n);
}
