// swift-tools-version:6.0
import PackageDescription

// Release builds of the numeric code: no overflow/bounds checks, whole-module optimisation, and the
// build machine's vector instructions (-march=native: AVX-512 where the CPU has it) — the trainer runs where it is built.
let optimize: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
    .unsafeFlags(["-Xcc", "-march=native"], .when(platforms: [.linux])),
]

let package = Package(
    name: "AutoResearch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "autoresearch", targets: ["autoresearch"]),
        .executable(name: "autoresearch-bench", targets: ["autoresearch-bench"]),
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "SubjectKit", targets: ["SubjectKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.0.0"),  // FileDescriptor, for the MCP test's stdio client
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CSHA256", path: "Sources/CSHA256"),
        .target(
            name: "TensorCore",
            dependencies: ["CBLAS"],
            swiftSettings: optimize,
            linkerSettings: [
                .linkedLibrary("openblas", .when(platforms: [.linux])),
                .linkedFramework("Accelerate", .when(platforms: [.macOS])),
            ]
        ),
        .target(
            name: "SubjectKit",
            dependencies: ["CSHA256"],
            swiftSettings: optimize,
            linkerSettings: [.linkedLibrary("crypto", .when(platforms: [.linux]))]
        ),
        // Shared vocabulary of the harness: experiments, proposals, the Researcher protocol.
        .target(name: "AutoResearchCore", dependencies: ["SubjectKit"]),
        .target(
            name: "SearchResearcher",
            dependencies: ["AutoResearchCore", "SubjectKit", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        // LLM researchers (Anthropic, OpenAI-compatible) and external coding-agent commands.
        .target(name: "AgentResearcher", dependencies: ["AutoResearchCore"]),
        .target(name: "Reporting", dependencies: ["AutoResearchCore"]),
        .target(
            name: "Harness",
            dependencies: [
                "AutoResearchCore", "SearchResearcher", "AgentResearcher", "Reporting", "SubjectKit",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // The workspace as an MCP server (tools and resources for outside agents), over the MCP Swift SDK.
        .target(name: "ResearchMCP", dependencies: ["Harness", "AutoResearchCore", .product(name: "MCP", package: "swift-sdk")]),
        // `autoresearch serve`: the live web dashboard of a workspace (Hummingbird; pages, JSON API, Server-Sent Events).
        .target(
            name: "Dashboard",
            dependencies: ["Harness", "Reporting", "AutoResearchCore", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            // The page's script and stylesheet: real files, compiled into the binary.
            resources: [.embedInCode("Assets/core.js"), .embedInCode("Assets/charts.js"), .embedInCode("Assets/pages.js"),
                        .embedInCode("Assets/app.css")]
        ),
        .executableTarget(
            name: "autoresearch",
            dependencies: ["Harness", "ResearchMCP", "Dashboard", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "autoresearch-bench", dependencies: ["TensorCore"], swiftSettings: optimize),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
        .testTarget(name: "SubjectKitTests", dependencies: ["SubjectKit"]),
        .testTarget(name: "SearchResearcherTests", dependencies: ["SearchResearcher", "Reporting"]),
        // Test helpers shared by the test targets: a scripted LLM provider over local HTTP, a throwaway worktree.
        .target(name: "TestSupport", dependencies: ["AgentResearcher", "AutoResearchCore"], path: "Tests/TestSupport",
                exclude: ["Fixtures"]),
        .testTarget(name: "AgentResearcherTests", dependencies: ["AgentResearcher", "TestSupport"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "AutoResearchCore", "AgentResearcher", "TestSupport",
                                                   "ResearchMCP", .product(name: "MCP", package: "swift-sdk"),
                                                   .product(name: "SystemPackage", package: "swift-system")]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "Harness", "AutoResearchCore", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
