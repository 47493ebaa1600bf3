import EsteiraCore
import EsteiraHTTP
import EsteiraPipeline
import EsteiraRisk
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds Esteira's processes from one runtime (one settings value, its adapters opened):
/// `esteira serve`, `esteira worker` and the tests all go through here.
public enum EsteiraApplication {
    /// The whole HTTP API of a runtime, for `serve` and for tests that call it in process.
    public static func router(_ runtime: Runtime, metrics: MetricsRegistry?, risk: RiskService,
                              jobsReady: @escaping @Sendable () async -> Void = {}) -> Router<EsteiraRequestContext> {
        let s = runtime.settings
        return EsteiraAPI.router(db: runtime.db, blobs: runtime.blobs, metrics: metrics, retry: runtime.retry,
                                 submissionTTL: s.http.submissionTTLSeconds, maxFileBytes: s.http.maxFileBytes, risk: risk,
                                 ledgerWindowDays: s.ledger.windowDays, lakeBudgetBytes: s.lake.budgetBytes,
                                 webhooksMayBePrivate: s.notify.webhookAllowPrivate, metricsToken: s.http.metricsToken,
                                 signIn: SignInGuard(policy: .init(limit: s.http.signInMaxFailures), trustedProxies: s.http.trustedProxies),
                                 quotas: ClientQuotas(requestsPerSecond: s.http.clientRequestsPerSecond, rowsPerDay: s.http.clientRowsPerDay),
                                 erasureHoldDays: s.privacy.retention.erasureHoldDays, jobsReady: jobsReady)
    }

    /// Says where a process listens, once it does: scripts and tests wait for this line.
    public typealias Listening = @Sendable (_ url: String) -> Void

    /// `esteira serve`: the API and, unless the settings turn them off, every worker with its
    /// companions (notifications, reconciliation, lake inbox) and the drop folder.
    public static func serve(_ runtime: Runtime, metrics: MetricsRegistry, onListening: @escaping Listening) throws -> [any Service] {
        let s = runtime.settings
        // One risk service for the API and the workers: one copy of the blacklist, one breaker
        // and one cache of the external service's answers.
        let risk = runtime.riskService()
        let pipeline = runtime.pipeline(risk: risk)
        let worker = s.workers.off ? nil : Worker(pipeline: pipeline, settings: runtime.workerSettings())
        let router = router(runtime, metrics: metrics, risk: risk, jobsReady: { await worker?.wake() })
        let app = Application(
            router: router,
            server: try EsteiraAPI.server(bodyIdleSeconds: s.http.uploadIdleSeconds, tls: s.http.tls),
            configuration: .init(address: .hostname(s.http.host, port: s.http.port), serverName: "esteira"),
            onServerRunning: { channel in
                onListening("\(s.http.scheme)://\(s.http.host):\(channel.localAddress?.port ?? s.http.port)")
            },
            logger: runtime.logger)
        var services: [any Service] = [app]
        if let worker {
            services += try runtime.workerCompanions(jobsReady: { await worker.wake() })
        }
        // The drop folder (docs/sftp.md).
        if !s.inbox.off {
            services.append(InboxScanner(
                db: runtime.db, blobs: runtime.blobs, root: s.inbox.dir ?? s.store.dataDir + "/inbox",
                logger: runtime.logger, retry: runtime.retry, intervalSeconds: s.inbox.scanSeconds,
                quietSeconds: s.inbox.quietSeconds, maxBytes: s.http.maxFileBytes, jobsReady: { await worker?.wake() }))
        }
        // The worker last: a ServiceGroup shuts its services down one at a time, last first, so
        // the worker hears SIGTERM at once and its grace period starts then, not after the drop
        // folder's and the senders' sleeps have run out.
        if let worker { services.append(worker) }
        return services
    }

    /// `esteira worker`: workers for the kinds given, their companions, and `/health` and
    /// `/metrics` on the metrics port when one is set.
    public static func worker(_ runtime: Runtime, kinds: [JobKind], metrics: MetricsRegistry,
                              onListening: @escaping Listening) throws -> [any Service] {
        let s = runtime.settings
        let pipeline = runtime.pipeline(risk: runtime.riskService())
        let worker = Worker(pipeline: pipeline, settings: runtime.workerSettings(kinds: kinds))
        var services: [any Service] = []
        if let port = s.workers.metricsPort {
            services.append(Application(
                router: EsteiraAPI.operationsRouter(db: runtime.db, blobs: runtime.blobs, metrics: metrics,
                                                    metricsToken: s.http.metricsToken, lakeBudgetBytes: s.lake.budgetBytes),
                server: try EsteiraAPI.server(tls: s.http.tls),
                configuration: .init(address: .hostname(s.http.host, port: port), serverName: "esteira-worker"),
                onServerRunning: { channel in onListening("\(s.http.scheme)://\(s.http.host):\(channel.localAddress?.port ?? port)") },
                logger: runtime.logger))
        }
        services += try runtime.workerCompanions(jobsReady: { await worker.wake() })
        // The worker last, so it is the first told to stop (services stop last first).
        services.append(worker)
        return services
    }

    /// Runs the services until SIGTERM or SIGINT.
    public static func run(_ services: [any Service], logger: Logger) async throws {
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
