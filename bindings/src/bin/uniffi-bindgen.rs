//! uniffi's code generator, pinned to the uniffi version the library is built with, so the
//! generated Kotlin and Swift always match the scaffolding. Library mode:
//! `cargo run -p patrol-ffi --bin uniffi-bindgen -- generate --library target/debug/libpatrol_ffi.so --language kotlin --out-dir OUT`
//! (`bash bindings/generate.sh` does this for both languages).

fn main() {
    uniffi::uniffi_bindgen_main()
}
