import ArgumentParser
import EsteiraBlobs
import EsteiraCore
import EsteiraPipeline
import EsteiraNotify
import EsteiraRisk
import EsteiraS3
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Logging
import ServiceLifecycle

/// Options every command shares: where the data is. Each reads its environment variable when the
/// flag is not given.
struct StoreOptions: ParsableArguments {
    @Option(help: "Folder for the SQLite database and the files (env ESTEIRA_DATA_DIR; default ./esteira-data).")
    var dataDir: String?

    @Option(help: "postgres://user:pass@host:port/db to use PostgreSQL (env DATABASE_URL; default: SQLite in the data folder).")
    var databaseURL: String?

    @Option(help: "s3://bucket/prefix to keep files in S3 (env ESTEIRA_BLOB_URL; ESTEIRA_S3_ENDPOINT for an S3-compatible server; credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, region from AWS_REGION). Default: a folder in the data folder.")
    var blobURL: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error (env ESTEIRA_LOG_LEVEL; default info).")
    var logLevel: String?

    var resolvedDataDir: String { dataDir ?? Env.string("ESTEIRA_DATA_DIR") ?? "./esteira-data" }
    var resolvedDatabaseURL: String? { databaseURL ?? Env.string("DATABASE_URL") ?? Env.string("ESTEIRA_DATABASE_URL") }
    var resolvedBlobURL: String? { blobURL ?? Env.string("ESTEIRA_BLOB_URL") }
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
        // ESTEIRA_PG_BULK_WRITES: `copy` (default) or `statements`, how PostgreSQL receives many rows at once.
        guard let bulk = PostgresBulkWrites(rawValue: Env.string("ESTEIRA_PG_BULK_WRITES") ?? "copy") else {
            throw ValidationError("ESTEIRA_PG_BULK_WRITES must be copy or statements")
        }
        // ESTEIRA_CPU_NICE: the scheduling priority of the parsing and encoding threads (CPUWork).
        let cpuNice: Int32? = try Env.string("ESTEIRA_CPU_NICE").map { text in
            guard let nice = Int32(text), (0...19).contains(nice) else {
                throw ValidationError("ESTEIRA_CPU_NICE must be a whole number from 0 to 19")
            }
            return nice
        }
        // ESTEIRA_PG_TRANSACTION_TIMEOUT_SECONDS and ESTEIRA_PG_CONNECTION_WAIT_SECONDS: how long a
        // PostgreSQL transaction may take, and wait for a connection, before its caller gets an error
        // and it is rolled back (see PostgresDatabase.limits).
        let defaults = PostgresLimits()
        let limits = PostgresLimits(transaction: Env.double("ESTEIRA_PG_TRANSACTION_TIMEOUT_SECONDS") ?? defaults.transaction,
                                    connectionWait: Env.double("ESTEIRA_PG_CONNECTION_WAIT_SECONDS") ?? defaults.connectionWait)
        let db = try DatabaseOpener.open(databaseURL: options.resolvedDatabaseURL, dataDirectory: dataDir, logger: logger,
                                         postgresBulkWrites: bulk, postgresLimits: limits)
        // By default lowered only where the inserts run in another process at the normal priority
        // (a PostgreSQL backend); SQLite's writes share this process, and lowering its parsing
        // gained nothing there (docs/benchmarks.md).
        CPUWork.setNice(cpuNice ?? (db is PostgresDatabase ? 10 : 0))
        let blobs = try await openBlobs(options, dataDir: dataDir, logger: logger)
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

extension Runtime {
    /// The pipeline the commands run jobs with: attempts and backoff from the environment
    /// (`RetryPolicy.fromEnvironment`) and the lake's storage budget (ESTEIRA_LAKE_BUDGET_BYTES).
    func pipeline(risk: RiskService? = nil) -> Pipeline {
        var pipeline = Pipeline(db: db, blobs: blobs, logger: logger, risk: risk)
        pipeline.retry = .fromEnvironment
        pipeline.lakeBudgetBytes = Env.int("ESTEIRA_LAKE_BUDGET_BYTES")
        return pipeline
    }

