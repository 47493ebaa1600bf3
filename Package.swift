// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "esteira",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "esteira", targets: ["esteira"]),
        // For Benchmarks/grdb, a package of its own that runs the application on another SQLite binding.
        .library(name: "EsteiraApp", targets: ["EsteiraApp", "EsteiraStore", "EsteiraCore", "EsteiraTelemetry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Pure domain: money, documents, dates, CSV, validation. No I/O.
        .target(name: "EsteiraCore", swiftSettings: swiftSettings),

        // Debian's libsqlite3 (libsqlite3-dev), used through its C API.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // The database: one SQL dialect-neutral store over SQLite and PostgreSQL.
        .target(
            name: "EsteiraStore",
            dependencies: [
                "EsteiraCore", "CSQLite",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // Linux calls Swift's Glibc module does not expose (sync_file_range, mallopt, gettid for a
        // thread's own priority).
        .target(name: "CEsteiraShims"),

        // Debian's zlib (zlib1g-dev): gzip streams for Parquet's GZIP codec, and the raw deflate
        // streams and CRC-32 of the ZIP inside an XLSX.
        .target(name: "CEsteiraGzip", linkerSettings: [.linkedLibrary("z")]),

        // Parquet files written by Esteira itself: the Thrift compact footer, row groups, PLAIN and
        // dictionary encodings, definition levels, statistics, GZIP. Pure encoding, no I/O.
        .target(name: "EsteiraParquet", dependencies: ["CEsteiraGzip"], swiftSettings: swiftSettings),

        // The blob store: raw files and staging files.
        .target(
            name: "EsteiraBlobs",
            dependencies: ["EsteiraCore", "CEsteiraShims", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),

        // The blob store in an S3 bucket (AWS or S3-compatible), with our own Signature V4.
        .target(
            name: "EsteiraS3",
            dependencies: [
                "EsteiraBlobs",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),

        // Logs and metrics shared by every process.
        .target(
            name: "EsteiraTelemetry",
            dependencies: [
                "EsteiraCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),

        // Spreadsheets (XLSX) read as a stream and turned into the CSV the pipeline reads.
        .target(
            name: "EsteiraSheets",
            dependencies: ["EsteiraCore", "CEsteiraGzip"],
            swiftSettings: swiftSettings
        ),

        // libFuzzer targets over the parsers. scripts/fuzz builds them with -sanitize=fuzzer; a
        // plain build makes a stub that says so.
        .executableTarget(
            name: "esteira-fuzz",
            dependencies: ["EsteiraCore", "EsteiraSheets", "CEsteiraShims", "CEsteiraGzip"],
            path: "Fuzz/Targets",
            swiftSettings: swiftSettings
        ),

        // Risk analysis: the external validation service (deadline, retries, breaker, cache) and
        // the gathering of facts the rules of EsteiraCore judge.
        .target(
            name: "EsteiraRisk",
            dependencies: [
                "EsteiraCore", "EsteiraStore", "EsteiraTelemetry",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // A stand-in for the external validation service, for tests and benchmarks: it can be told
        // to answer slowly, fail a share of calls, or hang.
        .executableTarget(
            name: "validation-standin",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: swiftSettings
        ),

        // An open-loop load generator for the risk API's benchmark (scripts/bench-risk).
        .executableTarget(
            name: "risk-load",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // What people outside Esteira read, in Portuguese: the printable slip, the e-mails.
        .target(
            name: "EsteiraDocuments",
            dependencies: ["EsteiraCore", .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: swiftSettings
        ),

        // The ledger's engine under load, in process, on PostgreSQL (scripts/bench-ledger).
        .executableTarget(
            name: "ledger-load",
            dependencies: ["EsteiraCore", "EsteiraStore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // The analytics lake: raw, curated and refined layers in the blob store, as Parquet.
        .target(
            name: "EsteiraLake",
            dependencies: ["EsteiraCore", "EsteiraBlobs", "EsteiraParquet", "EsteiraStore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),

        // Notifications: the webhook sender, the SMTP client and the e-mail sender.
        .target(
            name: "EsteiraNotify",
            dependencies: [
                "EsteiraCore", "EsteiraStore", "EsteiraDocuments", "EsteiraTelemetry",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // The stage handlers and the worker loop.
        .target(
            name: "EsteiraPipeline",
            dependencies: [
                "EsteiraCore", "EsteiraStore", "EsteiraBlobs", "EsteiraTelemetry", "EsteiraSheets", "EsteiraRisk", "EsteiraLake", "CEsteiraShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // The HTTP API.
        .target(
            name: "EsteiraHTTP",
            dependencies: [
                "EsteiraCore", "EsteiraStore", "EsteiraBlobs", "EsteiraTelemetry", "EsteiraSheets", "EsteiraPipeline", "EsteiraRisk", "EsteiraDocuments",
                "EsteiraNotify",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // The composition root: every setting read and checked in one place (`EsteiraSettings`),
        // the adapters opened from it (`Runtime`), and the processes built from them
        // (`EsteiraApplication`), for the command and for tests alike.
        .target(
            name: "EsteiraApp",
            dependencies: [
                "EsteiraCore", "EsteiraStore", "EsteiraBlobs", "EsteiraTelemetry", "EsteiraPipeline", "EsteiraHTTP", "EsteiraS3",
                "EsteiraRisk", "EsteiraNotify",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // The command: its arguments parsed, then EsteiraApp.
        .executableTarget(
            name: "esteira",
            dependencies: [
                "EsteiraApp", "EsteiraCore", "EsteiraStore", "EsteiraBlobs", "EsteiraPipeline", "EsteiraTelemetry", "EsteiraLake", "CEsteiraShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Test helpers shared by test targets: reading drawn barcodes back with real tools.
        .target(
            name: "EsteiraTestSupport",
            dependencies: [
                "EsteiraCore", "EsteiraStore", "EsteiraBlobs", "EsteiraPipeline",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/EsteiraTestSupport", swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EsteiraHTTPTests",
            dependencies: [
                "EsteiraApp", "EsteiraCore", "EsteiraStore", "EsteiraPipeline", "EsteiraTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EsteiraAppTests", dependencies: ["EsteiraApp", "EsteiraTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "EsteiraCoreTests", dependencies: ["EsteiraCore", "EsteiraTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "EsteiraTelemetryTests", dependencies: ["EsteiraCore", "EsteiraTelemetry"], swiftSettings: swiftSettings),
        .testTarget(name: "EsteiraSheetsTests", dependencies: ["EsteiraSheets", "EsteiraCore"],
                    resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(
            name: "EsteiraNotifyTests",
            dependencies: ["EsteiraNotify", "EsteiraDocuments", .product(name: "NIOEmbedded", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EsteiraParquetTests", dependencies: ["EsteiraParquet", "EsteiraTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "EsteiraBlobsTests", dependencies: ["EsteiraBlobs", "EsteiraTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "EsteiraS3Tests", dependencies: ["EsteiraS3", "EsteiraBlobs", "EsteiraTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EsteiraStoreTests",
            dependencies: [
                "EsteiraCore", "EsteiraStore", "EsteiraBlobs", "EsteiraPipeline", "EsteiraLake", "EsteiraTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EsteiraPipelineTests",
            dependencies: ["EsteiraCore", "EsteiraStore", "EsteiraBlobs", "EsteiraPipeline", "EsteiraTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EsteiraLakeTests", dependencies: ["EsteiraCore", "EsteiraStore", "EsteiraBlobs", "EsteiraLake", "EsteiraTestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "EsteiraRiskTests", dependencies: ["EsteiraCore", "EsteiraStore", "EsteiraRisk", "EsteiraTestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(
            name: "EsteiraEndToEndTests",
            dependencies: ["EsteiraCore", "EsteiraS3", "EsteiraBlobs", "EsteiraRisk", "EsteiraTestSupport",
                           .product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: swiftSettings
        ),
    ]
)
