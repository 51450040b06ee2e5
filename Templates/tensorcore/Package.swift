// swift-tools-version:6.0
// A research workspace whose subject is the tensor core itself. Editable: the TensorCore files listed in
// autoresearch.toml; fixed: everything else, in particular Sources/corebench (the correctness gate and the benchmark)
// and the reference: ReferenceCore (the shipped core, renamed at init) with ReferenceModel (the benchmark's model on
// it), which corebench times beside the candidate in alternating rounds.
import PackageDescription

// The same release settings as the GPT subject's workspace, so the measured speed is the speed the GPT subject gets.
let optimize: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
    .unsafeFlags(["-Xcc", "-march=native"], .when(platforms: [.linux])),
]

let package = Package(
    name: "TensorCoreSubject",
    platforms: [.macOS(.v15)],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .target(
            name: "TensorCore", dependencies: ["CBLAS"], swiftSettings: optimize,
            linkerSettings: [.linkedLibrary("openblas", .when(platforms: [.linux])), .linkedFramework("Accelerate", .when(platforms: [.macOS]))]
        ),
        .target(name: "ReferenceCore", dependencies: ["CBLAS"], swiftSettings: optimize),
        .target(name: "ReferenceModel", dependencies: ["ReferenceCore"], swiftSettings: optimize),
        .executableTarget(name: "corebench", dependencies: ["TensorCore", "ReferenceModel"], path: "Sources/corebench", swiftSettings: optimize),
    ],
    swiftLanguageModes: [.v5]
)
