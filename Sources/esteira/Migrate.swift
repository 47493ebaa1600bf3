import ArgumentParser
import EsteiraApp
import EsteiraStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the database migrations that are missing.")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        try await Runtime.with(store, migrate: false) { runtime in
            let applied = try await Migrations.migrate(runtime.db)
            print(applied.isEmpty ? "Schema is up to date." : "Applied: \(applied.joined(separator: ", "))")
        }
    }
}
