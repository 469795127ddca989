#!/usr/bin/env bash
# Builds ios/PatrolCoreFFI.xcframework: the Rust core as a static library for iOS devices (arm64)
# and the simulator (arm64 + x86_64 in one fat library), with the C header and module map the
# generated Swift imports. Then regenerates the Swift bindings from the same source.
#
# Needs macOS with Xcode 15 or newer (xcodebuild, lipo) and Rust (https://rustup.rs). It cannot
# run on Linux: Apple's linker and SDKs exist only on macOS.
#
# Usage: ./build-xcframework.sh             the `mobile` profile (what apps ship: fat LTO,
#                                           opt-level "s", stripped, panic=abort), built into
#                                           target/<triple>/mobile/
#        PROFILE=dev ./build-xcframework.sh   faster build with debug info (target/<triple>/debug/)
# The header and module map come from a host debug build (generate.sh and uniffi-bindgen-swift
# below) of the same source, not from the cross-compiled, stripped phone libraries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
profile=${PROFILE:-mobile}
case "$profile" in
    dev) profile_dir=debug ;;
    *) profile_dir=$profile ;;
esac

if [ "$(uname -s)" != Darwin ]; then
    echo "error: building the XCFramework needs macOS with Xcode (xcodebuild, lipo); this is $(uname -s)" >&2
    exit 1
fi
for tool in cargo xcodebuild lipo; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: $tool not found (cargo: https://rustup.rs; xcodebuild and lipo: Xcode)" >&2
        exit 1
    fi
done

device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
if command -v rustup >/dev/null 2>&1; then
    rustup target add "$device" "${simulators[@]}"
fi
export IPHONEOS_DEPLOYMENT_TARGET=15.0

cd "$root"
target_dir=${CARGO_TARGET_DIR:-target}
# --no-default-features: the code generator (uniffi-bindgen) is a host tool, not built per target.
for target in "$device" "${simulators[@]}"; do
    cargo build -p patrol-ffi --lib --no-default-features --profile "$profile" --target "$target"
done

# The Swift sources (committed) and, from the host build generate.sh makes, the C header and a
# plain module map for the XCFramework's Headers.
bash "$root/bindings/generate.sh"
work="$here/build"
rm -rf "$work" "$here/PatrolCoreFFI.xcframework"
mkdir -p "$work/headers" "$work/simulator"
cargo build -p patrol-ffi --bin uniffi-bindgen-swift
"$target_dir/debug/uniffi-bindgen-swift" --headers --modulemap --module-name PatrolCoreFFI \
    --modulemap-filename module.modulemap "$target_dir/debug/libpatrol_ffi.dylib" "$work/headers"

lipo -create \
    "$target_dir/${simulators[0]}/$profile_dir/libpatrol_ffi.a" \
    "$target_dir/${simulators[1]}/$profile_dir/libpatrol_ffi.a" \
    -output "$work/simulator/libpatrol_ffi.a"

xcodebuild -create-xcframework \
    -library "$target_dir/$device/$profile_dir/libpatrol_ffi.a" -headers "$work/headers" \
    -library "$work/simulator/libpatrol_ffi.a" -headers "$work/headers" \
    -output "$here/PatrolCoreFFI.xcframework"
rm -rf "$work"
echo "built $here/PatrolCoreFFI.xcframework"
