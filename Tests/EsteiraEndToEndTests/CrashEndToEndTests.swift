import EsteiraCore
import Foundation
import Testing

@Suite("End to end: crash in the middle of a batch", .offSharedPool, .serialized)
struct CrashEndToEndTests {
    /// 200,000 rows; every 50th has a zero amount (R005), so 4,000 rejected and 196,000 registered.
    static func file(rows: Int, idPrefix: String = "K") -> Data {
        var text = "id_divida;nome;cpf;valor;vencimento\n"
        text.reserveCapacity(rows * 60)
        for i in 0..<rows {
            text += "\(idPrefix)\(i);Devedor \(i);248.438.034-80;\(i % 50 == 0 ? "0" : "\(i % 1000 + 1),\(i % 100)");2024-01-01\n"
        }
        return Data(text.utf8)
    }

    @Test("kill -9 in the middle of a 200,000-row batch; on restart it finishes with exact counts and no debt twice")
    func killNine() async throws {
        let rows = 200_000
        let expectedRejected = rows / 50
        // A short lease so that the jobs the dead process held are taken again soon after the restart.
        let server = try EsteiraProcess(environment: ["ESTEIRA_LEASE_SECONDS": "3"])
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Grande Cliente", document: "11.222.333/0001-81", subBatchSize: 10_000)
        try server.start()

        // Wait until some sub-batches are registered but not all, then kill the process outright.
        // On a loaded machine a whole batch can register between two looks: then another batch,
        // with other ids, is sent (at most three), and the one killed is the one checked.
        var killed: (id: String, prefix: String, counts: [String: Int])?
        for attempt in 1...3 where killed == nil {
            let prefix = attempt == 1 ? "K" : "K\(attempt)-"
            let id = try await server.upload(Self.file(rows: rows, idPrefix: prefix), key: client.key, name: "grande.csv")
            let deadline = Date().addingTimeInterval(600)
            while Date() < deadline {
                let b = try await server.request("GET", "/v1/batches/\(id)", key: client.key).json
                let counts = b.counts
                if b["status"]?.string == "processing", (counts["registered"] ?? 0) > 0 {
                    server.kill9()
                    killed = (id, prefix, counts)
                    break
                }
                if b["status"]?.string == "completed_with_rejects" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let (id, prefix, killedAt) = try #require(killed, "three batches ended before they could be killed")
        let registeredBefore = killedAt["registered"] ?? 0
        #expect(registeredBefore > 0 && registeredBefore < rows - expectedRejected)

        // Start again on the same folder.
        try server.start()
        let batch = try await server.waitForBatch(id, key: client.key)
        #expect(batch["status"]?.string == "completed_with_rejects")
        #expect(batch.counts == ["received": rows, "registered": rows - expectedRejected, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": expectedRejected, "review": 0])

        // The database itself, read by the sqlite3 tool: every debt of the batch once, every reject
        // once, and no id twice in the whole registry.
        #expect(try server.sql("SELECT COUNT(*), COUNT(DISTINCT external_id) FROM debts WHERE batch_id = '\(id)'")
                == "\(rows - expectedRejected)|\(rows - expectedRejected)")
        #expect(try server.sql("SELECT COUNT(*) - COUNT(DISTINCT external_id) FROM debts") == "0")
        #expect(try server.sql("SELECT COUNT(*), COUNT(DISTINCT line) FROM rejects WHERE batch_id = '\(id)'") == "\(expectedRejected)|\(expectedRejected)")
        #expect(try await EsteiraProcess.jobsLeft { try server.sql("SELECT COUNT(*) FROM jobs WHERE state <> 'done'") } == "0")
        // Row 199999 has amount "1000,99" (199999 mod 1000 + 1, then 199999 mod 100): 100,099 cents.
        #expect(try server.sql("SELECT amount_cents FROM debts WHERE external_id = '\(prefix)199999'") == "100099")
    }

    @Test("SIGTERM: jobs still running after the grace period are released, and taken again at once after a restart")
    func gracefulRelease() async throws {
        let rows = 200_000
        let expectedRejected = rows / 50
        // A long lease: if the jobs were not released, the restarted server would wait two minutes.
        let server = try EsteiraProcess(environment: ["ESTEIRA_LEASE_SECONDS": "120", "ESTEIRA_GRACE_SECONDS": "0.1"])
        defer { server.stop(); server.removeData() }
        // Sub-batches of 50,000 rows: each transform takes well over the grace period, so a
        // slot is in the middle of one when SIGTERM comes.
        let client = try server.createClient(name: "Grande Cliente", document: "11.222.333/0001-81", subBatchSize: 50_000)
        try server.start()
        let id = try await server.upload(Self.file(rows: rows), key: client.key, name: "grande.csv")
        // Wait until a transform is claimed (committed as running), read from the database itself.
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline {
            if try server.sql("SELECT COUNT(*) FROM jobs WHERE kind = 'transform' AND state = 'running'") != "0" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(Date() < deadline)
        let stopping = ContinuousClock.now
        server.stop() // SIGTERM, and wait for the exit
        #expect(ContinuousClock.now - stopping < .seconds(20), "the grace period bounds the shutdown")
        #expect(server.logs().contains("job released at shutdown"))
        // Nothing is left claimed: what was running went back to the queue.
        #expect(try server.sql("SELECT COUNT(*) FROM jobs WHERE state = 'running'") == "0")

        try server.start()
        let restarted = ContinuousClock.now
        let batch = try await server.waitForBatch(id, key: client.key, timeout: 110)
        #expect(ContinuousClock.now - restarted < .seconds(110))
        #expect(batch.counts == ["received": rows, "registered": rows - expectedRejected, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": expectedRejected, "review": 0])
        #expect(try server.sql("SELECT COUNT(*), COUNT(DISTINCT external_id) FROM debts") == "\(rows - expectedRejected)|\(rows - expectedRejected)")
    }
}
