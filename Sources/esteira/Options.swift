import ArgumentParser
import EsteiraApp
import EsteiraStore
import Foundation
import Logging

/// Options every command shares: where the data is. A flag given replaces its environment
/// variable; both are read and checked with every other setting by `EsteiraSettings.load`.
struct StoreOptions: ParsableArguments {
    @Option(help: "Folder for the SQLite database and the files (env ESTEIRA_DATA_DIR; default ./esteira-data).")
    var dataDir: String?

    @Option(help: "postgres://user:pass@host:port/db to use PostgreSQL (env DATABASE_URL; default: SQLite in the data folder).")
    var databaseURL: String?

    @Option(help: "s3://bucket/prefix to keep files in S3 (env ESTEIRA_BLOB_URL; see `esteira settings` for the S3 variables). Default: a folder in the data folder.")
    var blobURL: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env ESTEIRA_LOG_LEVEL; default info).")
    var logLevel: String?

    var overrides: [String: String] {
        ["ESTEIRA_DATA_DIR": dataDir, "DATABASE_URL": databaseURL, "ESTEIRA_BLOB_URL": blobURL, "ESTEIRA_LOG_LEVEL": logLevel]
            .compactMapValues { $0 }
    }

    /// Every setting, read and checked; a value that does not read stops the command, naming it.
    func settings(_ more: [String: String] = [:]) throws -> EsteiraSettings {
        do {
            return try EsteiraSettings.load(overrides: overrides.merging(more) { _, flag in flag })
        } catch let error as SettingError {
            // Exit 64 (EX_USAGE), as ArgumentParser's own validation errors, without their usage text.
            FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
            throw ExitCode(64)
        }
    }
}

/// Worker tuning shared by `serve` and `worker`.
struct WorkerOptions: ParsableArguments {
    @Option(help: "Jobs run at once by this process (env ESTEIRA_WORKERS; default: the number of cores, plus 2 on PostgreSQL).")
    var concurrency: Int?

    @Option(help: "Seconds a claimed job is held before another worker may take it (env ESTEIRA_LEASE_SECONDS; default 30).")
    var leaseSeconds: Double?

    var overrides: [String: String] {
        ["ESTEIRA_WORKERS": concurrency.map(String.init), "ESTEIRA_LEASE_SECONDS": leaseSeconds.map { "\($0)" }].compactMapValues { $0 }
    }
}

/// HTTPS for `serve`'s API and `worker`'s metrics port (docs/security.md).
struct TLSOptions: ParsableArguments {
    @Option(help: "Serve HTTPS with this certificate: a PEM file, the certificate then its chain (env ESTEIRA_TLS_CERT; needs --tls-key).")
    var tlsCert: String?

    @Option(help: "The certificate's private key, a PEM file (env ESTEIRA_TLS_KEY).")
    var tlsKey: String?

    var overrides: [String: String] {
        ["ESTEIRA_TLS_CERT": tlsCert, "ESTEIRA_TLS_KEY": tlsKey].compactMapValues { $0 }
    }
}

extension Runtime {
    /// Logging at the settings' level, then the runtime, for the commands that only need the store.
    static func with<T: Sendable>(_ options: StoreOptions, migrate: Bool = true,
                                  _ body: @escaping @Sendable (Runtime) async throws -> T) async throws -> T {
        let settings = try options.settings()
        bootstrapLogging(level: settings.logLevel)
        return try await with(settings, migrate: migrate, body)
    }
}

/// Who the audit names for what the command line changes: the system user running it.
let commandLineActor = AuditActor.cli(user: ProcessInfo.processInfo.userName)

/// A key just issued, printed once: `{"api_key": …, "id": …}` for scripts, or lines for a person.
struct NewKey: Encodable {
    var what: String
    var name: String
    var id: String
    var key: String

    enum CodingKeys: String, CodingKey { case id, key = "api_key" }

    func print(json: Bool) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            Swift.print(String(decoding: try encoder.encode(self), as: UTF8.self))
        } else {
            Swift.print("\(what) created: \(name)")
            Swift.print("  id:      \(id)")
            Swift.print("  api key: \(key)")
            Swift.print("The key is shown only now; store it somewhere safe.")
        }
    }
}
