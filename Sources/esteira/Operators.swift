import ArgumentParser
import EsteiraApp
import EsteiraCore
import EsteiraStore
import Foundation

struct Operators: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the agency's operators (who keep the blacklist) and manage their keys.",
        subcommands: [Create.self, List.self, ListKeys<OperatorKeyCommands>.self, IssueKey<OperatorKeyCommands>.self, RevokeKey.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an operator and print its key (shown once).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Who the operator is.") var name: String
        @Option(help: "viewer (reads), operator (also acts) or admin (also manages operators and clients).") var role: String = "operator"
        @Flag(help: "Print {\"id\": ..., \"api_key\": ...} as JSON.") var json = false

        func validate() throws {
            if name.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--name must not be empty") }
            if OperatorRole(rawValue: role) == nil { throw ValidationError("--role must be viewer, operator or admin") }
        }

        func run() async throws {
            let role = OperatorRole(rawValue: role) ?? .viewer
            let (op, key) = try await Runtime.with(store) { try await OperatorStore(db: $0.db).create(name: name, role: role, by: commandLineActor) }
            try NewKey(what: "Operator", name: op.name, id: op.id, key: key).print(json: json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List operators.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            for op in try await Runtime.with(store, { try await OperatorStore(db: $0.db).list() }) {
                print("\(op.id)  \((op.keyRevoked ? "revoked" : "…\(op.apiKeyHint ?? "")").padding(toLength: 8, withPad: " ", startingAt: 0))  "
                      + "\(op.role.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(op.name)\(op.deactivated ? " (deactivated)" : "")")
            }
        }
    }

    struct RevokeKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke-key",
                                                        abstract: "Revoke one key of an operator (--key), or all of them.")
        @OptionGroup var options: KeyOptions
        @Option(help: "The key's id (see `keys --owner operator`); without it, every key of the operator.") var key: String?

        func run() async throws {
            if let key { return try await KeyCommandLine.revoke(.operator, options, key: key) }
            let id = options.id
            guard try await Runtime.with(options.store, { try await OperatorStore(db: $0.db).revokeKey(id: id, by: commandLineActor) }) else {
                throw ValidationError("no operator \(id)")
            }
            print("Every key of operator \(id) revoked.")
        }
    }
}
