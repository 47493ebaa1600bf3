import ArgumentParser
import EsteiraApp
import EsteiraStore

struct Schema: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the database's schema as SQL, after the migrations (scripts/schema writes docs/schema/ with it).")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let text = try await Runtime.with(store) { try await SchemaDump.sql(of: $0.db) }
        print(text, terminator: "")
    }
}
