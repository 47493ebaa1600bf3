import EsteiraCore
import EsteiraHTTP
import EsteiraNotify
import EsteiraS3
import EsteiraStore
import Foundation
import Logging

/// Every setting of every process, read and checked in one place (`load`), from the environment
/// with command-line flags over it. The list of settings is what `load` reads: `esteira settings`
/// prints it with the values in effect, and the README's table is generated from it
/// (`esteira settings --markdown`, checked by a test).
///
/// Why not swift-configuration: its readers with a default answer the default when a value does
/// not convert (`ESTEIRA_PORT=abc` would run on 8080), and it keeps no list of the keys a program
/// reads, which the table and `esteira settings` need. Reading environment variables is a few
/// lines; the list and the checks are the point.
public struct EsteiraSettings: Sendable {
    public struct Store: Sendable {
        public var dataDir: String
        public var databaseURL: String?
        public var blobURL: String?
        public var s3Endpoint: String?
        public var s3TimeoutSeconds: Double
        public var s3CreateBucket: Bool
        public var s3CAFile: String?
        public var s3Encryption: S3ServerSideEncryption
        public var s3KMSKeyID: String?
        /// 32 bytes: blobs are sealed with it (`EncryptedBlobStore`); nil, stored as they come.
        public var blobKey: [UInt8]?
        /// Keys blobs sealed before a rotation were sealed with: still read.
        public var blobPreviousKeys: [[UInt8]]
        public var awsAccessKeyID: String?
        public var awsSecretAccessKey: String?
        public var awsSessionToken: String?
        public var awsRegion: String?
        public var postgresBulkWrites: PostgresBulkWrites
        public var postgresTransactionSeconds: Double
        public var postgresConnectionWaitSeconds: Double
        public var cpuNice: Int?
    }

    public struct HTTP: Sendable {
        public var host: String
        public var port: Int
        public var uploadIdleSeconds: Double
        public var maxFileBytes: Int
        public var submissionTTLSeconds: Double
        public var publicURL: String?
        /// HTTPS for the API and the worker's metrics port, when a certificate and key are set.
        public var tls: ServerTLS?
        /// `/metrics` answers only with `Authorization: Bearer <token>` when set.
        public var metricsToken: String?
        /// Proxies whose `X-Forwarded-For` names the client's address.
        public var trustedProxies: Set<String>
        /// Wrong keys from one address within 15 minutes before it is refused.
        public var signInMaxFailures: Int
        /// A client's limits when it has none of its own.
        public var clientRequestsPerSecond: Int
        public var clientRowsPerDay: Int
    }

    public struct Workers: Sendable {
        public var off: Bool
        public var concurrency: Int?
        public var leaseSeconds: Double
        public var pollSeconds: Double
        public var graceSeconds: Double
        public var jobTimeoutSeconds: Double
        public var maxAttempts: Int
        public var retryBaseSeconds: Double
        public var retryCapSeconds: Double
        public var metricsPort: Int?
        public var subBatchSize: Int
    }

    public struct Inbox: Sendable {
        public var off: Bool
        public var dir: String?
        public var scanSeconds: Double
        public var quietSeconds: Double
    }

    public struct Risk: Sendable {
        public var externalURL: String?
        public var fallback: RiskOutcome
        public var callTimeoutMs: Int
        public var velocityLimit: Int
        public var maxAmountCents: Int?
    }

    public struct Notify: Sendable {
        public var retryBaseSeconds: Double
        public var retryCapSeconds: Double
        public var maxAttempts: Int
        public var pollSeconds: Double
        public var webhookTimeoutSeconds: Int
        public var webhookAllowPrivate: Bool
        public var smtpHost: String?
        public var smtpPort: Int?
        public var smtpSecurity: SMTPSettings.Security
        public var smtpUsername: String?
        public var smtpPassword: String?
        public var smtpFrom: String?
        public var smtpFromName: String
        public var smtpCAFile: String?
        public var smtpTimeoutSeconds: Double
    }

