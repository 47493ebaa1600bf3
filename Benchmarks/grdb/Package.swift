// swift-tools-version: 6.1
// `esteira serve` on GRDB's DatabasePool instead of Esteira's own SQLite binding, for
// `BENCH_SQLITE=grdb scripts/bench-ingest` (docs/benchmarks.md). A package of its own, so that
// the product's build never compiles GRDB.
import PackageDescription

let package = Package(
    name: "esteira-grdb",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "esteira", path: "../.."),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .executableTarget(name: "esteira-grdb", dependencies: [
            .product(name: "EsteiraApp", package: "esteira"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ]
)
