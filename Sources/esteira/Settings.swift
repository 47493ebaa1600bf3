import ArgumentParser
import EsteiraBlobs
import EsteiraCore
import EsteiraPipeline
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Logging

/// Options every command shares: where the data is. Each reads its environment variable when the
/// flag is not given.
struct StoreOptions: ParsableArguments {
    @Option(help: "Folder for the SQLite database and the files (env ESTEIRA_DATA_DIR; default ./esteira-data).")
    var dataDir: String?

    @Option(help: "postgres://user:pass@host:port/db to use PostgreSQL (env DATABASE_URL; default: SQLite in the data folder).")
    var databaseURL: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error (env ESTEIRA_LOG_LEVEL; default info).")
    var logLevel: String?

    var resolvedDataDir: String { dataDir ?? Env.string("ESTEIRA_DATA_DIR") ?? "./esteira-data" }
    var resolvedDatabaseURL: String? { databaseURL ?? Env.string("DATABASE_URL") ?? Env.string("ESTEIRA_DATABASE_URL") }
    var resolvedLogLevel: Logger.Level {
        (logLevel ?? Env.string("ESTEIRA_LOG_LEVEL")).flatMap(Logger.Level.init(rawValue:)) ?? .info
    }
}

enum Env {
    static func string(_ name: String) -> String? {
        guard let v = ProcessInfo.processInfo.environment[name], !v.isEmpty else { return nil }
        return v
    }
    static func int(_ name: String) -> Int? { string(name).flatMap(Int.init) }
    static func double(_ name: String) -> Double? { string(name).flatMap(Double.init) }
    static func bool(_ name: String) -> Bool {
        ["1", "true", "yes"].contains(string(name)?.lowercased() ?? "")
    }
}

/// The opened adapters: the only place that knows them all.
struct Runtime {
    let db: any SQLDatabase
    let blobs: any BlobStore
    let logger: Logger
    let postgres: PostgresDatabase?

    static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
    }

    /// Opens the database and blob store, runs `body`, and keeps PostgreSQL's pool running meanwhile.
    static func with<T: Sendable>(_ options: StoreOptions, migrate: Bool = true,
                                  _ body: @escaping @Sendable (Runtime) async throws -> T) async throws -> T {
        let logger = Logger(label: "esteira")
        let dataDir = options.resolvedDataDir
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let db = try DatabaseOpener.open(databaseURL: options.resolvedDatabaseURL, dataDirectory: dataDir, logger: logger)
        let blobs = try LocalBlobStore(root: dataDir + "/blobs")
        let runtime = Runtime(db: db, blobs: blobs, logger: logger, postgres: db as? PostgresDatabase)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            if let pg = runtime.postgres { group.addTask { await pg.run() } }
            defer { group.cancelAll() }
            if migrate {
                let applied = try await Migrations.migrate(db)
                if !applied.isEmpty { logger.info("migrations applied", metadata: ["names": "\(applied.joined(separator: ","))"]) }
            }
            return try await body(runtime)
        }
    }
}

extension RetryPolicy {
    /// Attempts and backoff from ESTEIRA_JOB_MAX_ATTEMPTS (default 8), ESTEIRA_RETRY_BASE_SECONDS
    /// (default 1) and ESTEIRA_RETRY_CAP_SECONDS (default 300).
    static var fromEnvironment: RetryPolicy {
        let d = RetryPolicy()
        return RetryPolicy(maxAttempts: max(1, Env.int("ESTEIRA_JOB_MAX_ATTEMPTS") ?? d.maxAttempts),
                           baseSeconds: Env.double("ESTEIRA_RETRY_BASE_SECONDS") ?? d.baseSeconds,
                           capSeconds: Env.double("ESTEIRA_RETRY_CAP_SECONDS") ?? d.capSeconds)
    }
}

/// Worker tuning shared by `serve` and `worker`.
struct WorkerOptions: ParsableArguments {
    @Option(help: "Jobs run at once by this process (env ESTEIRA_WORKERS; default: the number of cores).")
    var concurrency: Int?

    @Option(help: "Seconds a claimed job is held before another worker may take it (env ESTEIRA_LEASE_SECONDS; default 30).")
    var leaseSeconds: Double?

    func settings(kinds: [JobKind] = JobKind.allCases) -> Worker.Settings {
        var s = Worker.Settings()
        s.kinds = kinds
        s.concurrency = concurrency ?? Env.int("ESTEIRA_WORKERS") ?? ProcessInfo.processInfo.activeProcessorCount
        s.leaseSeconds = leaseSeconds ?? Env.double("ESTEIRA_LEASE_SECONDS") ?? 30
        s.pollSeconds = Env.double("ESTEIRA_POLL_SECONDS") ?? 0.1
        return s
    }
}
