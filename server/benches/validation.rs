//! What the server's checks cost per upload, against the work it does for that upload anyway,
//! measured in the same run:
//! - a document: one comment on an issue with 20 events and comments, checked by the policy
//!   (`CorePolicy::check_update`: the document model, role table and fold, the layout and limits,
//!   the workflow at the change that wrote each event), against loading the stored document,
//!   applying the change and saving it;
//! - a fix batch of 5,000 fixes: `validate::check_fixes`, against decoding the batch.
//!
//! Run: `cargo bench -p patrol-server --bench validation` (a few seconds).
//! The policy check is broken down into the layout walk, the save that measures the size, and
//! reading the issue (which it does for the document before and after the change).

#[path = "../../core/benches/common/mod.rs"]
mod common;

use std::time::Instant;

use automerge::{Automerge, ChangeHash};
use patrol_core::issues::NewIssue;
use patrol_core::sync::fixcodec::{decode_fixes, encode_fixes};
use patrol_core::sync::wire::{DocKind, Scope, UserRecord};
use patrol_core::{FixVerdict, Role, Store, StoreConfig, StoredFix};
use patrol_server::policy::{CorePolicy, DeviceCtx, DocPolicy};

/// Median time of `f` in microseconds over `n` runs.
fn time_us(n: usize, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    common::median(&mut v)
}

fn main() {
    let mut chief = Store::open_in_memory(StoreConfig::default()).expect("store");
    let me = chief
        .init_device("王芳", Role::Chief, None)
        .expect("device");
    let id = chief
        .report_issue(NewIssue::at("litter", 39.9075, 116.1936))
        .expect("issue")
        .issue
        .id;
    for i in 0..19 {
        chief
            .comment_issue(id, &format!("第{i}次查看：垃圾桶还是满的"))
            .expect("comment");
    }
    let base: Vec<ChangeHash> = chief.issue_heads(id).expect("heads");
    chief.comment_issue(id, "还在").expect("comment");
    let after = Automerge::load(&chief.export_issue(id).expect("export")).expect("load");
    let before = after.fork_at(&base).expect("fork");
    let stored = before.save();
    let changes: Vec<automerge::Change> = after.get_changes(&base);
    let hashes: Vec<ChangeHash> = changes.iter().map(|c| c.hash()).collect();
    let ctx = DeviceCtx {
        device_id: me.device_id,
        user: UserRecord {
            id: me.user_id,
            name: me.name.clone(),
            role: Role::Chief,
            scope: Scope::Own,
        },
        actor_id: me.actor_id.clone(),
        streets: Default::default(),
    };
    let policy = CorePolicy;
    let doc_id = id.to_string();
    policy
        .check_update(
            DocKind::Issue,
            &doc_id,
            Some(&before),
            &after,
            &hashes,
            &ctx,
        )
        .expect("an honest comment passes");

    let n = 300;
    let base_us = time_us(n, || {
        let mut doc = Automerge::load(&stored).expect("load");
        doc.apply_changes(changes.clone()).expect("apply");
        std::hint::black_box(doc.save());
    });
    let check_us = time_us(n, || {
        policy
            .check_update(
                DocKind::Issue,
                &doc_id,
                Some(&before),
                &after,
                &hashes,
                &ctx,
            )
            .expect("passes");
    });
    // A new issue, as a phone uploads its report: the whole document, no document before it.
    let reported = chief
        .report_issue(NewIssue::at("litter", 39.9076, 116.1936))
        .expect("issue")
        .issue
        .id;
    let new_doc = Automerge::load(&chief.export_issue(reported).expect("export")).expect("load");
    let new_changes: Vec<automerge::Change> = new_doc.get_changes(&[]);
    let new_hashes: Vec<ChangeHash> = new_changes.iter().map(|c| c.hash()).collect();
    let new_id = reported.to_string();
    let report_base_us = time_us(n, || {
        let mut doc = Automerge::new();
        doc.apply_changes(new_changes.clone()).expect("apply");
        std::hint::black_box(doc.save());
    });
    let report_check_us = time_us(n, || {
        policy
            .check_update(DocKind::Issue, &new_id, None, &new_doc, &new_hashes, &ctx)
            .expect("passes");
    });

    let layout_us = time_us(n, || {
        std::hint::black_box(patrol_core::issues::validate::issue_faults(&doc_id, &after));
    });
    let save_us = time_us(n, || {
        std::hint::black_box(after.save());
    });
    let read_us = time_us(n, || {
        std::hint::black_box(patrol_core::issues::doc::read(&after).expect("read"));
    });

    let now = patrol_server::admin::now_ms();
    let fixes: Vec<StoredFix> = (0..5_000)
        .map(|i| StoredFix {
            seq: i,
            segment: 0,
            lat: 39.9 + i as f64 * 1e-5,
            lon: 116.19,
            accuracy_m: Some(5.0),
            altitude_m: Some(60.0),
            speed_mps: Some(1.3),
            bearing_deg: Some(0.0),
            time_ms: Some(now - 10_000_000 + i * 1_000),
            provider: Some("gps".into()),
            is_mock: false,
            verdict: FixVerdict::Kept,
        })
        .collect();
    let batch = encode_fixes(&fixes);
    let decode_us = time_us(n, || {
        std::hint::black_box(decode_fixes(&batch).expect("decode"));
    });
    let fixes_us = time_us(n, || {
        patrol_server::validate::check_fixes("bench", &fixes, 0, now).expect("valid");
    });

    println!("machine: {}", common::machine());
    println!(
        "issue upload (one comment, 20 events and comments, {} bytes stored):",
        stored.len()
    );
    println!("  load + apply + save (the server's own work): {base_us:.0} us");
    println!(
        "  policy check: {check_us:.0} us ({:.2}x the server's own work)",
        check_us / base_us
    );
    println!(
        "    of which the layout and limits {layout_us:.0} us (a save to measure the size {save_us:.0} us), reading the issue {read_us:.0} us (done twice)"
    );
    println!("new issue upload (the report):");
    println!("  apply + save (the server's own work): {report_base_us:.0} us");
    println!(
        "  policy check: {report_check_us:.0} us ({:.2}x the server's own work)",
        report_check_us / report_base_us
    );
    println!("fix batch of 5,000:");
    println!("  decode: {decode_us:.0} us");
    println!(
        "  check: {fixes_us:.0} us ({:.2}x decoding; {:.1} ns a fix)",
        fixes_us / decode_us,
        fixes_us * 1000.0 / 5_000.0
    );
    println!(
        "RESULT doc_base_us={base_us:.0} doc_check_us={check_us:.0} doc_ratio={:.2} report_base_us={report_base_us:.0} report_check_us={report_check_us:.0} fix_decode_us={decode_us:.0} fix_check_us={fixes_us:.0} fix_ratio={:.2}",
        check_us / base_us,
        fixes_us / decode_us
    );
}
