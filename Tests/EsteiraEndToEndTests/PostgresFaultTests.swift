import EsteiraCore
import Foundation
import Testing

/// Esteira scaled out on PostgreSQL: an API process and separate worker processes, and the faults
/// such a deployment meets. Needs ESTEIRA_TEST_POSTGRES_URL (scripts/test starts a server).
@Suite("End to end on PostgreSQL: many processes, and faults", .offSharedPool, .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["ESTEIRA_TEST_POSTGRES_URL"] != nil))
struct PostgresFaultTests {
    static let adminURL = ProcessInfo.processInfo.environment["ESTEIRA_TEST_POSTGRES_URL"] ?? ""

    /// Runs SQL with psql (a second client of the database) and returns its unaligned output.
    static func psql(_ url: String, _ sql: String) throws -> String {
        try EsteiraProcess.output(of: "/usr/bin/psql", [url, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]).text
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new, empty database on the test server; returns its URL.
    static func freshDatabase(admin: String = adminURL) throws -> String {
        let name = "esteira_e2e_\(UUID().uuidString.lowercased().prefix(8))"
        _ = try psql(admin, "CREATE DATABASE \(name)")
        guard let slash = admin.lastIndex(of: "/") else { return admin }
        return admin[..<slash] + "/" + name
    }

    /// Waits until some rows are registered but the batch is not final.
    static func waitUntilUnderWay(_ server: EsteiraProcess, id: String, key: String) async throws -> [String: Int] {
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline {
            let b = try await server.request("GET", "/v1/batches/\(id)", key: key).json
            if b["status"]?.string == "processing", (b.counts["registered"] ?? 0) > 0 { return b.counts }
            if ["completed", "completed_with_rejects", "failed"].contains(b["status"]?.string ?? "") {
                Issue.record("the batch ended before it could be interrupted")
                return b.counts
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return [:]
    }

    /// Prints how the recovery went: when the batch was under way, when PostgreSQL answered again,
    /// when the batch ended in the database and when the API said so. A recovery slower than 30
    /// seconds also prints the processes' warnings, so that a slow run in CI can be read afterwards.
    static func reportRecovery(_ server: EsteiraProcess, url: String, id: String, started: Date, underWay: Date, back: Date) {
        let seen = Date()
        let since = { (d: Date) in String(format: "%.1f s", d.timeIntervalSince(started)) }
        let finished = (try? psql(url, """
            SELECT round(EXTRACT(EPOCH FROM finished_at - created_at)::numeric, 1) FROM batches WHERE id = '\(id)'
            """)) ?? "?"
        let retried = (try? psql(url, "SELECT kind || ' ' || seq || ': ' || attempts FROM jobs WHERE attempts > 1 ORDER BY seq, kind")) ?? "?"
        print("""
            restart recovery: under way at \(since(underWay)), PostgreSQL back at \(since(back)), \
            batch finished at \(finished) s after its creation, seen by the API at \(since(seen))
            jobs taken more than once: \(retried.isEmpty ? "none" : retried.replacingOccurrences(of: "\n", with: ", "))
            """)
        guard seen.timeIntervalSince(back) > 30 else { return }
        let warnings = server.logs().split(separator: "\n").filter { $0.contains(#""level":"warning""#) || $0.contains(#""level":"error""#) }
        print("slow recovery; the processes' warnings (\(warnings.count), last 120):\n" + warnings.suffix(120).joined(separator: "\n"))
    }

    @Test("three worker processes on 300,000 rows, one killed with kill -9: exact counts, no debt twice")
    func killOneOfThree() async throws {
        let rows = 300_000
        let rejected = rows / 50
        let url = try Self.freshDatabase()
        let server = try EsteiraProcess(environment: ["DATABASE_URL": url, "ESTEIRA_LEASE_SECONDS": "3"])
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Grande Cliente", document: "11.222.333/0001-81", subBatchSize: 10_000)
        try server.start(["ESTEIRA_NO_WORKERS": "1"])
        let workers = try (0..<3).map { _ in try server.startWorker([:], arguments: ["--concurrency", "2"]) }
        let id = try await server.upload(CrashEndToEndTests.file(rows: rows), key: client.key, name: "grande.csv")

        let before = try await Self.waitUntilUnderWay(server, id: id, key: client.key)
        kill(workers[1].processIdentifier, SIGKILL)
        workers[1].waitUntilExit()
        #expect((before["registered"] ?? 0) < rows - rejected)

        let batch = try await server.waitForBatch(id, key: client.key, requestTimeout: 10, ridingOutErrors: true)
        #expect(batch.counts == ["received": rows, "registered": rows - rejected, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": rejected, "review": 0])
        #expect(try Self.psql(url, "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM debts") == "\(rows - rejected)|\(rows - rejected)")
        #expect(try Self.psql(url, "SELECT COUNT(*), COUNT(DISTINCT line) FROM rejects") == "\(rejected)|\(rejected)")
        #expect(try await EsteiraProcess.jobsLeft { try Self.psql(url, "SELECT COUNT(*) FROM jobs WHERE state <> 'done'") } == "0")
    }

    @Test("PostgreSQL restarted in the middle of a batch: the processes reconnect and finish, nothing lost or doubled",
          .enabled(if: ProcessInfo.processInfo.environment["ESTEIRA_TEST_POSTGRES_RESTART"] != nil))
    func restartPostgres() async throws {
        let rows = 200_000
        let rejected = rows / 50
        let url = try Self.freshDatabase()
        let server = try EsteiraProcess(environment: [
            "DATABASE_URL": url, "ESTEIRA_RETRY_BASE_SECONDS": "0.2", "ESTEIRA_RETRY_CAP_SECONDS": "1", "ESTEIRA_JOB_MAX_ATTEMPTS": "50",
            // A query on a connection that died in the restart can wait for ever: the watchdog gives up on it.
            "ESTEIRA_JOB_TIMEOUT_SECONDS": "15",
        ])
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Grande Cliente", document: "11.222.333/0001-81", subBatchSize: 10_000)
        try server.start(["ESTEIRA_NO_WORKERS": "1"])
        for _ in 0..<2 { try server.startWorker([:], arguments: ["--concurrency", "2"]) }
        let started = Date()
        let id = try await server.upload(CrashEndToEndTests.file(rows: rows), key: client.key, name: "grande.csv")
        let before = try await Self.waitUntilUnderWay(server, id: id, key: client.key)
        #expect((before["registered"] ?? 0) < rows - rejected)
        let underWay = Date()

        let restart = Process()
        restart.executableURL = URL(fileURLWithPath: "/bin/sh")
        restart.arguments = ["-c", ProcessInfo.processInfo.environment["ESTEIRA_TEST_POSTGRES_RESTART"] ?? "false"]
        // The new server must not hold this process's output open.
        restart.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        restart.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try restart.run()
        // pg_ctl's own wait does not always see the new server ready when run from here, so the
        // test watches for itself: a new server answering.
        defer { if restart.isRunning { restart.terminate() } }
        let restartDeadline = Date().addingTimeInterval(120)
        var answered = false
        try await Task.sleep(for: .seconds(1))
        while !answered && Date() < restartDeadline {
            answered = (try? Self.psql(Self.adminURL, "SELECT 1")) == "1"
            if !answered { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(answered, "PostgreSQL is back")
        let back = Date()

        let batch = try await server.waitForBatch(id, key: client.key, requestTimeout: 10, ridingOutErrors: true)
        Self.reportRecovery(server, url: url, id: id, started: started, underWay: underWay, back: back)
        #expect(batch.counts == ["received": rows, "registered": rows - rejected, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": rejected, "review": 0])
        #expect(try Self.psql(url, "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM debts") == "\(rows - rejected)|\(rows - rejected)")
        #expect(try Self.psql(url, "SELECT COUNT(*), COUNT(DISTINCT line) FROM rejects") == "\(rejected)|\(rejected)")
        #expect(try await EsteiraProcess.jobsLeft { try Self.psql(url, "SELECT COUNT(*) FROM jobs WHERE state <> 'done'") } == "0")
    }
}
