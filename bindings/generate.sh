#!/usr/bin/env bash
# Regenerates the Kotlin and Swift bindings committed in android/ and ios/ from the library, with
# the workspace's pinned uniffi-bindgen in library mode. Run it after changing the exported API;
# `cargo test -p patrol-ffi --test generated` fails until the committed copies match.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -p patrol-ffi --lib --bin uniffi-bindgen
target=${CARGO_TARGET_DIR:-target}
case "$(uname -s)" in
    Darwin) lib=$target/debug/libpatrol_ffi.dylib ;;
    *) lib=$target/debug/libpatrol_ffi.so ;;
esac
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$target/debug/uniffi-bindgen" generate --library "$lib" --language kotlin --language swift \
    --out-dir "$out" --no-format

mkdir -p android/src/main/kotlin/org/streetpatrol/ffi ios/Sources/StreetPatrol/Generated
cp "$out/org/streetpatrol/ffi/patrol_ffi.kt" android/src/main/kotlin/org/streetpatrol/ffi/patrol_ffi.kt
cp "$out/StreetPatrol.swift" ios/Sources/StreetPatrol/Generated/StreetPatrol.swift
echo "updated android/src/main/kotlin/org/streetpatrol/ffi/patrol_ffi.kt and ios/Sources/StreetPatrol/Generated/StreetPatrol.swift"
