import EsteiraApp
import EsteiraTelemetry
import Foundation

// `esteira-grdb serve [--port N] [--no-workers]`: `esteira serve` on GRDBDatabase; every other
// setting from the environment, as `esteira serve` reads it. Anything else is `esteira`'s job.
var arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.first == "serve" else {
    FileHandle.standardError.write(Data("usage: esteira-grdb serve [--port N] [--no-workers]\n".utf8))
    exit(64)
}
arguments.removeFirst()
var environment = ProcessInfo.processInfo.environment
while let flag = arguments.first {
    arguments.removeFirst()
    switch flag {
    case "--port": environment["ESTEIRA_PORT"] = arguments.isEmpty ? nil : arguments.removeFirst()
    case "--no-workers": environment["ESTEIRA_NO_WORKERS"] = "1"
    default:
        FileHandle.standardError.write(Data("esteira-grdb: unknown argument \(flag)\n".utf8))
        exit(64)
    }
}
let settings = try EsteiraSettings.load(SettingsValues(environment: environment))
guard settings.store.databaseURL == nil else {
    FileHandle.standardError.write(Data("esteira-grdb runs on the SQLite file of the data folder; unset DATABASE_URL\n".utf8))
    exit(64)
}
Runtime.bootstrapLogging(level: settings.logLevel)
let metrics = MetricsRegistry()
metrics.bootstrap()
try FileManager.default.createDirectory(atPath: settings.store.dataDir, withIntermediateDirectories: true)
let database = try GRDBDatabase(path: settings.store.dataDir + "/esteira.sqlite")
try await Runtime.with(settings, database: database) { runtime in
    let services = try EsteiraApplication.serve(runtime, metrics: metrics) { url in
        FileHandle.standardOutput.write(Data("Esteira listening on \(url) (database: SQLite through GRDB)\n".utf8))
    }
    try await EsteiraApplication.run(services, logger: runtime.logger)
}
