import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// A batch whose step dies is `stalled`, told to its client, and goes on once an operator revives
/// it: in process, on SQLite and on PostgreSQL, with the webhook receiver in a process of its own.
@Suite("API contract, in process: a stalled batch", .serialized)
struct StalledBatchContractTests {
    @Test("a batch whose transforms die reads stalled with its step, its client hears batch.stalled; revived, it ends with exact counts",
          arguments: InProcessEsteira.dialects)
    func stalledThenRevived(dialect: SQLDialect) async throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let environment = NotificationContractTests.fastRetries.merging([
            "ESTEIRA_WEBHOOK_ALLOW_PRIVATE": "1", "ESTEIRA_JOB_MAX_ATTEMPTS": "2", "ESTEIRA_RETRY_BASE_SECONDS": "0.05",
        ]) { $1 }
        try await InProcessEsteira.with(dialect, environment: environment, companions: true) { api, runtime in
            let client = try await InProcessEsteira.client(runtime, name: "Loja")
            _ = try await NotificationContractTests.endpoint(api, key: client.key, url: receiver.base + "/hooks")
            // The staging area cannot be written: a file stands where its folder goes (root, as CI
            // runs, writes through any permission, but not under a file).
            let staging = runtime.settings.store.dataDir + "/blobs/staging"
            try? FileManager.default.removeItem(atPath: staging)
            #expect(FileManager.default.createFile(atPath: staging, contents: Data("not a folder".utf8)))

            // Three rows, two sub-batches of two (the test client's size): two transforms, both dying.
            let past = TestCalendar.year(-1)
            let file = "external_id,name,document,amount,due_date\nS1,Ana,248.438.034-80,10.00,\(past)-01-01\n"
                + "S2,Bia,123,1.00,\(past)-01-01\nS3,Caio,111.444.777-35,3.00,\(past)-02-01\n"
            let id = try await api.upload(Array(file.utf8), key: client.key, name: "parado.csv")
            var batch = JSONValue.null
            for _ in 0..<400 {
                batch = try await api.get("/v1/batches/\(id)", key: client.key).json
                if batch["status"]?.string == "stalled" { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(batch["status"]?.string == "stalled", "\(batch)")
            #expect(batch["stalled", "step"]?.string == "transform")
            #expect((batch["stalled", "reason"]?.string ?? "").contains("validação das linhas falhou"), "\(batch)")

            let stalledHook = try #require(try await receiver.waitFor(1).first)
            #expect(stalledHook["body", "event"]?.string == "batch.stalled")
            #expect(stalledHook["body", "batch", "id"]?.string == id)
            #expect(stalledHook["body", "batch", "stalled", "step"]?.string == "transform")

            // The operator revives one dead step: the other still holds the batch stalled.
            let queue = JobQueue(db: runtime.db)
            var dead: [Job] = []
            for _ in 0..<200 {
                dead = try await queue.list(state: .dead).filter { $0.batchID == id }
                if dead.count == 2 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(dead.map(\.kind) == [.transform, .transform])
            try FileManager.default.removeItem(atPath: staging)
            #expect(try await queue.retryDead(id: dead[0].id, by: .cli(user: "test")))
            #expect(try await api.get("/v1/batches/\(id)", key: client.key).json["status"]?.string == "stalled")
            #expect(try await queue.retryDead(id: dead[1].id, by: .cli(user: "test")))
            #expect(try await queue.retryDead(id: dead[1].id, by: .cli(user: "test")) == false) // queued now, not dead

            // By hand: S1 and S3 register, S2's document is refused; 3 received.
            let done = try await api.finishedBatch(id, key: client.key, timeout: 60)
            #expect(done["status"]?.string == "completed_with_rejects")
            #expect(done.counts == ["received": 3, "registered": 2, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 1, "review": 0])
            #expect(done["stalled"] == .null)
            let hooks = try await receiver.waitFor(2)
            #expect(hooks.map { $0["body", "event"]?.string ?? "" } == ["batch.stalled", "batch.completed_with_rejects"])
        }
    }
}
