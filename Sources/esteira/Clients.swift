import ArgumentParser
import EsteiraApp
import EsteiraCore
import EsteiraStore
import Foundation

struct Clients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create clients and manage their API keys.",
        subcommands: [Create.self, List.self, ListKeys<ClientKeyCommands>.self, IssueKey<ClientKeyCommands>.self, RevokeKey.self, Limits.self, Quotas.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a client and print its API key (shown once).")

        @OptionGroup var store: StoreOptions
        @Option(help: "The client's company name.") var name: String
        @Option(help: "The client's CNPJ (or CPF), masked or not.") var document: String
        @Option(help: "Records per sub-batch for this client (env ESTEIRA_SUB_BATCH_SIZE; default 20,000).")
        var subBatchSize: Int?
        @Flag(help: "Print {\"id\": ..., \"api_key\": ...} as JSON.") var json = false

        func validate() throws {
            if name.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--name must not be empty") }
            if case .failure(let problem) = TaxID.parse(document) {
                throw ValidationError("--document is not a valid CPF/CNPJ (\(problem))")
            }
            if let s = subBatchSize, s < 1 { throw ValidationError("--sub-batch-size must be at least 1") }
        }

        func run() async throws {
            guard case .success(let id) = TaxID.parse(document) else { return }
            let (client, key) = try await Runtime.with(store) { runtime in
                try await ClientStore(db: runtime.db).create(name: name, document: id.value, subBatchSize: subBatchSize ?? runtime.settings.workers.subBatchSize,
                                                             traceID: "cli", by: commandLineActor)
            }
            try NewKey(what: "Client", name: client.name, id: client.id, key: key).print(json: json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List clients.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let clients = try await Runtime.with(store) { try await ClientStore(db: $0.db).list() }
            if json {
                let items = clients.map {
                    ["id": $0.id, "name": $0.name, "document": TaxID.mask($0.document),
                     "key": $0.keyRevoked ? "revoked" : "…\($0.apiKeyHint ?? "")", "sub_batch_size": "\($0.subBatchSize)"]
                }
                print(try JSONText.encoded(items))
                return
            }
            print("id                                    document            key       name")
            for c in clients {
                let key = c.keyRevoked ? "revoked" : "…\(c.apiKeyHint ?? "")"
                print("\(c.id)  \(TaxID.mask(c.document).padding(toLength: 18, withPad: " ", startingAt: 0))  \(key.padding(toLength: 8, withPad: " ", startingAt: 0))  \(c.name)")
            }
        }
    }

    struct RevokeKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-key",
            abstract: "Revoke one key of a client (--key), or all of them; with --issue-new, print a new one.")
        @OptionGroup var options: KeyOptions
        @Option(help: "The key's id (see `keys`); without it, every key of the client.") var key: String?
        @Flag(help: "Issue a new key in the same step (with every key revoked).") var issueNew = false

        func validate() throws {
            if key != nil && issueNew { throw ValidationError("--issue-new revokes every key; to replace one key, use issue-key --rotate") }
        }

        func run() async throws {
            if let key { return try await KeyCommandLine.revoke(.client, options, key: key) }
            let id = options.id
            let key = try await Runtime.with(options.store) { try await ClientStore(db: $0.db).revokeKey(id: id, issueNew: issueNew, by: commandLineActor) }
            print("Every key of client \(id) revoked.")
            if let key { print("New api key: \(key)") }
        }
    }

    struct Limits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a client's amount limits for the risk rules: above the maximum (K005) or below the minimum (K008), a debt goes to review.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The client's id.") var id: String
        @Option(help: "Largest amount approved without review, like 50000,00 or 50000.00; omit for the agency's default.")
        var maxAmount: String?
        @Option(help: "Smallest amount approved without review; omit for the agency's default.") var minAmount: String?

        static func cents(_ text: String?, _ flag: String) throws -> Int64? {
            guard let text else { return nil }
            guard case .success(let c) = Money.parseCents(text), c > 0 else {
                throw ValidationError("\(flag) must be a positive amount, like 1234,56 or 1234.56")
            }
            return c
        }

        func validate() throws {
            if let max = try Self.cents(maxAmount, "--max-amount"), let min = try Self.cents(minAmount, "--min-amount"), min > max {
                throw ValidationError("--min-amount is above --max-amount")
            }
        }

        func run() async throws {
            let max = try Self.cents(maxAmount, "--max-amount"), min = try Self.cents(minAmount, "--min-amount")
            try await Runtime.with(store) { try await ClientStore(db: $0.db).setLimits(id: id, maxAmountCents: max, minAmountCents: min, by: commandLineActor) }
            print("Limits of client \(id): maximum \(max.map { Money.brazilian(cents: $0) } ?? "the agency's default"), "
                  + "minimum \(min.map { Money.brazilian(cents: $0) } ?? "the agency's default").")
        }
    }

    struct Quotas: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a client's API requests per second and rows a day; an option left out returns to the agency's default.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The client's id.") var id: String
        @Option(help: "API requests per second (per API process).") var requestsPerSecond: Int?
        @Option(help: "Rows a day, by every channel (São Paulo's day).") var rowsPerDay: Int?

        func validate() throws {
            if let r = requestsPerSecond, !(1...1_000_000).contains(r) { throw ValidationError("--requests-per-second goes from 1 to 1000000") }
            if let r = rowsPerDay, r < 1 { throw ValidationError("--rows-per-day must be at least 1") }
        }

        func run() async throws {
            try await Runtime.with(store) {
                try await ClientStore(db: $0.db).setQuotas(id: id, requestsPerSecond: requestsPerSecond, rowsPerDay: rowsPerDay, by: commandLineActor)
            }
            print("Quotas of client \(id): \(requestsPerSecond.map { "\($0) requests a second" } ?? "the default requests a second"), "
                  + "\(rowsPerDay.map { "\($0) rows a day" } ?? "the default rows a day").")
        }
    }
}
