import ArgumentParser
import EsteiraCore
import EsteiraNotify
import EsteiraPipeline
import EsteiraRisk
import EsteiraStore
import EsteiraTelemetry
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run only pipeline workers, for the stages named.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var workers: WorkerOptions

    @Option(help: "Comma-separated kinds of job: \(JobKind.allCases.map(\.rawValue).joined(separator: ",")) (default: all). A worker that leaves out ledger, lake or cleanup never runs those jobs; run them somewhere.")
    var stages: String?

    func validate() throws {
        if let stages {
            for s in stages.split(separator: ",") where JobKind(rawValue: String(s)) == nil {
                throw ValidationError("unknown stage '\(s)'; use \(JobKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
    }

    func run() async throws {
        Runtime.bootstrapLogging(level: store.resolvedLogLevel)
        MetricsRegistry().bootstrap()
        let kinds = stages.map { $0.split(separator: ",").compactMap { JobKind(rawValue: String($0)) } } ?? JobKind.allCases
        let settings = workers.settings(kinds: kinds, postgres: store.resolvedDatabaseURL != nil)
        try await Runtime.with(store) { runtime in
            let pipeline = runtime.pipeline(risk: RiskSettings.service(db: runtime.db))
            let worker = Worker(pipeline: pipeline, settings: settings)
            let group = ServiceGroup(configuration: .init(
                // The worker last, so it is the first told to stop (services stop last first).
                services: ((try runtime.workerCompanions(jobsReady: { await worker.wake() })) + [worker]).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger))
            try await group.run()
        }
    }
}
