import ArgumentParser
import EsteiraApp
import EsteiraCore
import EsteiraStore
import Foundation

/// `keys` and `issue-key`, the same for clients and operators: named keys, with an expiry, and
/// rotation with an overlap (docs/security.md).
struct KeyOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Option(help: "The client's or operator's id.") var id: String
}

enum KeyCommandLine {
    static func list(_ owner: KeyOwner, _ options: KeyOptions) async throws {
        let keys = try await Runtime.with(options.store) { try await KeyStore(db: $0.db).list(owner: owner, ownerID: options.id) }
        let now = Date()
        print("id                  name                  key     created               expires               last used             state")
        for k in keys {
            let state = k.revokedAt != nil ? "revoked" : k.live(at: now) ? "live" : "expired"
            print([k.id.padding(toLength: 18, withPad: " ", startingAt: 0), k.name.padding(toLength: 20, withPad: " ", startingAt: 0),
                   ("…" + k.hint).padding(toLength: 6, withPad: " ", startingAt: 0), Timestamp.isoSeconds(k.createdAt),
                   (k.expiresAt.map(Timestamp.isoSeconds) ?? "never").padding(toLength: 20, withPad: " ", startingAt: 0),
                   (k.lastUsedAt.map(Timestamp.isoSeconds) ?? "never").padding(toLength: 20, withPad: " ", startingAt: 0), state]
                .joined(separator: "  "))
        }
    }

    static func issue(_ owner: KeyOwner, _ options: KeyOptions, name: String, expiresInDays: Int?, rotate: String?, overlapHours: Int,
                      json: Bool) async throws {
        let now = Date()
        let made = try await Runtime.with(options.store) { runtime in
            try await KeyStore(db: runtime.db).issue(owner: owner, ownerID: options.id, name: name,
                                                     expiresAt: expiresInDays.map { now.addingTimeInterval(Double($0) * 86_400) },
                                                     rotating: rotate, overlap: Double(overlapHours) * 3600, by: commandLineActor, now: now)
        }
        guard let (key, secret) = made else {
            throw ValidationError(rotate == nil ? "no active \(owner.rawValue) \(options.id)" : "\(rotate ?? "") is not a live key of \(owner.rawValue) \(options.id)")
        }
        try NewKey(what: "Key", name: key.name, id: key.id, key: secret).print(json: json)
        if let rotate, !json { print("Key \(rotate) stops in \(overlapHours) h (or at its own expiry, if sooner).") }
    }

    static func revoke(_ owner: KeyOwner, _ options: KeyOptions, key: String) async throws {
        guard try await Runtime.with(options.store, {
            try await KeyStore(db: $0.db).revoke(owner: owner, ownerID: options.id, keyID: key, by: commandLineActor)
        }) else { throw ValidationError("\(key) is not an unrevoked key of \(owner.rawValue) \(options.id)") }
        print("Key \(key) revoked.")
    }
}

/// Whose keys a `keys` or `issue-key` command manages: `clients …` or `operators …`.
protocol KeyOwnerCommand {
    static var owner: KeyOwner { get }
}

enum ClientKeyCommands: KeyOwnerCommand { static var owner: KeyOwner { .client } }
enum OperatorKeyCommands: KeyOwnerCommand { static var owner: KeyOwner { .operator } }

struct ListKeys<Owner: KeyOwnerCommand>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "keys", abstract: "List the \(Owner.owner.rawValue)'s keys: name, expiry, last use, state.")
    }
    @OptionGroup var options: KeyOptions
    func run() async throws { try await KeyCommandLine.list(Owner.owner, options) }
}

struct IssueKey<Owner: KeyOwnerCommand>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "issue-key",
                             abstract: "Issue a named key to the \(Owner.owner.rawValue) (printed once); with --rotate, the old key keeps working for --overlap-hours.")
    }
    @OptionGroup var issue: IssueKeyOptions
    func run() async throws { try await issue.run(Owner.owner) }
}

/// What issuing a key takes, under `clients issue-key` and `operators issue-key`.
struct IssueKeyOptions: ParsableArguments {
    @OptionGroup var options: KeyOptions
    @Option(help: "What the key is for, like \"ERP\" or \"planilha da Ana\".") var name: String
    @Option(help: "Days until the key stops (default: never).") var expiresInDays: Int?
    @Option(help: "The id of the key this one replaces (see `keys`): it keeps working for --overlap-hours, then stops.") var rotate: String?
    @Option(help: "Hours the replaced key keeps working.") var overlapHours = 24
    @Flag(help: "Print {\"id\": ..., \"api_key\": ...} as JSON.") var json = false

    func validate() throws {
        if name.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--name must not be empty") }
        if let d = expiresInDays, !(1...3650).contains(d) { throw ValidationError("--expires-in-days goes from 1 to 3650") }
        if !(0...2160).contains(overlapHours) { throw ValidationError("--overlap-hours goes from 0 to 2160") }
    }

    func run(_ owner: KeyOwner) async throws {
        try await KeyCommandLine.issue(owner, options, name: name, expiresInDays: expiresInDays, rotate: rotate,
                                       overlapHours: overlapHours, json: json)
    }
}
