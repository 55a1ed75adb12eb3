// swift-tools-version:6.2
import PackageDescription

/// Every target gets the same strictness: existentials spelled out, imports visible per file, and
/// imports internal unless written `public import`, so a cross-layer leak is visible in the source.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "patterndesk",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "patterndesk", targets: ["App"]),
        .plugin(name: "CheckArchitecture", targets: ["CheckArchitecture"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "CommandLineArguments"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // Pure, synchronous domain: value types and functions, no dependencies.
        .target(name: "Domain", dependencies: [], swiftSettings: swiftSettings),
        // Port protocols the domain needs from the outside world.
        .target(name: "Ports", dependencies: ["Domain"], swiftSettings: swiftSettings),
        // Adapters: one target per technology.
        .target(
            name: "InMemory",
            dependencies: ["Domain", "Ports"],
            path: "Sources/Adapters/InMemory",
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        // hiredis from Debian's libhiredis-dev.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(
            name: "Redis",
            dependencies: ["Domain", "Ports", "CHiredis", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Adapters/Redis",
            swiftSettings: swiftSettings
        ),
        // PostgreSQL: the catalogue and user data, migrations and seeding.
        .target(
            name: "Postgres",
            dependencies: [
                "Domain", "Ports",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Adapters/Postgres",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HTTP",
            dependencies: [
                "Domain", "Ports",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Adapters/HTTP",
            resources: [.copy("openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WebSocket",
            dependencies: [
                "Domain", "Ports",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Adapters/WebSocket",
            swiftSettings: swiftSettings
        ),
        // Composition root: the `patterndesk` executable.
        .executableTarget(
            name: "App",
            dependencies: [
                "Domain", "Ports", "InMemory", "HTTP", "Postgres", "Redis", "WebSocket",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),  // the benchmark's compiled WebSocket clients
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DomainTests", dependencies: ["Domain"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AdaptersTests",
            dependencies: [
                "Domain", "Ports", "InMemory", "Postgres", "Redis",
                // Tests change rows behind the adapter's back, as an operator in psql would.
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AppTests",
            dependencies: [
                "App", "Domain", "Ports", "InMemory", "HTTP", "Postgres", "WebSocket",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            swiftSettings: swiftSettings
        ),
        .plugin(
            name: "CheckArchitecture",
            capability: .command(
                intent: .custom(verb: "check-architecture", description: "Checks that every target imports only what its layer allows"),
                permissions: []
            )
        ),
    ]
)
