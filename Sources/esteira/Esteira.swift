import ArgumentParser

@main
struct Esteira: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "esteira",
        abstract: "Esteira: the debt intake pipeline of the collection agency.",
        discussion: """
            With no configuration, Esteira keeps everything under ./esteira-data (a SQLite database and a
            folder of files) and serves HTTP on 127.0.0.1:8080. Set DATABASE_URL=postgres://... to use PostgreSQL.
            Every option can also be set with an ESTEIRA_* environment variable (see --help of each command).
            """,
        subcommands: [Serve.self, WorkerCommand.self, Migrate.self, Clients.self, Jobs.self],
        defaultSubcommand: Serve.self
    )
}
