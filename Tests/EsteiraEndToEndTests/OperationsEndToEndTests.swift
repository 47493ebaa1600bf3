import EsteiraCore
import EsteiraTestSupport
import Foundation
import Testing

@Suite("End to end: an operator retries a dead job", .offSharedPool, .serialized)
struct OperationsEndToEndTests {
    @Test("a job that keeps failing goes dead, is listed, and finishes once retried")
    func deadJob() async throws {
        // Two attempts, 0.1 s apart: the job is dead within a second instead of after minutes.
        let server = try EsteiraProcess(environment: [
            "ESTEIRA_JOB_MAX_ATTEMPTS": "2", "ESTEIRA_RETRY_BASE_SECONDS": "0.1", "ESTEIRA_RETRY_CAP_SECONDS": "0.2",
        ])
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        let smtp = try SMTPReceiver()
        defer { smtp.stop() }
        let op = try server.createOperator()
        let settings = smtp.environment.merging(EmailEndToEndTests.fastRetries) { a, _ in a }

        // Accept the file with no workers running, then take the stored file away. The operators
        // want to hear of dead jobs by e-mail.
        try server.start(settings.merging(["ESTEIRA_NO_WORKERS": "1"]) { a, _ in a })
        let target = try await server.request("POST", "/v1/admin/alert-targets", key: op,
                                              body: Data(#"{"address": "operacao@agencia.test", "events": ["job.dead"]}"#.utf8),
                                              contentType: "application/json")
        #expect(target.status == 201, "\(target.body)")
        let file = Data("id_divida;nome;cpf;valor;vencimento\nO1;Ana;248.438.034-80;10,00;2024-01-01\n".utf8)
        let id = try await server.upload(file, key: client.key, name: "o.csv")
        server.stop()
        let blob = "\(server.dataDir)/blobs/raw/\(client.id)/\(id)"
        let aside = blob + ".aside"
        try FileManager.default.moveItem(atPath: blob, toPath: aside)

        // With workers, pick fails twice and the job is dead; the batch waits, stalled at its pick.
        try server.start(settings)
        var deadJobID: String?
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, deadJobID == nil {
            let listing = try server.command(["jobs", "list", "--state", "dead"])
            deadJobID = listing.split(separator: "\n").first { $0.contains(id) }?.split(separator: " ").first.map(String.init)
            if deadJobID == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        let jobID = try #require(deadJobID)
        let listing = try server.command(["jobs", "list", "--state", "dead"])
        #expect(listing.contains("pick") && listing.contains("2/2"))
        let stalled = try await server.request("GET", "/v1/batches/\(id)", key: client.key).json
        #expect(stalled["status"]?.string == "stalled" && stalled["stalled", "step"]?.string == "pick", "\(stalled)")
        // The operators are told, in Portuguese, which job stopped and how to revive it.
        let mail = try await smtp.waitFor(accepted: 1).first ?? .null
        let text = mail["text"]?.string ?? ""
        #expect(mail["to"]?.string == "operacao@agencia.test")
        #expect(mail["subject"]?.string == "Esteira: tarefa \(jobID) parada depois de 2 tentativas", "\(mail)")
        #expect(text.contains("A tarefa \(jobID), separação (pick) do lote \(id), falhou 2 vezes e parou:"), "\(text)")
        #expect(text.contains("esteira jobs retry \(jobID)"))

        // The operator puts the file back and retries the job: the batch completes.
        try FileManager.default.moveItem(atPath: aside, toPath: blob)
        #expect(try server.command(["jobs", "retry", jobID]).contains("queued again"))
        // The command line's action is in the audit, by the system user who ran it.
        #expect(try server.sql("SELECT operator_name || '|' || channel || '|' || target FROM audit_log WHERE action = 'job.retry'")
                == "cli:\(ProcessInfo.processInfo.userName)|cli|job:\(jobID)")
        let batch = try await server.waitForBatch(id, key: client.key, timeout: 60)
        #expect(batch["status"]?.string == "completed")
        #expect(batch.counts == ["received": 1, "registered": 1, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 0, "review": 0])
        #expect(try server.command(["jobs", "list", "--state", "dead"]).contains(id) == false)
        // Retrying a job that is not dead is refused.
        #expect(throws: (any Error).self) { try server.command(["jobs", "retry", jobID]) }
    }
}
