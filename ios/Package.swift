// swift-tools-version:5.9
// StreetPatrol's iOS package: the Rust core as an XCFramework (built by build-xcframework.sh, on
// macOS), the Swift bindings uniffi generates (Sources/StreetPatrol/Generated, committed, checked
// by `cargo test -p patrol-ffi --test generated`) and a thin async/await wrapper.
import PackageDescription

let package = Package(
    name: "StreetPatrol",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "StreetPatrol", targets: ["StreetPatrol"]),
    ],
    targets: [
        // The static library and its C header (module PatrolCoreFFI), device and simulator slices.
        .binaryTarget(name: "PatrolCoreFFI", path: "PatrolCoreFFI.xcframework"),
        .target(
            name: "StreetPatrol",
            dependencies: ["PatrolCoreFFI"],
            path: "Sources/StreetPatrol"
        ),
    ]
)
