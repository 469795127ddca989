//! uniffi's Swift generator with XCFramework support (headers and a `module.modulemap`), pinned
//! to the library's uniffi version. Used by `ios/build-xcframework.sh`.

fn main() {
    uniffi::uniffi_bindgen_swift()
}
