//! The Kotlin and Swift bindings committed in android/ and ios/ are what the pinned uniffi-bindgen
//! generates from the library as built now. When the exported API changes, this fails until
//! `bash bindings/generate.sh` has updated them.

mod support;

/// (generated file, committed copy)
const FILES: &[(&str, &str)] = &[
    (
        "org/streetpatrol/ffi/patrol_ffi.kt",
        "android/src/main/kotlin/org/streetpatrol/ffi/patrol_ffi.kt",
    ),
    (
        "StreetPatrol.swift",
        "ios/Sources/StreetPatrol/Generated/StreetPatrol.swift",
    ),
];

#[test]
fn committed_bindings_match_the_library() {
    let out = support::profile_dir().join("generated-check");
    support::generate(&["kotlin", "swift"], &out);
    let mut drifted = Vec::new();
    for (generated, committed) in FILES {
        let fresh =
            std::fs::read_to_string(out.join(generated)).expect("uniffi-bindgen wrote the file");
        let path = support::repo_root().join(committed);
        match std::fs::read_to_string(&path) {
            Err(_) => drifted.push(format!("{committed} is missing")),
            Ok(old) if old != fresh => {
                let (n, (a, b)) = old
                    .lines()
                    .chain(std::iter::repeat(""))
                    .zip(fresh.lines().chain(std::iter::repeat("")))
                    .enumerate()
                    .find(|(_, (a, b))| a != b)
                    .expect("the files differ somewhere");
                drifted.push(format!(
                    "{committed} differs from line {}:\n  committed: {a}\n  generated: {b}",
                    n + 1
                ));
            }
            Ok(_) => {}
        }
    }
    assert!(
        drifted.is_empty(),
        "the committed bindings are out of date with the Rust API; run `bash bindings/generate.sh` and commit the result.\n{}",
        drifted.join("\n")
    );
}
