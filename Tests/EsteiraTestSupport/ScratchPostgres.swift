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

    /// A new, empty database on the test server for `body`, which gets its URL; dropped after.
    public static func with<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
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
