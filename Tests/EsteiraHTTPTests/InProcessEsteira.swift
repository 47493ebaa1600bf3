import EsteiraApp
import EsteiraPipeline
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting

/// Esteira in this process, built by the same `EsteiraApplication` as `esteira serve`: its
/// settings read as the command reads them, a fresh database (SQLite in a temporary folder, or a
/// new PostgreSQL database), its API answered in process by HummingbirdTesting, and its workers
/// running beside it.
enum InProcessEsteira {
    static var dialects: [SQLDialect] { ScratchPostgres.adminURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// `companions`: the outbox's senders (webhooks, and e-mail when an SMTP server is set), the
    /// ledger's reconciliation and the lake inbox run too, as beside `esteira serve`'s workers.
    /// `kinds`: the jobs the in-process worker takes (all of them unless a test holds some back).
    static func with(_ dialect: SQLDialect, environment: [String: String] = [:], companions: Bool = false,
                     kinds: [JobKind] = JobKind.allCases,
                     _ body: @escaping @Sendable (APITestClient, Runtime) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-http-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = ["ESTEIRA_DATA_DIR": dir, "ESTEIRA_POLL_SECONDS": "0.05"].merging(environment) { $1 }
        switch dialect {
        case .sqlite:
            try await run(base, companions: companions, kinds: kinds, body)
        case .postgres:
            try await ScratchPostgres.with { url in try await run(base.merging(["DATABASE_URL": url]) { $1 }, companions: companions, kinds: kinds, body) }
        }
    }

    private static func run(_ environment: [String: String], companions: Bool, kinds: [JobKind],
                            _ body: @escaping @Sendable (APITestClient, Runtime) async throws -> Void) async throws {
        let settings = try EsteiraSettings.load(SettingsValues(environment: environment))
        try await Runtime.with(settings) { runtime in
            let risk = runtime.riskService()
            let worker = Worker(pipeline: runtime.pipeline(risk: risk), settings: runtime.workerSettings(kinds: kinds))
            let app = Application(router: EsteiraApplication.router(runtime, metrics: nil, risk: risk, jobsReady: { await worker.wake() }))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                if companions {
                    for service in try runtime.workerCompanions(jobsReady: { await worker.wake() }) {
                        group.addTask { try await service.run() }
                    }
                }
                defer { group.cancelAll() }
                try await app.test(.router) { client in try await body(APITestClient(client), runtime) }
            }
        }
    }

    /// A query's rows, each as its values joined by `|`, one row per line: what the tests
    /// compare with what they expect of the tables.
    static func sql(_ runtime: Runtime, _ query: String) async throws -> String {
        try await runtime.db.query(SQL(stringLiteral: query)).map { row in
            row.values.map { value -> String in
                switch value {
                case .null: ""
                case .int(let n): "\(n)"
                case .text(let s): s
                case .timestamp(let d): ISO8601DateFormatter().string(from: d)
                case .day(let d): "\(d)"
                }
            }.joined(separator: "|")
        }.joined(separator: "\n")
    }

    /// Collection settings that every test collecting through Esteira saves (Bradesco, wallet 6).
    static let collectionSettings = #"{"bank": "237", "agency": "2949", "account": "6580", "wallet": "6", "pix_key": "11222333000181", "beneficiary_name": "Loja Exemplo Ltda", "beneficiary_city": "São Paulo", "due_days": 10}"#

    /// Two clients, A and B, for the tests of what one may see of the other.
    static func twoClients(_ runtime: Runtime) async throws -> (a: (id: String, key: String), b: (id: String, key: String)) {
        (try await client(runtime, name: "A", document: "11222333000181"), try await client(runtime, name: "B", document: "11444777000161"))
    }

    /// A client and its key, made as `esteira clients create` makes them.
    static func client(_ runtime: Runtime, name: String = "Loja", document: String = "11222333000181") async throws -> (id: String, key: String) {
        let (client, key) = try await ClientStore(db: runtime.db).create(name: name, document: document, subBatchSize: 2, traceID: "test")
        return (client.id, key)
    }
}
