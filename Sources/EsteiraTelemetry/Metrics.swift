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
    }

    /// The Prometheus text exposition.
    public func emit() -> [UInt8] {
        prometheus.emitToBuffer()
    }
}
