import EsteiraBlobs
import EsteiraCore
import EsteiraPipeline
import EsteiraRisk
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Hummingbird
import Logging
import Metrics

/// Builds the HTTP API. The command runs it; tests call the same builder.
public enum EsteiraAPI {
    /// `submissionTTL`: how long a submission may stay open before it expires.
    /// `maxFileBytes`: the largest file an upload may send.
    /// `jobsReady` is called after a request enqueues a job, so that workers in the same process
    /// start at once instead of at their next poll.
    public static func router(db: any SQLDatabase, blobs: any BlobStore, metrics: MetricsRegistry?,
                              retry: RetryPolicy = RetryPolicy(), submissionTTL: TimeInterval = 86_400,
                              maxFileBytes: Int = 2 << 30, risk: RiskService? = nil, ledgerWindowDays: Int = 7,
                              lakeBudgetBytes: Int? = nil, webhooksMayBePrivate: Bool = false, metricsToken: String? = nil,
                              signIn: SignInGuard = SignInGuard(), quotas: ClientQuotas = ClientQuotas(),
                              erasureHoldDays: Int = Retention().erasureHoldDays,
                              jobsReady: @escaping @Sendable () async -> Void = {}) -> Router<EsteiraRequestContext> {
        let router = Router(context: EsteiraRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware())
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: LogRequestsMiddleware(.info))

