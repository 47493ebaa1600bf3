import ArgumentParser
import EsteiraApp
import EsteiraTelemetry
import Foundation

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API and, unless --no-workers, every pipeline worker, in one process.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var workers: WorkerOptions
    @OptionGroup var tls: TLSOptions

    @Option(help: "Address to listen on (env ESTEIRA_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (env ESTEIRA_PORT; default 8080).")
    var port: Int?

    @Flag(help: "Run only the API; workers run elsewhere (`esteira worker`). Env ESTEIRA_NO_WORKERS=1.")
    var noWorkers = false

    func run() async throws {
        var flags = workers.overrides.merging(tls.overrides) { a, _ in a }
        flags["ESTEIRA_HOST"] = host
        flags["ESTEIRA_PORT"] = port.map(String.init)
        if noWorkers { flags["ESTEIRA_NO_WORKERS"] = "1" }
        let settings = try store.settings(flags)
        Runtime.bootstrapLogging(level: settings.logLevel)
        let metrics = MetricsRegistry()
        metrics.bootstrap()
        try await Runtime.with(settings) { runtime in
            let database = settings.store.databaseURL == nil ? "SQLite in \(settings.store.dataDir)" : "PostgreSQL"
            let services = try EsteiraApplication.serve(runtime, metrics: metrics) { url in
                // Written straight to the file descriptor: scripts wait for this line.
                let line = "Esteira listening on \(url) (database: \(database); workers: \(settings.workers.off ? "off" : "on"))\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
            try await EsteiraApplication.run(services, logger: runtime.logger)
        }
    }
}
