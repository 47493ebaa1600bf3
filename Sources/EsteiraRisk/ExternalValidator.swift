import AsyncHTTPClient
import EsteiraCore
import EsteiraTelemetry
import Foundation
import Metrics
import NIOCore
import Synchronization

/// The external CPF/CNPJ validation service, called within the analysis's deadline.
///
/// The protocol, which any HTTP service can speak: `POST <url>` with
/// `{"document": "<digits>"}`; 200 with `{"restricted": false}` or
/// `{"restricted": true, "reason": "…"}`. Anything else (another status, a body that does not
/// parse, no answer in time) is a failure.
///
/// Each call has its own timeout, never past the deadline; failures are retried with jittered
/// backoff while the deadline leaves room and the retry budget allows (a share of first attempts,
/// so that a service failing half its calls is not sent half as many calls again); a circuit
/// breaker stops calling a service that keeps failing, or fails too large a share of its calls,
/// and probes it again later; no more than `maxInFlight` calls are out at once (beyond them the
/// answer is unavailable at once, rather than a queue in front of a slow service); answers are
/// cached for a while. When no answer can be had, the result is `.unavailable` with the reason,
/// and the rules apply the fallback.
public final class ExternalValidator: Sendable {
    public struct Settings: Sendable {
        public var url: String
        public var callTimeout: Duration = .milliseconds(400)
        public var attempts: Int = 3
        public var backoffBase: Duration = .milliseconds(50)
        public var failureThreshold: Int = 5
        /// The share of calls failing over the breaker's window that opens it.
        public var failureRate: Double = 0.5
        public var openSeconds: Double = 10
        public var cacheSeconds: Double = 300
        public var cacheCapacity: Int = 200_000
        /// Retries allowed: this share of first attempts, plus `retriesPerSecond`.
        public var retryRatio: Double = 0.1
        public var retriesPerSecond: Double = 10
        /// Calls out at the same time, at most.
        public var maxInFlight: Int = 256

        public init(url: String) { self.url = url }
    }

    struct State: Sendable {
        var breaker: CircuitBreaker
        var cache: TTLCache<ExternalAnswer>
        var retries: RetryBudget
        var inFlight = 0
    }

    public let settings: Settings
    let http: HTTPClient
    let state: Mutex<State>
    let clock = ContinuousClock()
    let origin: ContinuousClock.Instant

    /// The process's client for external services: `HTTPClient.shared` keeps 8 connections per
    /// host, which at 20 ms a call caps the service at 400 calls a second; the analyses queue for a
    /// connection and miss their deadline. This one keeps up to 256, and lives as long as the process.
    public static let pooledClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(settings: Settings, http: HTTPClient = ExternalValidator.pooledClient) {
        self.settings = settings
        self.http = http
        self.origin = clock.now
        state = Mutex(State(breaker: CircuitBreaker(failureThreshold: settings.failureThreshold, openSeconds: settings.openSeconds,
                                                    failureRate: settings.failureRate),
                            cache: TTLCache(ttlSeconds: settings.cacheSeconds, capacity: settings.cacheCapacity),
                            retries: RetryBudget(ratio: settings.retryRatio, perSecond: settings.retriesPerSecond)))
    }

    /// Seconds since this validator was made: the breaker's and the cache's clock.
    var now: Double {
        (clock.now - origin).seconds
    }

    public var breakerState: CircuitBreaker.State { state.withLock { $0.breaker.state } }

    /// The share of calls that failed over the breaker's window; nil with no call in it.
    public var failureRatio: Double? { let now = now; return state.withLock { $0.breaker.failureRatio(now: now) } }

    /// The cached answer for the document, if one is still fresh.
    public func cached(document: String) -> ExternalAnswer? {
        state.withLock { $0.cache.get(document, now: now) }
    }

