import ArgumentParser
import EsteiraCore
import EsteiraHTTP
import EsteiraNotify
import EsteiraRisk
import EsteiraPipeline
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API and, unless --no-workers, every pipeline worker, in one process.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var workers: WorkerOptions

    @Option(help: "Address to listen on (env ESTEIRA_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (env ESTEIRA_PORT; default 8080).")
    var port: Int?

    @Flag(help: "Run only the API; workers run elsewhere (`esteira worker`). Env ESTEIRA_NO_WORKERS=1.")
    var noWorkers = false

    func run() async throws {
        Runtime.bootstrapLogging(level: store.resolvedLogLevel)
        let metrics = MetricsRegistry()
        metrics.bootstrap()
        let host = self.host ?? Env.string("ESTEIRA_HOST") ?? "127.0.0.1"
        let port = self.port ?? Env.int("ESTEIRA_PORT") ?? 8080
        let runWorkers = !(noWorkers || Env.bool("ESTEIRA_NO_WORKERS"))
        let usesPostgres = store.resolvedDatabaseURL != nil
        let workerSettings = workers.settings(postgres: usesPostgres)
        let dataDir = store.resolvedDataDir

        try await Runtime.with(store) { runtime in
            // One risk service for the API and the workers: one copy of the blacklist, one breaker
            // and one cache of the external service's answers.
            let risk = RiskSettings.service(db: runtime.db)
            let pipeline = runtime.pipeline(risk: risk)
            let worker = runWorkers ? Worker(pipeline: pipeline, settings: workerSettings) : nil
            // ESTEIRA_SUBMISSION_TTL_SECONDS: how long a submission may stay open (default a day).
            // ESTEIRA_MAX_FILE_BYTES: the largest file taken by upload or drop folder (default 2 GiB).
            let maxFileBytes = Env.int("ESTEIRA_MAX_FILE_BYTES") ?? 2 << 30
            let router = EsteiraAPI.router(db: runtime.db, blobs: runtime.blobs, metrics: metrics, retry: pipeline.retry,
                                           submissionTTL: Env.double("ESTEIRA_SUBMISSION_TTL_SECONDS") ?? 86_400,
                                           maxFileBytes: maxFileBytes, risk: risk,
                                           ledgerWindowDays: Env.int("ESTEIRA_LEDGER_WINDOW_DAYS") ?? 7,
                                           lakeBudgetBytes: pipeline.lakeBudgetBytes,
                                           webhooksMayBePrivate: Env.bool("ESTEIRA_WEBHOOK_ALLOW_PRIVATE"),
                                           jobsReady: { await worker?.wake() })
            let app = Application(
                router: router,
                // ESTEIRA_UPLOAD_IDLE_SECONDS: a client that sends no byte of its body for this long is cut off (60).
                server: EsteiraAPI.server(bodyIdleSeconds: Env.double("ESTEIRA_UPLOAD_IDLE_SECONDS") ?? 60),
                configuration: .init(address: .hostname(host, port: port), serverName: "esteira"),
                onServerRunning: { channel in
                    let actual = channel.localAddress?.port ?? port
                    let where_ = usesPostgres ? "PostgreSQL" : "SQLite in \(dataDir)"
                    // Written straight to the file descriptor: scripts wait for this line.
                    let line = "Esteira listening on http://\(host):\(actual) (database: \(where_); workers: \(runWorkers ? "on" : "off"))\n"
                    FileHandle.standardOutput.write(Data(line.utf8))
                },
                logger: runtime.logger)
            var services: [any Service] = [app]
            if let worker {
                // The notifications, the reconciliation and the lake inbox run wherever the workers do.
                services += try runtime.workerCompanions(jobsReady: { await worker.wake() })
            }
            // The drop folder (docs/sftp.md): ESTEIRA_INBOX_DIR (default <data-dir>/inbox), scanned
            // every ESTEIRA_INBOX_SECONDS (2); a file waits ESTEIRA_INBOX_QUIET_SECONDS (2) after its
            // last change. ESTEIRA_NO_INBOX=1 turns it off.
            if !Env.bool("ESTEIRA_NO_INBOX") {
                services.append(InboxScanner(
                    db: runtime.db, blobs: runtime.blobs, root: Env.string("ESTEIRA_INBOX_DIR") ?? dataDir + "/inbox",
                    logger: runtime.logger, retry: pipeline.retry, intervalSeconds: Env.double("ESTEIRA_INBOX_SECONDS") ?? 2,
                    quietSeconds: Env.double("ESTEIRA_INBOX_QUIET_SECONDS") ?? 2, maxBytes: maxFileBytes,
                    jobsReady: { await worker?.wake() }))
            }
            // The worker last: a ServiceGroup shuts its services down one at a time, last first, so
            // the worker hears SIGTERM at once and its grace period starts then, not after the
            // drop folder's and the senders' sleeps have run out.
            if let worker { services.append(worker) }
            let group = ServiceGroup(configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: runtime.logger))
            try await group.run()
        }
    }
}
