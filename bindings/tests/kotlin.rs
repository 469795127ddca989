//! The Kotlin scenarios of bindings/kotlin-tests, run on a JVM through the generated bindings and
//! the library cargo just built: generate Kotlin with the pinned uniffi-bindgen (library mode),
//! compile it with kotlinc together with the Android wrapper's platform-free part and the test
//! sources, and run each scenario in its own JVM with JNA loading the library.
//!
//! Needs the Kotlin toolchain (see tests/support); without it each test prints SKIP, unless
//! `PATROL_REQUIRE_KOTLIN=1` (set by `.ci/run`) makes it fail.

mod support;

fn scenario(name: &str) {
    scenario_with(name, &[]);
}

/// Runs a scenario with extra JVM options (`-Dname=value` the scenario reads).
fn scenario_with(name: &str, options: &[String]) {
    let Some(tc) = support::toolchain_or_skip(name) else {
        return;
    };
    let classes = support::compiled_tests(&tc);
    // The quick (C1) JIT only: faster start, and a steadier RSS for the leak check.
    let mut opts: Vec<&str> = vec!["-XX:TieredStopAtLevel=1"];
    opts.extend(options.iter().map(String::as_str));
    let mut cmd = support::jvm(&tc, &classes, &opts, "org.streetpatrol.tests.MainKt");
    cmd.arg(name);
    let out = cmd.output().expect("start java");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("1 passed, 0 failed"),
        "Kotlin scenario {name} failed ({}):\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}

macro_rules! scenarios {
    ($($name:ident),+ $(,)?) => {$(
        #[test]
        fn $name() {
            scenario(stringify!($name));
        }
    )+};
}

scenarios!(
    record_a_1000_fix_patrol_and_read_its_stats,
    sampling_advice_and_pause_resume,
    export_and_import_round_trip,
    errors_arrive_as_typed_exceptions,
    not_a_database_is_refused_untouched,
    the_store_is_encrypted_with_the_hosts_keys,
    closed_objects_refuse_calls_and_unclosed_ones_are_collected,
    no_native_memory_leaks_over_10000_calls,
    import_runs_off_the_callers_thread_with_progress,
    cancelling_an_import_stores_nothing,
    a_throwing_progress_listener_does_not_break_the_import,
    the_host_clock_and_network_state_reach_the_core,
    slow_calls_run_on_a_core_worker_thread,
    streets_import_a_1_hz_patrol_and_coverage_read_from_kotlin,
    cancelling_a_street_import_stores_nothing,
    report_an_issue_with_a_photo_and_move_it_through_the_workflow,
    pickups_and_points,
    observers_hear_the_current_state_then_changes_until_stopped,
    observers_see_writes_from_another_connection,
    kotlin_flows_over_observers_and_progress,
);

/// A real patrol-server on loopback (in this process), a chief and a supervisor with one-time
/// enrolment codes; the Kotlin scenario enrols two stores and syncs them through it.
#[test]
fn sync_against_a_patrol_server_started_by_the_test() {
    use patrol_core::Role;
    use patrol_core::sync::wire::Scope;
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("server");
    let server = patrol_server::ServerThread::spawn(patrol_server::ServerConfig::new(
        data.clone(),
        "127.0.0.1:0".parse().expect("addr"),
    ))
    .expect("server starts");
    let storage = patrol_server::open_storage(&data).expect("storage");
    let chief =
        patrol_server::admin::add_user(storage.as_ref(), "王芳", Role::Chief, Scope::Own, None)
            .expect("chief");
    let sup = patrol_server::admin::add_user(
        storage.as_ref(),
        "陈主任",
        Role::Supervisor,
        Scope::District,
        None,
    )
    .expect("supervisor");
    scenario_with(
        "sync_against_a_patrol_server_started_by_the_test",
        &[
            format!("-Dpatrol.server={}", server.url()),
            format!("-Dpatrol.chief_code={}", chief.enrol_code),
            format!("-Dpatrol.supervisor_code={}", sup.enrol_code),
        ],
    );
}

/// Every scenario the Kotlin side knows is run by a test here, so none is forgotten.
#[test]
fn every_kotlin_scenario_has_a_test() {
    let this = include_str!("kotlin.rs");
    let main = std::fs::read_to_string(support::repo_root().join("bindings/kotlin-tests/Main.kt"))
        .expect("Main.kt");
    for line in main
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('"') && l.contains(" to ::"))
    {
        let name = line.trim_start_matches('"').split('"').next().unwrap_or("");
        assert!(
            this.contains(&format!("    {name},")) || this.contains(&format!("fn {name}()")),
            "Kotlin scenario {name} has no test in bindings/tests/kotlin.rs"
        );
    }
}
