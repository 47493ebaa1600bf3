import EsteiraCore
import Metrics
import Prometheus

/// The process's metrics, kept in a Prometheus registry and served as text at `/metrics`.
public final class MetricsRegistry: Sendable {
    public let prometheus: PrometheusCollectorRegistry

    public init() {
        prometheus = PrometheusCollectorRegistry()
    }

    /// Makes swift-metrics report here. Once a process.
    public func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: prometheus)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        MetricsSystem.bootstrap(factory)
        Self.declareKnownSeries()
    }

    /// The series that alerts and the dashboard read (deploy/prometheus, deploy/grafana), made at
    /// zero as the process starts: a rule or a panel then sees 0, not "no data", until the first
    /// event, and a rate has a starting point.
    static func declareKnownSeries() {
        for outcome in RiskOutcome.allCases.map(\.rawValue) {
            Counter(label: MetricName.riskAnalyses, dimensions: [("outcome", outcome)]).increment(by: 0)
        }
        _ = Timer(label: MetricName.riskAnalysisDuration)
        for result in ["ok", "error", "breaker_open"] {
            Counter(label: MetricName.externalCalls, dimensions: [("result", result)]).increment(by: 0)
        }
        Gauge(label: MetricName.externalBreakerOpen).record(0)
        for channel in ["webhook", "email"] {
            for result in ["delivered", "retry", "dead"] {
                Counter(label: MetricName.notificationAttempts, dimensions: [("channel", channel), ("result", result)]).increment(by: 0)
            }
        }
        for result in ["posted", "rejected"] {
            Counter(label: MetricName.ledgerPostings, dimensions: [("result", result)]).increment(by: 0)
        }
    }

    /// The Prometheus text exposition.
    public func emit() -> [UInt8] {
        prometheus.emitToBuffer()
    }
}