        addOperations(to: router, db: db, blobs: blobs, metrics: metrics, metricsToken: metricsToken, lakeBudgetBytes: lakeBudgetBytes)
        // The contract, open to anyone: it holds no data (APIContract).
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
        }
        router.get("docs") { _, _ in APIDocsPage.response() }

        let risk = risk ?? RiskService(db: db, validator: nil, policy: RiskPolicy())
        // One guard for every door that takes a key (docs/security.md).
        let keys = KeyKeeper(guardian: signIn, store: KeyStore(db: db), audit: AuditLog(db: db))
        // Operators' routes first: `/v1/admin` takes an operator key, never a client's.
        let admin = router.group("v1/admin").add(middleware: OperatorAuthMiddleware(operators: OperatorStore(db: db), keys: keys))
        AdminRoutes(db: db, blacklistCache: risk.blacklist).add(to: admin)
        let ledger = LedgerRoutes(db: db, windowDays: ledgerWindowDays, retry: retry, jobsReady: jobsReady)
        ledger.addAdmin(to: admin)
        LakeRoutes(db: db).addAdmin(to: admin)
        AlertRoutes(db: db).addAdmin(to: admin)
        ReviewRoutes(db: db).addAdmin(to: admin)
        KeyRoutes(db: db).addAdmin(to: admin)
        QuotaRoutes(db: db, quotas: quotas).addAdmin(to: admin)
        PrivacyRoutes(privacy: DebtorPrivacy(db: db, blobs: blobs, holdDays: erasureHoldDays)).addAdmin(to: admin)
        let v1 = router.group("v1").add(middleware: AuthMiddleware(clients: ClientStore(db: db), keys: keys, quotas: quotas))
        BatchRoutes(db: db, blobs: blobs, retry: retry, maxFileBytes: maxFileBytes, jobsReady: jobsReady, quotas: quotas).add(to: v1)
        DebtRoutes(db: db, blobs: blobs, risk: risk, quotas: quotas).add(to: v1)
        FormatRoutes(db: db).add(to: v1)
        CollectionRoutes(db: db).add(to: v1)
        NotificationRoutes(db: db, mayBePrivate: webhooksMayBePrivate).add(to: v1)
        RiskRoutes(service: risk).add(to: v1)
        ledger.add(to: v1)
        PaymentRoutes(db: db, windowDays: ledgerWindowDays).add(to: v1)
        PortfolioRoutes(db: db).add(to: v1)
        KeyRoutes(db: db).add(to: v1)
        QuotaRoutes(db: db, quotas: quotas).add(to: v1)
        SubmissionRoutes(db: db, blobs: blobs, retry: retry, ttl: submissionTTL, jobsReady: jobsReady).add(to: v1)
        WebRoutes(db: db, blobs: blobs, retry: retry, maxFileBytes: maxFileBytes, keys: keys, quotas: quotas, jobsReady: jobsReady).add(to: router)
        ConsoleRoutes(db: db, blobs: blobs, retry: retry, risk: risk, jobsReady: jobsReady, keys: keys, webhooksMayBePrivate: webhooksMayBePrivate)
            .add(to: router)
        return router
    }

    /// `/health` and `/metrics` alone: what a process without the API (`esteira worker`) serves,
    /// so that every process can be watched and scraped.
    public static func operationsRouter(db: any SQLDatabase, blobs: any BlobStore, metrics: MetricsRegistry,
                                        metricsToken: String? = nil, lakeBudgetBytes: Int? = nil) -> Router<EsteiraRequestContext> {
        let router = Router(context: EsteiraRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        addOperations(to: router, db: db, blobs: blobs, metrics: metrics, metricsToken: metricsToken, lakeBudgetBytes: lakeBudgetBytes)
        return router
    }

    static func addOperations(to router: Router<EsteiraRequestContext>, db: any SQLDatabase, blobs: any BlobStore,
                              metrics: MetricsRegistry?, metricsToken: String?, lakeBudgetBytes: Int?) {
        // Healthy when the database answers and the blob store takes a file and gives it up: a
        // process that cannot store an upload is not up, whatever its database says.
        router.get("health") { _, context -> Response in
            var database = "ok", files = "ok"
            do { _ = try await db.query("SELECT 1 AS ok") } catch {
                database = "unavailable"
                context.logger.warning("health: database unavailable", metadata: ["error": "\(error)"])
            }
            do {
                let key = "health/\(UUID().uuidString.lowercased())"
                try await blobs.put(key: key, bytes: Array("ok".utf8))
                guard try await blobs.readAll(key: key) == Array("ok".utf8) else { throw BlobError(code: .io, key: key, detail: "read back differs") }
                try await blobs.delete(key: key)
            } catch {
                files = "unavailable"
                context.logger.warning("health: blob store unavailable", metadata: ["error": "\(error)"])
            }
            let ok = database == "ok" && files == "ok"
            return Response(status: ok ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"blobs":"\#(files)","database":"\#(database)","status":"\#(ok ? "ok" : "unavailable")"}"#)))
        }

        if let metrics {
            router.get("metrics") { request, context -> Response in
                // Its labels carry client ids, never names; a token keeps even those to the scraper.
                if let metricsToken {
                    let sent = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
                    guard let sent, ConstantTime.equal(sent, metricsToken) else {
                        throw APIError(.unauthorized, code: "unauthorized",
                                       message: "As métricas pedem Authorization: Bearer <token> (ESTEIRA_METRICS_TOKEN).")
                    }
                }
                // Jobs by state are read from the queue itself at scrape time, so every process reports the truth.
                if let counts = try? await JobQueue(db: db).countsByState() {
                    for state in JobState.allCases {
                        Gauge(label: MetricName.jobs, dimensions: [("state", state.rawValue)]).record(counts[state] ?? 0)
                    }
                }
                // Batches stalled and notifications waiting, from the shared database.
                if let stalled = try? await BatchStore(db: db).stalledCount() {
                    Gauge(label: MetricName.batchesStalled).record(stalled)
                }
                if let waiting = try? await NotificationStore(db: db).countsByState(["pending", "dead"]) {
                    for (state, n) in waiting { Gauge(label: MetricName.notifications, dimensions: [("state", state)]).record(n) }
                }
                // The last reconciliation of the ledger, by whichever process ran it.
                if let last = try? await LedgerStore(db: db).lastReconciliation() {
                    Gauge(label: MetricName.ledgerDifferences).record(last.differences)
                    Gauge(label: MetricName.ledgerReconciledAt).record(Int(last.ranAt.timeIntervalSince1970))
                }
                // The lake's size per layer, measured in the blob store; over the budget, an alert.
                if let layers = try? await blobs.lakeStorage() {
                    for (layer, size) in layers {
                        Gauge(label: MetricName.lakeBytes, dimensions: [("layer", layer)]).record(size.bytes)
                        Gauge(label: MetricName.lakeFiles, dimensions: [("layer", layer)]).record(size.files)
                    }
                    if let budget = lakeBudgetBytes {
                        let total = layers.values.reduce(0) { $0 + $1.bytes }
                        Gauge(label: MetricName.lakeBudgetBytes).record(budget)
                        Gauge(label: MetricName.lakeOverBudget).record(total > budget ? 1 : 0)
                        if total > budget {
                            context.logger.warning("lake storage over budget", metadata: ["bytes": "\(total)", "budget": "\(budget)"])
                        }
                    }
                }
                return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(bytes: metrics.emit())))
            }
        }
    }
}
