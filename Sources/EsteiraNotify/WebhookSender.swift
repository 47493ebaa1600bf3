import AsyncHTTPClient
import Crypto
import EsteiraCore
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Logging
import Metrics
import NIOCore
import ServiceLifecycle

/// Delivers the outbox's webhooks: claims the notifications that are due, posts each with its
/// signature, and records the attempt. A 2xx answer delivers it; anything else (another status,
/// no answer in `timeout`) tries again as the `DeliveryPolicy` says, then gives up (`dead`, shown
/// in `GET /v1/notifications`, and sent again on request).
///
/// Each request carries `X-Esteira-Event`, `X-Esteira-Delivery` (the notification's id: the same
/// on every attempt, for the receiver to drop repeats), `X-Esteira-Timestamp` (Unix seconds) and
/// `X-Esteira-Signature: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>` under the
/// endpoint's secret.
public struct WebhookSender: Service {
    public struct Settings: Sendable {
        public var policy = DeliveryPolicy()
        public var timeout: Duration = .seconds(10)
        /// Lets clients' webhooks reach private, loopback and link-local addresses
        /// (`ESTEIRA_WEBHOOK_ALLOW_PRIVATE=1`; see `WebhookDestination`).
        public var allowPrivateDestinations = false

        public init() {}
    }

    /// The webhooks' HTTP client: it follows no redirect, so that a public URL cannot send the
    /// request on to an internal one (a 3xx is an answer that is not 2xx, and is retried).
    public static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    let store: NotificationStore
    let settings: Settings
    let logger: Logger
    let http: HTTPClient

    public init(db: any SQLDatabase, settings: Settings = Settings(), logger: Logger, http: HTTPClient = WebhookSender.client) {
        store = NotificationStore(db: db)
        self.settings = settings
        self.logger = logger
        self.http = http
    }

    public func run() async throws {
        let lease = settings.timeout.seconds + 30
        await settings.policy.loop(limit: lease, onOverrun: { [logger] overran in
            logger.error("webhooks: a round did not end within its lease; the next one begins", metadata: ["error": "\(overran)"])
        }) {
            let due: [PendingNotification]
            do {
                due = try await store.claimDue(limit: settings.policy.batch, lease: lease)
            } catch {
                logger.warning("webhooks: cannot read the outbox", metadata: ["error": "\(error)"])
                return 0
            }
            await withTaskGroup(of: Void.self) { group in
                for n in due { group.addTask { await self.deliver(n) } }
            }
            return due.count
        }
    }

    public static func signature(secret: String, timestamp: Int, body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + Hex.encode(mac)
    }

    func deliver(_ n: PendingNotification) async {
        let timestamp = Int(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: n.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Esteira-Webhooks/1")
        request.headers.add(name: "X-Esteira-Event", value: n.event)
        request.headers.add(name: "X-Esteira-Delivery", value: String(n.id))
        request.headers.add(name: "X-Esteira-Timestamp", value: String(timestamp))
        request.headers.add(name: "X-Esteira-Signature", value: Self.signature(secret: n.secret, timestamp: timestamp, body: n.payload))
        request.body = .bytes(ByteBuffer(string: n.payload))
        let started = ContinuousClock.now
        var status: Int?
        var failure: String?
        if !n.operatorTarget, !settings.allowPrivateDestinations, let refusal = await WebhookDestination.check(url: n.url) {
            // Not sent: an internal address is never called, and nothing it would answer is recorded.
            failure = "destino recusado: \(refusal)"
        } else {
            do {
                let response = try await http.execute(request, timeout: .seconds(Int64(settings.timeout.seconds)))
                _ = try? await response.body.collect(upTo: 64 * 1024)
                status = Int(response.status.code)
            } catch {
                failure = "\(error)"
            }
        }
        let delivered = status.map { (200..<300).contains($0) } ?? false
        let attempt = n.attempts + 1
        let retryAt = delivered ? nil : settings.policy.retryAt(afterAttempt: attempt)
        let ms = Int((ContinuousClock.now - started) / .milliseconds(1))
        Counter(label: MetricName.notificationAttempts,
                dimensions: [("channel", "webhook"), ("result", delivered ? "delivered" : retryAt == nil ? "dead" : "retry")]).increment()
        do {
            try await store.recordAttempt(id: n.id, statusCode: status, error: failure.map { String($0.prefix(500)) },
                                          durationMs: ms, delivered: delivered, retryAt: retryAt)
        } catch {
            logger.warning("webhooks: cannot record an attempt", metadata: ["notification": "\(n.id)", "error": "\(error)"])
        }
        logger.info("webhook attempt", metadata: [
            "notification": "\(n.id)", "event": "\(n.event)", "attempt": "\(attempt)", "status": "\(status.map(String.init) ?? "none")",
            "delivered": "\(delivered)",
        ])
    }
}
