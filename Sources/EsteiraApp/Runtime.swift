import EsteiraBlobs
import EsteiraCore
import EsteiraNotify
import EsteiraPipeline
import EsteiraRisk
import EsteiraS3
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Logging
import ServiceLifecycle

/// The opened adapters, from one settings value: the only place that knows them all.
public struct Runtime: Sendable {
    public let settings: EsteiraSettings
    public let db: any SQLDatabase
    public let blobs: any BlobStore
    public let logger: Logger
    public let postgres: PostgresDatabase?

    public static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
    }

    /// A failure to start: a setting that cannot work, said plainly.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Opens the database and blob store, runs `body`, and keeps PostgreSQL's pool running meanwhile.
    /// `database`, when given, is used instead of the one the settings name: the benchmark of
    /// another SQLite binding (Benchmarks/grdb) runs the whole application on it.
    public static func with<T: Sendable>(_ settings: EsteiraSettings, migrate: Bool = true, database: (any SQLDatabase)? = nil,
                                         _ body: @escaping @Sendable (Runtime) async throws -> T) async throws -> T {
        let logger = Logger(label: "esteira")
        let dataDir = settings.store.dataDir
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let limits = PostgresLimits(transaction: settings.store.postgresTransactionSeconds,
                                    connectionWait: settings.store.postgresConnectionWaitSeconds)
        let db = try database ?? DatabaseOpener.open(databaseURL: settings.store.databaseURL, dataDirectory: dataDir, logger: logger,
                                         postgresBulkWrites: settings.store.postgresBulkWrites, postgresLimits: limits)
        // By default lowered only where the inserts run in another process at the normal priority
        // (a PostgreSQL backend); SQLite's writes share this process, and lowering its parsing
        // gained nothing there (docs/benchmarks.md).
        CPUWork.setNice(Int32(settings.store.cpuNice ?? (db is PostgresDatabase ? 10 : 0)))
        let blobs = try await openBlobs(settings, logger: logger)
        let runtime = Runtime(settings: settings, db: db, blobs: blobs, logger: logger, postgres: db as? PostgresDatabase)
        for name in SettingsReport.unknown(in: ProcessInfo.processInfo.environment) {
            logger.warning("not an Esteira setting (a typo?); ignored", metadata: ["variable": "\(name)"])
        }
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

    /// The local folder under the data folder, or the S3 bucket of ESTEIRA_BLOB_URL; sealed with
    /// ESTEIRA_BLOB_ENCRYPTION_KEY when it is set.
    static func openBlobs(_ settings: EsteiraSettings, logger: Logger) async throws -> any BlobStore {
        let store = try await openStore(settings, logger: logger)
        guard let key = settings.store.blobKey else { return store }
        return EncryptedBlobStore(inner: store, key: key, previous: settings.store.blobPreviousKeys)
    }

    static func openStore(_ settings: EsteiraSettings, logger: Logger) async throws -> any BlobStore {
        let s = settings.store
        guard let url = s.blobURL else { return try LocalBlobStore(root: s.dataDir + "/blobs") }
        let location = try S3Location.parse(url: url, endpoint: s.s3Endpoint, region: s.awsRegion)
        guard let id = s.awsAccessKeyID, let secret = s.awsSecretAccessKey else {
            throw StartError(description: "ESTEIRA_BLOB_URL is set but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not")
        }
        let store = S3BlobStore(location: location, credentials: AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: s.awsSessionToken),
                                http: try S3HTTPClients.client(caFile: s.s3CAFile), logger: logger,
                                requestTimeout: .milliseconds(Int(s.s3TimeoutSeconds * 1000)), encryption: s.s3Encryption, kmsKeyID: s.s3KMSKeyID)
        // Fail at start, with the reason, rather than at the first upload.
        try await store.checkBucket(create: s.s3CreateBucket)
        return store
    }

    /// The job queue's attempts and backoff.
    public var retry: RetryPolicy {
        RetryPolicy(maxAttempts: settings.workers.maxAttempts, baseSeconds: settings.workers.retryBaseSeconds,
                    capSeconds: settings.workers.retryCapSeconds)
    }

    /// The pipeline the processes run jobs with.
    public func pipeline(risk: RiskService? = nil) -> Pipeline {
        var pipeline = Pipeline(db: db, blobs: blobs, logger: logger, risk: risk)
        pipeline.retry = retry
        pipeline.lakeBudgetBytes = settings.lake.budgetBytes
        pipeline.rowsPerDay = settings.http.clientRowsPerDay
        return pipeline
    }

    /// The risk analysis (docs/deploy.md): one per process, so one copy of the blacklist, one
    /// breaker and one cache of the external service's answers for the API and the workers.
    public func riskService() -> RiskService {
        let r = settings.risk
        var policy = RiskPolicy()
        policy.externalFallback = r.fallback
        policy.velocityLimit = r.velocityLimit
        if let max = r.maxAmountCents { policy.maxAmountCents = Int64(max) }
        let validator = r.externalURL.map { url -> ExternalValidator in
            var v = ExternalValidator.Settings(url: url)
            v.callTimeout = .milliseconds(r.callTimeoutMs)
            return ExternalValidator(settings: v)
        }
        return RiskService(db: db, validator: validator, policy: policy)
    }

    /// The worker's settings for the kinds given. On PostgreSQL two slots more than the cores: a
    /// batch's register steps spend most of their time waiting on the database, and the cores
    /// keep transforming meanwhile. CPU-bound work runs on a pool of one thread per core
    /// (`CPUWork`) whatever the number of slots.
    public func workerSettings(kinds: [JobKind] = JobKind.allCases) -> Worker.Settings {
        let w = settings.workers
        var s = Worker.Settings()
        s.kinds = kinds
        s.concurrency = w.concurrency ?? ProcessInfo.processInfo.activeProcessorCount + (postgres != nil ? 2 : 0)
        s.leaseSeconds = w.leaseSeconds
        s.pollSeconds = w.pollSeconds
        s.graceSeconds = w.graceSeconds
        s.jobTimeoutSeconds = w.jobTimeoutSeconds
        return s
    }

    var deliveryPolicy: DeliveryPolicy {
        var p = DeliveryPolicy()
        p.baseSeconds = settings.notify.retryBaseSeconds
        p.capSeconds = settings.notify.retryCapSeconds
        p.maxAttempts = settings.notify.maxAttempts
        p.pollSeconds = settings.notify.pollSeconds
        return p
    }

    var webhookSettings: WebhookSender.Settings {
        var s = WebhookSender.Settings()
        s.policy = deliveryPolicy
        s.timeout = .seconds(settings.notify.webhookTimeoutSeconds)
        s.allowPrivateDestinations = settings.notify.webhookAllowPrivate
        return s
    }

    /// The SMTP server, or nil without ESTEIRA_SMTP_HOST: e-mails then wait in the outbox.
    var mailSettings: MailSender.Settings? {
        let n = settings.notify
        guard let host = n.smtpHost, let from = n.smtpFrom else { return nil }
        let defaultPort: Int = switch n.smtpSecurity {
        case .starttls: 587
        case .tls: 465
        case .none: 25
        }
        var smtp = SMTPSettings(host: host, port: n.smtpPort ?? defaultPort, security: n.smtpSecurity,
                                username: n.smtpUsername, password: n.smtpPassword, from: from, caFile: n.smtpCAFile)
        smtp.timeout = .milliseconds(Int(n.smtpTimeoutSeconds * 1000))
        var s = MailSender.Settings(smtp: smtp)
        s.fromName = n.smtpFromName
        s.publicURL = settings.http.publicURL
        s.policy = deliveryPolicy
        return s
    }

    /// What runs wherever the workers do: the outbox's senders (webhooks always, e-mail when an
    /// SMTP server is configured), the ledger's reconciliation, and the lake inbox's watcher
    /// (docs/lake.md). `jobsReady` wakes this process's workers when a job is queued.
    public func workerCompanions(jobsReady: @escaping @Sendable () async -> Void) throws -> [any Service] {
        var senders: [any Service] = [
            WebhookSender(db: db, settings: webhookSettings, logger: logger),
            LedgerReconciler(db: db, logger: logger, interval: .milliseconds(Int(settings.ledger.reconcileHours * 3_600_000))),
        ]
        if !settings.lake.inboxOff {
            senders.append(LakeInboxWatcher(
                db: db, blobs: blobs, logger: logger, interval: .milliseconds(Int(settings.lake.inboxSeconds * 1000)),
                dueDay: settings.lake.dueDay, expectedFrom: settings.lake.expectedFrom, retry: retry, jobsReady: jobsReady))
        }
        if !settings.privacy.purgeOff {
            senders.append(PurgeService(purge: Purge(db: db, blobs: blobs, retention: settings.privacy.retention), logger: logger))
        }
        if let mail = mailSettings {
            senders.append(try MailSender(db: db, settings: mail, logger: logger))
        } else {
            logger.notice("e-mail is off (no ESTEIRA_SMTP_HOST): e-mails wait in the outbox until it is set")
        }
        return senders
    }
}
