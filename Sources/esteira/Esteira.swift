import ArgumentParser
import CEsteiraShims
import Foundation

@main
struct Esteira: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "esteira",
        abstract: "Esteira: the debt intake pipeline of the collection agency.",
        discussion: """
            With no configuration, Esteira keeps everything under ./esteira-data (a SQLite database and a
            folder of files) and serves HTTP on 127.0.0.1:8080. Set DATABASE_URL=postgres://... to use PostgreSQL.
            Every setting is an environment variable, some also a flag: `esteira settings` lists them with their values.
            """,
        subcommands: [Serve.self, WorkerCommand.self, SettingsCommand.self, Migrate.self, Schema.self, Clients.self, Operators.self, Jobs.self, Ledger.self, Lake.self, PurgeCommand.self, Privacy.self],
        defaultSubcommand: Serve.self
    )

    static func main() async {
        // glibc gives each thread that allocates its own heap arena, up to 8 per core, and memory
        // freed in one arena is not reused by the others. The pipeline's buffers move between
        // threads, so the arenas fragment and resident memory crept up with the size of a batch.
        // Two arenas keep it flat at the same speed. MALLOC_ARENA_MAX in the environment still wins.
        if getenv("MALLOC_ARENA_MAX") == nil { _ = esteira_limit_malloc_arenas(2) }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