    /// The local folder under the data folder, or the S3 bucket of ESTEIRA_BLOB_URL.
    static func openBlobs(_ options: StoreOptions, dataDir: String, logger: Logger) async throws -> any BlobStore {
        guard let url = options.resolvedBlobURL else { return try LocalBlobStore(root: dataDir + "/blobs") }
        let location = try S3Location.parse(url: url, endpoint: Env.string("ESTEIRA_S3_ENDPOINT"),
                                            region: Env.string("AWS_REGION") ?? Env.string("AWS_DEFAULT_REGION"))
        guard let credentials = AWSCredentials.fromEnvironment() else {
            throw ValidationError("ESTEIRA_BLOB_URL is set but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not")
        }
        // ESTEIRA_S3_TIMEOUT_SECONDS: how long one request may take (a second more per MiB moved),
        // including connection attempts to a server that does not answer. Default 10.
        let timeout = Env.double("ESTEIRA_S3_TIMEOUT_SECONDS") ?? 10
        let store = S3BlobStore(location: location, credentials: credentials, logger: logger,
                                requestTimeout: .milliseconds(Int(timeout * 1000)))
        // Fail at start, with the reason, rather than at the first upload.
        try await store.checkBucket(create: Env.bool("ESTEIRA_S3_CREATE_BUCKET"))
        return store
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
    @Option(help: "Jobs run at once by this process (env ESTEIRA_WORKERS; default: the number of cores, plus 2 on PostgreSQL).")
    var concurrency: Int?

    @Option(help: "Seconds a claimed job is held before another worker may take it (env ESTEIRA_LEASE_SECONDS; default 30).")
    var leaseSeconds: Double?

    /// On PostgreSQL two slots more than the cores: a batch's register steps spend most of their
    /// time waiting on the database (two in their transactions, `RegisterStage.lanes`), and the
    /// cores keep transforming meanwhile. CPU-bound work runs on a pool of one thread per core
    /// (`CPUWork`) whatever the number of slots.
    func settings(kinds: [JobKind] = JobKind.allCases, postgres: Bool) -> Worker.Settings {
        var s = Worker.Settings()
        s.kinds = kinds
        s.concurrency = concurrency ?? Env.int("ESTEIRA_WORKERS") ?? ProcessInfo.processInfo.activeProcessorCount + (postgres ? 2 : 0)
        s.leaseSeconds = leaseSeconds ?? Env.double("ESTEIRA_LEASE_SECONDS") ?? 30
        s.pollSeconds = Env.double("ESTEIRA_POLL_SECONDS") ?? 0.1
        s.graceSeconds = Env.double("ESTEIRA_GRACE_SECONDS") ?? 30
        s.jobTimeoutSeconds = Env.double("ESTEIRA_JOB_TIMEOUT_SECONDS") ?? 900
        return s
    }
}

/// The risk analysis's settings, from the environment (docs/deploy.md):
/// ESTEIRA_RISK_EXTERNAL_URL (the external validation service; none by default),
/// ESTEIRA_RISK_FALLBACK (`approve`, `review` or `reject` when it cannot answer; `review`),
/// ESTEIRA_RISK_CALL_TIMEOUT_MS (one call's timeout; 400), ESTEIRA_RISK_VELOCITY_LIMIT (sightings
/// of one document allowed per hour; 20), ESTEIRA_RISK_MAX_AMOUNT_CENTS (above it, review).
enum RiskSettings {
    static func service(db: any SQLDatabase) -> RiskService {
        var policy = RiskPolicy()
        if let v = Env.string("ESTEIRA_RISK_FALLBACK").flatMap(RiskOutcome.init(rawValue:)) { policy.externalFallback = v }
        if let v = Env.int("ESTEIRA_RISK_VELOCITY_LIMIT") { policy.velocityLimit = v }
        if let v = Env.int("ESTEIRA_RISK_MAX_AMOUNT_CENTS") { policy.maxAmountCents = Int64(v) }
        let validator = Env.string("ESTEIRA_RISK_EXTERNAL_URL").map { url -> ExternalValidator in
            var settings = ExternalValidator.Settings(url: url)
            if let ms = Env.int("ESTEIRA_RISK_CALL_TIMEOUT_MS") { settings.callTimeout = .milliseconds(ms) }
            return ExternalValidator(settings: settings)
        }
        return RiskService(db: db, validator: validator, policy: policy)
    }
}

extension Runtime {
    /// What runs wherever the workers do: the outbox's senders (webhooks always, e-mail when an
    /// SMTP server is configured), the ledger's reconciliation every ESTEIRA_LEDGER_RECONCILE_HOURS
    /// (24), and the lake inbox's watcher (docs/lake.md): every ESTEIRA_LAKE_INBOX_SECONDS (60), the
    /// previous month's files late from day ESTEIRA_LAKE_DUE_DAY (5), off with ESTEIRA_NO_LAKE_INBOX=1.
    /// `jobsReady` wakes this process's workers when a job is queued.
    func workerCompanions(jobsReady: @escaping @Sendable () async -> Void) throws -> [any Service] {
        let hours = Env.double("ESTEIRA_LEDGER_RECONCILE_HOURS") ?? 24
        var senders: [any Service] = [
            WebhookSender(db: db, settings: .fromEnvironment, logger: logger),
            LedgerReconciler(db: db, logger: logger, interval: .milliseconds(Int(hours * 3_600_000))),
        ]
        if !Env.bool("ESTEIRA_NO_LAKE_INBOX") {
            senders.append(LakeInboxWatcher(
                db: db, blobs: blobs, logger: logger,
                interval: .milliseconds(Int((Env.double("ESTEIRA_LAKE_INBOX_SECONDS") ?? 60) * 1000)),
                dueDay: Env.int("ESTEIRA_LAKE_DUE_DAY") ?? 5,
                expectedFrom: Env.string("ESTEIRA_LAKE_EXPECTED_FROM").flatMap(LakeMonth.init),
                retry: .fromEnvironment, jobsReady: jobsReady))
        }
        if let mail = try MailSender.Settings.fromEnvironment() {
            senders.append(try MailSender(db: db, settings: mail, logger: logger))
        } else {
            logger.notice("e-mail is off (no ESTEIRA_SMTP_HOST): e-mails wait in the outbox until it is set")
        }
        return senders
    }
}

extension DeliveryPolicy {
    /// ESTEIRA_NOTIFY_RETRY_BASE_SECONDS (10), ESTEIRA_NOTIFY_RETRY_CAP_SECONDS (3600),
    /// ESTEIRA_NOTIFY_MAX_ATTEMPTS (15), ESTEIRA_NOTIFY_POLL_SECONDS (1): docs/notifications.md.
    static var fromEnvironment: DeliveryPolicy {
        var p = DeliveryPolicy()
        if let v = Env.double("ESTEIRA_NOTIFY_RETRY_BASE_SECONDS") { p.baseSeconds = v }
        if let v = Env.double("ESTEIRA_NOTIFY_RETRY_CAP_SECONDS") { p.capSeconds = v }
        if let v = Env.int("ESTEIRA_NOTIFY_MAX_ATTEMPTS") { p.maxAttempts = max(1, v) }
        if let v = Env.double("ESTEIRA_NOTIFY_POLL_SECONDS") { p.pollSeconds = v }
        return p
    }
}

extension WebhookSender.Settings {
    /// The policy, ESTEIRA_WEBHOOK_TIMEOUT_SECONDS (10), and ESTEIRA_WEBHOOK_ALLOW_PRIVATE=1 (clients'
    /// webhooks may reach private and loopback addresses; off).
    static var fromEnvironment: WebhookSender.Settings {
        var s = WebhookSender.Settings()
        s.policy = .fromEnvironment
        if let v = Env.int("ESTEIRA_WEBHOOK_TIMEOUT_SECONDS") { s.timeout = .seconds(v) }
        s.allowPrivateDestinations = Env.bool("ESTEIRA_WEBHOOK_ALLOW_PRIVATE")
        return s
    }
}

extension MailSender.Settings {
    /// The SMTP server from ESTEIRA_SMTP_HOST, ESTEIRA_SMTP_PORT (587, 465 with `tls`, 25 with
    /// `none`), ESTEIRA_SMTP_SECURITY (`starttls`, `tls` or `none`; starttls), ESTEIRA_SMTP_USERNAME,
    /// ESTEIRA_SMTP_PASSWORD, ESTEIRA_SMTP_FROM (the sender's address), ESTEIRA_SMTP_FROM_NAME
    /// (Esteira), ESTEIRA_SMTP_CA_FILE, ESTEIRA_SMTP_TIMEOUT_SECONDS (30); links in e-mails to
    /// ESTEIRA_PUBLIC_URL. Nil without ESTEIRA_SMTP_HOST: e-mails then wait in the outbox.
    static func fromEnvironment() throws -> MailSender.Settings? {
        guard let host = Env.string("ESTEIRA_SMTP_HOST") else { return nil }
        guard let security = SMTPSettings.Security(rawValue: Env.string("ESTEIRA_SMTP_SECURITY") ?? "starttls") else {
            throw ValidationError("ESTEIRA_SMTP_SECURITY must be starttls, tls or none")
        }
        guard let from = Env.string("ESTEIRA_SMTP_FROM"), MailMessage.isSendable(address: from) else {
            throw ValidationError("ESTEIRA_SMTP_FROM must be the sender's e-mail address when ESTEIRA_SMTP_HOST is set")
        }
        let defaultPort = ["starttls": 587, "tls": 465, "none": 25][security.rawValue] ?? 587
        var smtp = SMTPSettings(host: host, port: Env.int("ESTEIRA_SMTP_PORT") ?? defaultPort, security: security,
                                username: Env.string("ESTEIRA_SMTP_USERNAME"), password: Env.string("ESTEIRA_SMTP_PASSWORD"), from: from,
                                caFile: Env.string("ESTEIRA_SMTP_CA_FILE"))
        if let v = Env.double("ESTEIRA_SMTP_TIMEOUT_SECONDS") { smtp.timeout = .milliseconds(Int(v * 1000)) }
        var s = MailSender.Settings(smtp: smtp)
        s.fromName = Env.string("ESTEIRA_SMTP_FROM_NAME") ?? s.fromName
        s.publicURL = Env.string("ESTEIRA_PUBLIC_URL")
        s.policy = .fromEnvironment
        return s
    }
}
