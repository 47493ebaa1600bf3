import EsteiraCore
import EsteiraTestSupport
import Foundation
import Testing

/// The database roles of docs/deploy.md, made by the script operators run
/// (deploy/postgres/roles.sql): the owner migrates, and the processes run as a role that can
/// only read and write rows. Only on PostgreSQL (SQLite has no roles).
@Suite("End to end: Esteira on PostgreSQL with the least privileges", .offSharedPool, .serialized,
       .enabled(if: EsteiraProcess.e2ePostgresURL != nil && FileManager.default.fileExists(atPath: "/usr/bin/psql")))
struct LeastPrivilegeEndToEndTests {
    static let script = ListeningProcess.repositoryRoot(#filePath).path + "/deploy/postgres/roles.sql"

    /// `url` with another user name.
    static func url(_ url: String, user: String) -> String {
        var parts = URLComponents(string: url)!
        parts.user = user
        parts.password = nil
        return parts.string!
    }

    /// psql's exit status and its output, errors included.
    static func psql(_ url: String, _ arguments: [String]) throws -> (status: Int32, text: String) {
        try EsteiraProcess.output(of: "/usr/bin/psql", [url, "-At", "-v", "ON_ERROR_STOP=1"] + arguments, withErrors: true)
    }

    @Test("migrated by the owner, run by the app role: a batch goes through; the app may not change the schema nor the audit, and a pending migration is explained")
    func leastPrivilege() async throws {
        let admin = try #require(EsteiraProcess.e2ePostgresURL)
        let database = try PostgresFaultTests.freshDatabase(admin: admin)
        let suffix = UUID().uuidString.lowercased().prefix(8)
        let owner = "esteira_owner_\(suffix)", app = "esteira_app_\(suffix)"
        defer {
            let name = database[database.index(after: database.lastIndex(of: "/")!)...]
            _ = try? PostgresFaultTests.psql(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            _ = try? PostgresFaultTests.psql(admin, "DROP ROLE IF EXISTS \(owner)")
            _ = try? PostgresFaultTests.psql(admin, "DROP ROLE IF EXISTS \(app)")
        }
        let roles = ["-v", "owner=\(owner)", "-v", "app=\(app)", "-f", Self.script]
        let first = try Self.psql(database, roles)
        #expect(first.status == 0, "\(first.text)")

        let ownerURL = Self.url(database, user: owner), appURL = Self.url(database, user: app)
        let server = try EsteiraProcess(environment: ["DATABASE_URL": appURL])
        defer { server.stop(); server.removeData() }
        // Before the owner migrates, the app role cannot: it says so and what to do.
        let early = try EsteiraProcess.output(of: EsteiraProcess.binary, ["migrate"], environment: server.environmentForCommands, withErrors: true)
        #expect(early.status != 0)
        #expect(early.text.contains("run `esteira migrate` with the role that owns it"), "\(early.text)")

        var ownerEnvironment = server.environmentForCommands
        ownerEnvironment["DATABASE_URL"] = ownerURL
        let migrated = try EsteiraProcess.output(of: EsteiraProcess.binary, ["migrate"], environment: ownerEnvironment, withErrors: true)
        #expect(migrated.status == 0, "\(migrated.text)")
        let again = try Self.psql(database, roles)
        #expect(again.status == 0, "\(again.text)")

        // The processes as the app role: a client, an operator (an audited change), a batch.
        let client = try server.createClient(name: "Loja Mínima", document: "11.222.333/0001-81")
        _ = try server.createOperator(name: "Ana", role: "admin")
        try server.start()
        // Two valid rows and one whose CPF's check digits are wrong (248.438.034-81; -80 is right).
        let due = TestCalendar.day(days: -30)
        let id = try await server.upload(Data("""
            id_divida;nome;cpf;valor;vencimento
            P1;Ana;248.438.034-80;10,00;\(due)
            P2;Bia;529.982.247-25;20,00;\(due)
            P3;Caio;248.438.034-81;30,00;\(due)

            """.utf8), key: client.key, name: "p.csv")
        let batch = try await server.waitForBatch(id, key: client.key, timeout: 120)
        #expect(batch["status"]?.string == "completed_with_rejects")
        #expect(batch.counts["registered"] == 2)
        #expect(batch.counts["rejected"] == 1)

        // What the app role may not do, as PostgreSQL itself refuses it.
        #expect(try PostgresFaultTests.psql(appURL, "SELECT count(*) FROM audit_log") != "0")
        for statement in ["DELETE FROM audit_log", "UPDATE audit_log SET action = 'x'", "CREATE TABLE intruder (a int)",
                          "ALTER TABLE debts ADD COLUMN intruder int", "DELETE FROM schema_migrations"] {
            let refused = try Self.psql(appURL, ["-c", statement])
            #expect(refused.status != 0, "\(statement) was allowed")
            #expect(refused.text.contains("permission denied") || refused.text.contains("must be owner"), "\(statement): \(refused.text)")
        }

        // A migration pending (its record removed by the owner) stops an app-role process at
        // start with the same explanation, rather than a bare "permission denied".
        _ = try PostgresFaultTests.psql(ownerURL, "DELETE FROM schema_migrations WHERE name = (SELECT max(name) FROM schema_migrations)")
        server.stop()
        let pending = try EsteiraProcess.output(of: EsteiraProcess.binary, ["migrate"], environment: server.environmentForCommands, withErrors: true)
        #expect(pending.status != 0)
        #expect(pending.text.contains("1 migration(s) pending"), "\(pending.text)")
    }
}