    /// The answer for the document, by `deadline` at the latest: the tries race the deadline, so
    /// an HTTP client slow to give up (a loaded machine, a connection that hangs) cannot hold the
    /// answer past it; the tries left running are cancelled.
    public func validate(document: String, deadline: ContinuousClock.Instant) async -> ExternalAnswer {
        if let cached = cached(document: document) { return cached }
        switch await answer(by: deadline, { await self.tries(document: document, deadline: deadline) }) {
        case .success(let answer)?: return answer
        case .failure?: return .unavailable(reason: "cancelado")
        case nil: return .unavailable(reason: "prazo esgotado")
        }
    }

    /// Calls until an answer, the deadline, an open breaker or the last try.
    func tries(document: String, deadline: ContinuousClock.Instant) async -> ExternalAnswer {
        var lastFailure = "sem resposta"
        for attempt in 1...max(1, settings.attempts) {
            let remaining = deadline - clock.now
            guard remaining > .milliseconds(5) else { return .unavailable(reason: "prazo esgotado (\(lastFailure))") }
            enum Gate { case go, open, busy, noBudget }
            let gate = state.withLock { s -> Gate in
                let t = now
                if attempt > 1 && !s.retries.allowRetry(now: t) { return .noBudget }
                guard s.breaker.allow(now: t) else { return .open }
                guard s.inFlight < settings.maxInFlight else { return .busy }
                s.inFlight += 1
                if attempt == 1 { s.retries.recordAttempt(now: t) }
                return .go
            }
            switch gate {
            case .go: break
            case .open:
                Counter(label: MetricName.externalCalls, dimensions: [("result", "breaker_open")]).increment()
                return .unavailable(reason: "circuito aberto")
            case .busy: return .unavailable(reason: "serviço externo saturado")
            case .noBudget: return .unavailable(reason: "\(lastFailure); sem novas tentativas (limite de repetições)")
            }
            do {
                let answer = try await call(document, timeout: min(settings.callTimeout, remaining))
                let breaker = state.withLock {
                    $0.inFlight -= 1
                    $0.breaker.recordSuccess(now: now)
                    $0.cache.put(document, answer, now: now)
                    return $0.breaker.state
                }
                Counter(label: MetricName.externalCalls, dimensions: [("result", "ok")]).increment()
                Gauge(label: MetricName.externalBreakerOpen).record(breaker == .open ? 1 : 0)
                return answer
            } catch {
                lastFailure = "\(error)"
                let breaker = state.withLock {
                    $0.inFlight -= 1
                    $0.breaker.recordFailure(now: now)
                    return $0.breaker.state
                }
                Counter(label: MetricName.externalCalls, dimensions: [("result", "error")]).increment()
                Gauge(label: MetricName.externalBreakerOpen).record(breaker == .open ? 1 : 0)
            }
            if attempt < settings.attempts {
                // Exponential backoff with full jitter, cut to what the deadline leaves.
                let ceiling = settings.backoffBase * (1 << (attempt - 1))
                let wait = ceiling * Double.random(in: 0.5...1.0)
                let room = deadline - clock.now - .milliseconds(5)
                if room <= .zero { break }
                try? await Task.sleep(for: min(wait, room))
            }
        }
        return .unavailable(reason: lastFailure)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Body: Decodable {
        var restricted: Bool
        var reason: String?
    }

    func call(_ document: String, timeout: Duration) async throws -> ExternalAnswer {
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"document":"\#(document)"}"#))
        let nanos = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .nanoseconds(nanos))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw Failure(description: "tempo esgotado")
        } catch {
            throw Failure(description: "erro de conexão")
        }
        let body = try await response.body.collect(upTo: 64 * 1024)
        guard response.status == .ok else { throw Failure(description: "HTTP \(response.status.code)") }
        guard let parsed = try? JSONDecoder().decode(Body.self, from: Data(body.readableBytesView)) else {
            throw Failure(description: "resposta ilegível")
        }
        return parsed.restricted ? .restricted(reason: parsed.reason ?? "sem motivo informado") : .clear
    }
}
