import ArgumentParser
import EsteiraApp
import EsteiraCore
import EsteiraStore
import EsteiraTelemetry
import Foundation

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run only pipeline workers, for the stages named.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var workers: WorkerOptions
    @OptionGroup var tls: TLSOptions

    @Option(help: "Comma-separated kinds of job: \(JobKind.allCases.map(\.rawValue).joined(separator: ",")) (default: all). A worker that leaves out ledger, lake or cleanup never runs those jobs; run them somewhere.")
    var stages: String?

    @Option(help: "Serve /health and /metrics on this port; 0 picks a free one (env ESTEIRA_METRICS_PORT; default: none). The address is ESTEIRA_HOST's.")
    var metricsPort: Int?

    func validate() throws {
        if let stages {
            for s in stages.split(separator: ",") where JobKind(rawValue: String(s)) == nil {
                throw ValidationError("unknown stage '\(s)'; use \(JobKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
    }

    func run() async throws {
        var flags = workers.overrides.merging(tls.overrides) { a, _ in a }
        flags["ESTEIRA_METRICS_PORT"] = metricsPort.map(String.init)
        let settings = try store.settings(flags)
        Runtime.bootstrapLogging(level: settings.logLevel)
        let metrics = MetricsRegistry()
        metrics.bootstrap()
        let kinds = stages.map { $0.split(separator: ",").compactMap { JobKind(rawValue: String($0)) } } ?? JobKind.allCases
        try await Runtime.with(settings) { runtime in
            let services = try EsteiraApplication.worker(runtime, kinds: kinds, metrics: metrics) { url in
                // Written straight to the file descriptor: scripts wait for this line.
                FileHandle.standardOutput.write(Data("Esteira worker metrics on \(url)\n".utf8))
            }
            try await EsteiraApplication.run(services, logger: runtime.logger)
        }
    }
}
