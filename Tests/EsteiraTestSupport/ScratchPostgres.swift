import EsteiraStore
import Foundation
import Logging
import PostgresNIO

/// The test PostgreSQL server (`ESTEIRA_TEST_POSTGRES_URL`, started by scripts/test), and fresh
/// databases on it for one test each.
public enum ScratchPostgres {
    public static var adminURL: String? {
        ProcessInfo.processInfo.environment["ESTEIRA_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public static let logger: Logger = {
        var l = Logger(label: "esteira-test")
        l.logLevel = .warning
        return l
    }()

    /// How many scratch databases may be in use at once. Every test target shares the server
    /// (scripts/test starts it with `max_connections=200`), and each database's test opens pools of
    /// its own (an application in process holds up to ten connections and its listener): with the
    /// suites run in parallel, the server ran out of connections ("too many clients already") and
    /// tests that had nothing to do with it failed. A test beyond these waits for its turn.
    static let turns = Turnstile(slots: 6)

    /// A new, empty database on the test server for `body`, which gets its URL; dropped after.
    public static func with<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        await turns.enter()
        do {
            let value = try await scratch(body)
            await turns.leave()
            return value
        } catch {
            await turns.leave()
            throw error
        }
    }

    private static func scratch<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        guard let adminURL else { throw SQLError(code: .connection, message: "no PostgreSQL (ESTEIRA_TEST_POSTGRES_URL)", sql: "") }
        let name = "esteira_t_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try PostgresDatabase(url: adminURL, logger: logger, maxConnections: 2)
        var components = URLComponents(string: adminURL)!
        components.path = "/" + name
        let url = components.string!
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            defer { group.cancelAll() }
            func run(_ sql: String) async throws {
                _ = try await admin.withConnection { try await $0.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
            }
            try await run("CREATE DATABASE \(name)")
            do {
                let value = try await body(url)
                try? await run("DROP DATABASE \(name) WITH (FORCE)")
                return value
            } catch {
                try? await run("DROP DATABASE \(name) WITH (FORCE)")
                throw error
            }
        }
    }
}

/// Counted turns: `enter` waits, in arrival order, while every slot is taken.
actor Turnstile {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(slots: Int) { free = slots }

    func enter() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
