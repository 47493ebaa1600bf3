import ArgumentParser
import EsteiraApp
import EsteiraCore
import EsteiraPipeline
import EsteiraStore
import Foundation

struct Ledger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The cash ledger: its catalog of events, and reconciliation.",
        subcommands: [Events.self, SetEvent.self, Reconcile.self])

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the catalog of events.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            for e in try await Runtime.with(store, { try await LedgerStore(db: $0.db).events() }) {
                let sides = [e.allowsDebit ? "D" : nil, e.allowsCredit ? "C" : nil].compactMap { $0 }.joined(separator: "/")
                print("\(e.code)\t\(e.active ? "active" : "inactive")\t\(sides.isEmpty ? "-" : sides)\t\(e.description)")
            }
        }
    }

    struct SetEvent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-event", abstract: "Create or change an event of the catalog.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The event's code (letters, digits, _ or -; kept in capitals).") var code: String
        @Option(help: "What the event is.") var description: String
        @Flag(help: "Entries of this event are refused (L002).") var inactive = false
        @Flag(help: "Debits are refused (L003).") var noDebit = false
        @Flag(help: "Credits are refused (L003).") var noCredit = false

        func validate() throws {
            if !LedgerEvent.isValidCode(code.uppercased()) { throw ValidationError("--code: 1 to 40 letters, digits, _ or -") }
            if !(1...200).contains(description.count) { throw ValidationError("--description: 1 to 200 characters") }
        }

        func run() async throws {
            let event = LedgerEvent(code: code.uppercased(), description: description, active: !inactive, allowsDebit: !noDebit,
                                    allowsCredit: !noCredit)
            try await Runtime.with(store) { try await LedgerStore(db: $0.db).saveEvent(event, by: commandLineActor) }
            print("Event \(event.code) saved.")
        }
    }

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every balance from the entries and report any difference (exit status 1 when there is one).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let report = try await Runtime.with(store) { runtime in
                try await LedgerReconciler(db: runtime.db, logger: runtime.logger).runOnce()
            }
            print("Reconciled \(report.accounts) accounts, \(report.days) account-days: \(report.differences.count) differences.")
            for d in report.differences.prefix(50) { print("  \(d)") }
            if !report.differences.isEmpty { throw ExitCode(1) }
        }
    }
}