    public struct Ledger: Sendable {
        public var windowDays: Int
        public var reconcileHours: Double
    }

    public struct Lake: Sendable {
        public var budgetBytes: Int?
        public var inboxOff: Bool
        public var inboxSeconds: Double
        public var dueDay: Int
        public var expectedFrom: LakeMonth?
    }

    public struct Privacy: Sendable {
        /// How long each kind of data is kept (docs/security.md).
        public var retention: Retention
        /// No daily purge in this process.
        public var purgeOff: Bool
    }

    public var logLevel: Logger.Level
    public var store: Store
    public var http: HTTP
    public var workers: Workers
    public var inbox: Inbox
    public var risk: Risk
    public var notify: Notify
    public var ledger: Ledger
    public var lake: Lake
    public var privacy: Privacy

    /// Every setting, in the order `load` reads them.
    public static let catalog: [SettingEntry] = {
        let values = SettingsValues(environment: [:])
        _ = try? load(values)
        return values.read
    }()

    /// Reads and checks every setting. Throws `SettingError` for the first that does not read, or
    /// a `SettingError` naming two settings that cannot go together.
    public static func load(_ v: SettingsValues) throws -> EsteiraSettings {
        let logLevel = try v(.choice("ESTEIRA_LOG_LEVEL", flag: "--log-level", default: Logger.Level.info, "Log level."))
        let store = Store(
            dataDir: try v(.text("ESTEIRA_DATA_DIR", flag: "--data-dir", shown: "`./esteira-data`",
                                 "Folder for the SQLite database, the files and the drop folder.")) ?? "./esteira-data",
            databaseURL: try v(.text("DATABASE_URL", flag: "--database-url", shown: "SQLite in the data folder", secret: true,
                                     form: "postgres://user:password@host:port/database, or sqlite:///path/to/file",
                                     "PostgreSQL instead of SQLite (`ESTEIRA_DATABASE_URL` is read when this is unset).",
                                     check: isPostgresURL))
                ?? v(.text("ESTEIRA_DATABASE_URL", shown: "none", secret: true, form: "postgres://user:password@host:port/database, or sqlite:///path/to/file",
                           "The same as `DATABASE_URL`, under Esteira's own prefix.", check: isPostgresURL)),
            blobURL: try v(.text("ESTEIRA_BLOB_URL", flag: "--blob-url", shown: "a folder in the data folder", form: "s3://bucket or s3://bucket/prefix",
                                 "Keep files in an S3 bucket.", check: { $0.hasPrefix("s3://") && $0.count > 5 })),
            s3Endpoint: try v(.text("ESTEIRA_S3_ENDPOINT", shown: "AWS", form: "http(s)://host[:port]",
                                    "An S3-compatible server instead of AWS.", check: isHTTPURL)),
            s3TimeoutSeconds: try v(.seconds("ESTEIRA_S3_TIMEOUT_SECONDS", default: 10, "One S3 request's deadline (plus a second per MiB moved).")),
            s3CreateBucket: try v(.onOff("ESTEIRA_S3_CREATE_BUCKET", "Create the bucket at start when it is missing.")),
            s3CAFile: try v(.text("ESTEIRA_S3_CA_FILE", shown: "the system's", form: "a PEM file of CA certificates",
                                  "CA certificates that an HTTPS S3-compatible server's certificate is checked against.",
                                  check: { FileManager.default.isReadableFile(atPath: $0) })),
            s3Encryption: try v(.choice("ESTEIRA_S3_SSE", default: S3ServerSideEncryption.none,
                                        "Server-side encryption asked for every object written to S3 (`AES256`: SSE-S3; `aws:kms`: SSE-KMS).")),
            s3KMSKeyID: try v(.text("ESTEIRA_S3_SSE_KMS_KEY_ID", shown: "the bucket's default key", form: "a KMS key id or ARN",
                                    "The KMS key of `ESTEIRA_S3_SSE=aws:kms`.")),
            blobKey: try v(.text("ESTEIRA_BLOB_ENCRYPTION_KEY", secret: true, form: "32 bytes in base64 (openssl rand -base64 32)",
                                 "Seal every blob written (raw files, converted CSVs, staging, drafts) with AES-256-GCM under this key.",
                                 check: { Self.blobKey($0) != nil })).flatMap(Self.blobKey),
            blobPreviousKeys: try v(.text("ESTEIRA_BLOB_ENCRYPTION_KEY_PREVIOUS", secret: true, form: "32-byte keys in base64, separated by commas",
                                          "Keys that sealed blobs before a rotation; blobs they sealed still read.",
                                          check: { $0.split(separator: ",").allSatisfy { Self.blobKey(String($0)) != nil } }))
                .map { $0.split(separator: ",").compactMap { Self.blobKey(String($0)) } } ?? [],
            awsAccessKeyID: try v(.text("AWS_ACCESS_KEY_ID", secret: true, "S3 credentials: the key id.")),
            awsSecretAccessKey: try v(.text("AWS_SECRET_ACCESS_KEY", secret: true, "S3 credentials: the secret.")),
            awsSessionToken: try v(.text("AWS_SESSION_TOKEN", secret: true, "S3 credentials: a session token, with temporary ones.")),
            awsRegion: try v(.text("AWS_REGION", shown: "`us-east-1`", "The bucket's region (`AWS_DEFAULT_REGION` is read when this is unset)."))
                ?? v(.text("AWS_DEFAULT_REGION", "The bucket's region, when `AWS_REGION` is unset.")),
            postgresBulkWrites: try v(.choice("ESTEIRA_PG_BULK_WRITES", default: PostgresBulkWrites.copy,
                                              "How PostgreSQL receives many rows at once.")),
            postgresTransactionSeconds: try v(.seconds("ESTEIRA_PG_TRANSACTION_TIMEOUT_SECONDS", default: PostgresLimits().transaction,
                                                       "A PostgreSQL transaction taking longer is rolled back and its caller told.")),
            postgresConnectionWaitSeconds: try v(.seconds("ESTEIRA_PG_CONNECTION_WAIT_SECONDS", default: PostgresLimits().connectionWait,
                                                          "Waiting longer for a pooled PostgreSQL connection is an error.")),
            cpuNice: try v(.optionalWhole("ESTEIRA_CPU_NICE", shown: "10 on PostgreSQL, 0 on SQLite", in: 0...19,
                                          "Nice value of the threads that parse and encode sub-batches.")))
        let http = HTTP(
            host: try v(.text("ESTEIRA_HOST", flag: "--host", shown: "`127.0.0.1`", "Address the API listens on.")) ?? "127.0.0.1",
            port: try v(.whole("ESTEIRA_PORT", flag: "--port", default: 8080, shown: "8080", in: 0...65535,
                               "Port the API listens on; 0 picks a free one.")),
            uploadIdleSeconds: try v(.seconds("ESTEIRA_UPLOAD_IDLE_SECONDS", default: 60,
                                              "A client that sends no byte of its body for this long is cut off (nothing kept).")),
            maxFileBytes: try v(.whole("ESTEIRA_MAX_FILE_BYTES", default: 2 << 30, shown: "2,147,483,648 (2 GiB)", in: 1...Int.max,
                                       "The largest file taken by upload (413 beyond it, nothing kept) or drop folder.")),
            submissionTTLSeconds: try v(.seconds("ESTEIRA_SUBMISSION_TTL_SECONDS", default: 86_400, "How long a submission may stay open.")),
            publicURL: try v(.text("ESTEIRA_PUBLIC_URL", form: "http(s)://host[:port][/path]", "The address in links in e-mails.", check: isHTTPURL)),
            tls: try serverTLS(
                certificate: v(.text("ESTEIRA_TLS_CERT", flag: "--tls-cert", form: "a PEM file: the certificate, then its chain",
                                     "Serve HTTPS (the API, and a worker's metrics port) with this certificate; with `ESTEIRA_TLS_KEY`.")),
                key: v(.text("ESTEIRA_TLS_KEY", flag: "--tls-key", form: "a PEM file: the certificate's private key",
                             "The private key of `ESTEIRA_TLS_CERT`."))),
            metricsToken: try v(.text("ESTEIRA_METRICS_TOKEN", secret: true, form: "16 or more characters",
                                      "`/metrics` answers only requests with `Authorization: Bearer <this>`.",
                                      check: { $0.count >= 16 })),
            trustedProxies: Set(try v(.text("ESTEIRA_TRUSTED_PROXIES", form: "IP addresses separated by commas",
                                            "Proxies in front of the API whose `X-Forwarded-For` names the client's address (for the sign-in throttle).",
                                            check: { ipAddresses($0) != nil })).flatMap(ipAddresses) ?? []),
            signInMaxFailures: try v(.whole("ESTEIRA_SIGNIN_MAX_FAILURES", default: 20, in: 6...10_000,
                                            "Wrong keys from one address within 15 minutes before it gets 429 (the 6th on wait longer each).")),
            clientRequestsPerSecond: try v(.whole("ESTEIRA_CLIENT_REQUESTS_PER_SECOND", default: 50, in: 1...1_000_000,
                                                  "A client's API requests per second (per API process), unless set for the client.")),
            clientRowsPerDay: try v(.whole("ESTEIRA_CLIENT_ROWS_PER_DAY", default: 20_000_000, in: 1...Int.max,
                                           "A client's rows a day by every channel (São Paulo's day), unless set for the client.")))
        let workers = Workers(
            off: try v(.onOff("ESTEIRA_NO_WORKERS", flag: "--no-workers", "Run only the API; workers run elsewhere (`esteira worker`).")),
            concurrency: try v(.optionalWhole("ESTEIRA_WORKERS", flag: "--concurrency", shown: "the number of cores, plus 2 on PostgreSQL",
                                              in: 1...1024, "Jobs run at once by this process.")),
            leaseSeconds: try v(.seconds("ESTEIRA_LEASE_SECONDS", flag: "--lease-seconds", default: 30,
                                         "How long a claimed job is held before another worker may take it.")),
            pollSeconds: try v(.seconds("ESTEIRA_POLL_SECONDS", default: 0.1, "How long an idle worker waits before looking again.")),
            graceSeconds: try v(.seconds("ESTEIRA_GRACE_SECONDS", default: 30, zeroAllowed: true, "After SIGTERM, time for jobs in hand; then they are released.")),
            jobTimeoutSeconds: try v(.seconds("ESTEIRA_JOB_TIMEOUT_SECONDS", default: 900, "A job running longer is abandoned and retried.")),
            maxAttempts: try v(.whole("ESTEIRA_JOB_MAX_ATTEMPTS", default: 8, in: 1...1000, "Attempts before a job is dead.")),
            retryBaseSeconds: try v(.seconds("ESTEIRA_RETRY_BASE_SECONDS", default: 1, "Retry backoff's base (exponential, full jitter).")),
            retryCapSeconds: try v(.seconds("ESTEIRA_RETRY_CAP_SECONDS", default: 300, "Retry backoff's cap.")),
            metricsPort: try v(.optionalWhole("ESTEIRA_METRICS_PORT", flag: "--metrics-port", shown: "none (`esteira worker` serves no HTTP)",
                                              in: 0...65535, "`esteira worker` serves `/health` and `/metrics` on this port; 0 picks a free one.")),
            // 20,000 rather than 10,000: on SQLite each commit writes every index page it dirtied,
            // so larger commits write less for the same rows (docs/benchmarks.md, "The sub-batch size").
            subBatchSize: try v(.whole("ESTEIRA_SUB_BATCH_SIZE", flag: "--sub-batch-size", default: 20_000, in: 1...10_000_000,
                                       "Records per sub-batch for clients created without one.")))
        let inbox = Inbox(
            off: try v(.onOff("ESTEIRA_NO_INBOX", "Turn the SFTP drop folder off.")),
            dir: try v(.text("ESTEIRA_INBOX_DIR", shown: "`<data-dir>/inbox`", "The drop folder's root.")),
            scanSeconds: try v(.seconds("ESTEIRA_INBOX_SECONDS", default: 2, "How often the drop folder is scanned.")),
            quietSeconds: try v(.seconds("ESTEIRA_INBOX_QUIET_SECONDS", default: 2, zeroAllowed: true, "A dropped file waits this long after its last change.")))
        let risk = Risk(
            externalURL: try v(.text("ESTEIRA_RISK_EXTERNAL_URL", form: "http(s)://host[:port]/path",
                                     "The external CPF/CNPJ validation service.", check: isHTTPURL)),
            fallback: try v(.choice("ESTEIRA_RISK_FALLBACK", default: RiskOutcome.review,
                                    "The decision when the external service cannot answer in time.")),
            callTimeoutMs: try v(.whole("ESTEIRA_RISK_CALL_TIMEOUT_MS", default: 400, in: 1...60_000, "One call to the external service, in milliseconds.")),
            velocityLimit: try v(.whole("ESTEIRA_RISK_VELOCITY_LIMIT", default: RiskPolicy().velocityLimit, in: 1...Int.max,
                                        "Analyses of one document per client allowed in the velocity window (K006 beyond).")),
            maxAmountCents: try v(.optionalWhole("ESTEIRA_RISK_MAX_AMOUNT_CENTS", shown: "the policy's", in: 1...Int.max,
                                                 "Amounts above it go to review, for clients without their own limit.")))
        let smtpSecurity = try v(.choice("ESTEIRA_SMTP_SECURITY", default: SMTPSettings.Security.starttls, "How the SMTP connection is encrypted."))
        let notify = Notify(
            retryBaseSeconds: try v(.seconds("ESTEIRA_NOTIFY_RETRY_BASE_SECONDS", default: 10, "Notifications' retry backoff: base.")),
            retryCapSeconds: try v(.seconds("ESTEIRA_NOTIFY_RETRY_CAP_SECONDS", default: 3600, "Notifications' retry backoff: cap.")),
            maxAttempts: try v(.whole("ESTEIRA_NOTIFY_MAX_ATTEMPTS", default: 15, in: 1...1000, "Attempts before a notification is dead.")),
            pollSeconds: try v(.seconds("ESTEIRA_NOTIFY_POLL_SECONDS", default: 1, "How often the outbox is looked at.")),
            webhookTimeoutSeconds: try v(.whole("ESTEIRA_WEBHOOK_TIMEOUT_SECONDS", default: 10, in: 1...600, "One webhook call's timeout, in seconds.")),
            webhookAllowPrivate: try v(.onOff("ESTEIRA_WEBHOOK_ALLOW_PRIVATE",
                                              "Clients' webhooks may reach private, loopback and link-local addresses.")),
            smtpHost: try v(.text("ESTEIRA_SMTP_HOST", shown: "none (e-mails wait in the outbox)", "The SMTP server.")),
            smtpPort: try v(.optionalWhole("ESTEIRA_SMTP_PORT", shown: "587; 465 with `tls`; 25 with `none`", in: 1...65535, "The SMTP port.")),
            smtpSecurity: smtpSecurity,
            smtpUsername: try v(.text("ESTEIRA_SMTP_USERNAME", "SMTP user name.")),
            smtpPassword: try v(.text("ESTEIRA_SMTP_PASSWORD", secret: true, "SMTP password.")),
            smtpFrom: try v(.text("ESTEIRA_SMTP_FROM", form: "an e-mail address", "The sender's address (required with `ESTEIRA_SMTP_HOST`).",
                                  check: MailMessage.isSendable(address:))),
            smtpFromName: try v(.text("ESTEIRA_SMTP_FROM_NAME", shown: "Esteira", "The sender's name.")) ?? "Esteira",
            smtpCAFile: try v(.text("ESTEIRA_SMTP_CA_FILE", shown: "the system's", "CA certificates (PEM) that the SMTP server's certificate is checked against.")),
            smtpTimeoutSeconds: try v(.seconds("ESTEIRA_SMTP_TIMEOUT_SECONDS", default: 30, "One SMTP conversation's deadline.")))
        let ledger = Ledger(
            windowDays: try v(.whole("ESTEIRA_LEDGER_WINDOW_DAYS", default: 7, in: 0...366, "The ledger's retroactive window, in days.")),
            reconcileHours: try v(.seconds("ESTEIRA_LEDGER_RECONCILE_HOURS", default: 24, "Hours between ledger reconciliations (a number of hours).")))
        let lake = Lake(
            budgetBytes: try v(.optionalWhole("ESTEIRA_LAKE_BUDGET_BYTES", in: 1...Int.max, "The lake's storage budget; an alert when passed.")),
            inboxOff: try v(.onOff("ESTEIRA_NO_LAKE_INBOX", "Turn the lake inbox's watcher off.")),
            inboxSeconds: try v(.seconds("ESTEIRA_LAKE_INBOX_SECONDS", default: 60, "How often the lake inbox is scanned.")),
            dueDay: try v(.whole("ESTEIRA_LAKE_DUE_DAY", default: 5, in: 1...32,
                                 "From this day of a month, the previous month's lake files are late (32: never).")),
            expectedFrom: try v(.text("ESTEIRA_LAKE_EXPECTED_FROM", form: "a month, YYYY-MM",
                                      "The first month whose lake files are expected, before any has run.",
                                      check: { LakeMonth($0) != nil })).flatMap(LakeMonth.init))
        var retention = Retention()
        retention.filesDays = try v(.whole("ESTEIRA_RETAIN_FILES_DAYS", default: retention.filesDays, in: 1...36_500,
                                           "Days a client's raw files (and converted CSVs) are kept after their batch ends."))
        retention.draftHours = try v(.whole("ESTEIRA_RETAIN_DRAFTS_HOURS", default: retention.draftHours, in: 1...87_600,
                                            "Hours a file uploaded on the web pages and never confirmed is kept."))
        retention.previewDays = try v(.whole("ESTEIRA_RETAIN_PREVIEWS_DAYS", default: retention.previewDays, in: 1...36_500,
                                             "Days a dry run's preview waits for its confirmation before its batch is cancelled."))
        retention.stagingDays = try v(.whole("ESTEIRA_RETAIN_STAGING_DAYS", default: retention.stagingDays, in: 1...36_500,
                                             "Days staging files a crashed step left are kept after their batch ends."))
        retention.rejectLinesDays = try v(.whole("ESTEIRA_RETAIN_REJECT_LINES_DAYS", default: retention.rejectLinesDays, in: 1...36_500,
                                                 "Days the raw text of a rejected line is kept (its code and message stay)."))
        retention.riskDecisionsDays = try v(.whole("ESTEIRA_RETAIN_RISK_DECISIONS_DAYS", default: retention.riskDecisionsDays, in: 1...36_500,
                                                   "Days a risk decision is kept."))
        retention.notificationsDays = try v(.whole("ESTEIRA_RETAIN_NOTIFICATIONS_DAYS", default: retention.notificationsDays, in: 1...36_500,
                                                   "Days a delivered or dead notification (and its attempts) is kept."))
        retention.jobsDays = try v(.whole("ESTEIRA_RETAIN_JOBS_DAYS", default: retention.jobsDays, in: 1...36_500,
                                          "Days a finished job is kept (dead ones stay)."))
        retention.submissionsDays = try v(.whole("ESTEIRA_RETAIN_SUBMISSIONS_DAYS", default: retention.submissionsDays, in: 1...36_500,
                                                 "Days the lines of a submitted or expired submission are kept."))
        retention.erasureHoldDays = try v(.whole("ESTEIRA_ERASURE_HOLD_DAYS", default: retention.erasureHoldDays, in: 0...36_500,
                                                 "Days after a debtor's last debt closed before the debtor may be erased (esteira privacy erase)."))
        let privacy = Privacy(retention: retention,
                              purgeOff: try v(.onOff("ESTEIRA_NO_PURGE", "No daily purge in this process (another runs it, or none should).")))
        if store.awsAccessKeyID != nil && store.awsSecretAccessKey == nil || store.awsAccessKeyID == nil && store.awsSecretAccessKey != nil {
            throw SettingError(name: "AWS_ACCESS_KEY_ID", value: "…", form: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set together")
        }
        if !store.blobPreviousKeys.isEmpty && store.blobKey == nil {
            throw SettingError(name: "ESTEIRA_BLOB_ENCRYPTION_KEY_PREVIOUS", value: "…", form: "set with ESTEIRA_BLOB_ENCRYPTION_KEY, the key that seals now")
        }
        if store.s3KMSKeyID != nil && store.s3Encryption != .kms {
            throw SettingError(name: "ESTEIRA_S3_SSE", value: store.s3Encryption.rawValue, form: "aws:kms when ESTEIRA_S3_SSE_KMS_KEY_ID is set")
        }
        if notify.smtpHost != nil && notify.smtpFrom == nil {
            throw SettingError(name: "ESTEIRA_SMTP_FROM", value: "", form: "the sender's e-mail address when ESTEIRA_SMTP_HOST is set")
        }
        return EsteiraSettings(logLevel: logLevel, store: store, http: http, workers: workers, inbox: inbox, risk: risk,
                               notify: notify, ledger: ledger, lake: lake, privacy: privacy)
    }

    /// From this process's environment, with `overrides` (flags) over it.
    public static func load(overrides: [String: String] = [:]) throws -> EsteiraSettings {
        try load(SettingsValues(environment: ProcessInfo.processInfo.environment, overrides: overrides))
    }

    /// Both files or neither; read and checked now, so that a wrong file stops the process at
    /// start instead of failing every handshake.
    static func serverTLS(certificate: String?, key: String?) throws -> ServerTLS? {
        switch (certificate, key) {
        case (nil, nil):
            return nil
        case (let certificate?, nil):
            throw SettingError(name: "ESTEIRA_TLS_KEY", value: "", form: "the private key's PEM file, since ESTEIRA_TLS_CERT=\(certificate) is set")
        case (nil, let key?):
            throw SettingError(name: "ESTEIRA_TLS_CERT", value: "", form: "the certificate's PEM file, since ESTEIRA_TLS_KEY=\(key) is set")
        case (let certificate?, let key?):
            do { return try ServerTLS(certificateFile: certificate, keyFile: key) } catch let problem as ServerTLS.Problem {
                let name = problem.file == certificate ? "ESTEIRA_TLS_CERT" : "ESTEIRA_TLS_KEY"
                throw SettingError(name: name, value: problem.file, form: "a usable file; it \(problem.reason)")
            }
        }
    }

    /// The addresses of a comma-separated list, or nil when one is not an IP address's text.
    static func ipAddresses(_ text: String) -> [String]? {
        let addresses = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard addresses.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" } }) else { return nil }
        return addresses
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), url.host?.isEmpty == false else { return false }
        return scheme == "http" || scheme == "https"
    }

    static func isPostgresURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else { return false }
        return scheme == "postgres" || scheme == "postgresql" || scheme == "sqlite"
    }
}

extension EsteiraSettings.HTTP {
    /// How this process's listeners are reached.
    public var scheme: String { tls == nil ? "http" : "https" }

}

extension EsteiraSettings {
    /// A blob key: exactly 32 bytes, written in base64.
    static func blobKey(_ text: String) -> [UInt8]? {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespaces)), data.count == 32 else { return nil }
        return Array(data)
    }
}
