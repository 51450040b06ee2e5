// swift-tools-version:6.0
// A research workspace for the GPT subject. Fixed: everything except Sources/train/train.swift.
import PackageDescription

// Release builds of the numeric code: no overflow/bounds checks, whole-module optimisation, and the
// build machine's vector instructions (the trainer runs where it is built).
let optimize: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
    .unsafeFlags(["-Xcc", "-march=native"], .when(platforms: [.linux])),
]

let package = Package(
    name: "ResearchSubject",
    platforms: [.macOS(.v15)],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CSHA256", path: "Sources/CSHA256"),
        .target(
            name: "TensorCore", dependencies: ["CBLAS"], swiftSettings: optimize,
            linkerSettings: [.linkedLibrary("openblas", .when(platforms: [.linux])), .linkedFramework("Accelerate", .when(platforms: [.macOS]))]
        ),
        .target(
            name: "SubjectKit", dependencies: ["CSHA256"], swiftSettings: optimize,
            linkerSettings: [.linkedLibrary("crypto", .when(platforms: [.linux]))]
        ),
        .executableTarget(name: "train", dependencies: ["TensorCore", "SubjectKit"], path: "Sources/train", swiftSettings: optimize),
    ],
    swiftLanguageModes: [.v5]
)
