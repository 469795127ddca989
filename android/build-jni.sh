#!/usr/bin/env bash
# Builds the Rust core for the four Android ABIs into src/main/jniLibs/<abi>/libpatrol_ffi.so
# and regenerates the Kotlin bindings from the same source, so library and bindings match.
#
# Needs (on a developer's machine; not on the CI machine, which has no Android NDK):
#   - Rust (https://rustup.rs) and the Android targets (added below when rustup is present)
#   - cargo-ndk:  cargo install cargo-ndk
#   - the Android NDK (r26 or newer): cargo-ndk finds it through ANDROID_NDK_HOME, through
#     ANDROID_HOME / ANDROID_SDK_ROOT with an ndk/<version> inside, or where Android Studio's SDK
#     Manager puts it (~/Android/Sdk/ndk, ~/Library/Android/sdk/ndk)
#
# Usage: ./build-jni.sh            release build (what apps ship)
#        PROFILE=dev ./build-jni.sh  faster build with debug info
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
profile=${PROFILE:-release}
min_sdk=24

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found; install Rust from https://rustup.rs" >&2
    exit 1
fi
if ! cargo ndk --version >/dev/null 2>&1; then
    echo "error: cargo-ndk not found; run: cargo install cargo-ndk" >&2
    exit 1
fi
if command -v rustup >/dev/null 2>&1; then
    rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android i686-linux-android
fi

# 16 KB pages: Android 15 devices may use them, and Google Play requires 16 KB-aligned libraries.
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384"

cd "$root"
# --no-default-features: the code generator (uniffi-bindgen) is a host tool, not built per ABI.
cargo ndk \
    -t arm64-v8a -t armeabi-v7a -t x86_64 -t x86 \
    --platform "$min_sdk" \
    -o "$here/src/main/jniLibs" \
    build -p patrol-ffi --lib --no-default-features --profile "$profile"

bash "$root/bindings/generate.sh"
ls -l "$here"/src/main/jniLibs/*/libpatrol_ffi.so
