import EsteiraCore
import EsteiraBlobs
import EsteiraS3
import EsteiraTestSupport
import Foundation
import Testing

/// The pipeline with its files in an S3-compatible server (moto, started by scripts/test).
@Suite("End to end: files in S3", .offSharedPool, .enabled(if: ProcessInfo.processInfo.environment["ESTEIRA_TEST_S3_ENDPOINT"] != nil))
struct S3EndToEndTests {
    static let endpoint = ProcessInfo.processInfo.environment["ESTEIRA_TEST_S3_ENDPOINT"] ?? ""

    /// `rows` debts, every 10th with a wrong CPF check digit (R003). Valid CPFs computed by hand:
    /// 248.438.034-80 and 111.444.777-35 (the -70 variant fails the first digit).
    static func file(rows: Int) -> (Data, registered: Int, rejected: Int) {
        var text = "external_id;name;document;amount;due_date\n"
        var bad = 0
        for i in 0..<rows {
            let document = i % 10 == 3 ? "248.438.034-70" : (i % 2 == 0 ? "248.438.034-80" : "111.444.777-35")
            if i % 10 == 3 { bad += 1 }
            text += "S3-\(i);Devedor \(i);\(document);\(i + 1),50;01/02/\(TestCalendar.year(-1))\n"
        }
        return (Data(text.utf8), rows - bad, bad)
    }

    static func environment(endpoint: String, bucket: String) -> [String: String] {
        ["ESTEIRA_BLOB_URL": "s3://\(bucket)/esteira", "ESTEIRA_S3_ENDPOINT": endpoint, "ESTEIRA_S3_CREATE_BUCKET": "1",
         "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"]
    }

    static func bucketStore(_ bucket: String) throws -> S3BlobStore {
        S3BlobStore(location: try S3Location.parse(url: "s3://\(bucket)/esteira", endpoint: endpoint, region: "us-east-1"),
                    credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"))
    }

    @Test("a batch whose raw file and staging files live in S3 completes with exact counts")
    func batchInS3() async throws {
        let bucket = "esteira-e2e-\(UUID().uuidString.lowercased().prefix(8))"
        let server = try EsteiraProcess(environment: Self.environment(endpoint: Self.endpoint, bucket: bucket))
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja S3", document: "11.222.333/0001-81", subBatchSize: 10)
        try server.start()
        let (bytes, registered, rejected) = Self.file(rows: 25)
        let id = try await server.upload(bytes, key: client.key, name: "s3.csv")
        let batch = try await server.waitForBatch(id, key: client.key)
        #expect(batch.counts == ["received": 25, "registered": registered, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": rejected, "review": 0])
        #expect(batch["sub_batches"]?.int == 3)

        // The file the client sent is in the bucket, byte for byte; the staging files are gone.
        let store = try Self.bucketStore(bucket)
        #expect(try await store.readAll(key: BlobKeys.raw(clientID: client.id, batchID: id)) == Array(bytes))
        await #expect(throws: BlobError.self) { try await store.size(key: BlobKeys.staging(batchID: id, seq: 0)) }
        // Nothing went to the local folder.
        #expect(!FileManager.default.fileExists(atPath: server.dataDir + "/blobs/raw"))
    }

    @Test("S3 unreachable for a while: the jobs fail, retry, and the batch completes with exact counts")
    func s3Outage() async throws {
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/faulty-proxy.py").path
        // The outage ends by itself once the proxy has reset 9 of the worker's connections, over
        // 3 s or more. Here a job attempt meets about 5 resets in 0.75 s (S3Client's 3 tries,
        // and AsyncHTTPClient's own reconnections), so the pick job fails about 4 times, however
        // late this test gets its turns on a busy machine.
        proxy.arguments = ["python3", script, Self.endpoint.replacingOccurrences(of: "http://", with: ""), "--heal-after", "9", "3"]
        let out = Pipe()
        proxy.standardOutput = out
        try proxy.run()
        defer { proxy.terminate(); proxy.waitUntilExit() }
        let portLine = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try #require(Int(portLine))

        let bucket = "esteira-e2e-\(UUID().uuidString.lowercased().prefix(8))"
        // The API reaches S3 directly; a worker process reaches it through the proxy, which the
        // test cuts while the batch runs.
        let server = try EsteiraProcess(environment: Self.environment(endpoint: Self.endpoint, bucket: bucket))
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja S3", document: "11.222.333/0001-81", subBatchSize: 500)
        // The API enqueues the jobs, so it gives them their attempts: as many as the worker's.
        try server.start(["ESTEIRA_NO_WORKERS": "1", "ESTEIRA_JOB_MAX_ATTEMPTS": "40"])
        // No lake inbox: only the batch's jobs go through the proxy during the cut.
        try server.startWorker([
            "ESTEIRA_S3_ENDPOINT": "http://127.0.0.1:\(port)", "ESTEIRA_RETRY_BASE_SECONDS": "0.2",
            "ESTEIRA_RETRY_CAP_SECONDS": "1", "ESTEIRA_JOB_MAX_ATTEMPTS": "40", "ESTEIRA_S3_TIMEOUT_SECONDS": "0.5",
            "ESTEIRA_NO_LAKE_INBOX": "1",
        ])
        // The worker checks the bucket through the proxy as it starts: cut once it is past that.
        try await server.waitForLog("worker started", in: "worker-0")
        kill(proxy.processIdentifier, SIGUSR1)

        let (bytes, registered, rejected) = Self.file(rows: 10_000)
        let id = try await server.upload(bytes, key: client.key, name: "outage.csv")
        let batch = try await server.waitForBatch(id, key: client.key, timeout: 300)
        #expect(batch.counts == ["received": 10_000, "registered": registered, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": rejected, "review": 0])
        #expect(batch["status"]?.string == "completed_with_rejects")
        // The worker did meet the outage, and retried: a job's attempts count its claims, so a
        // second one means the first failed.
        #expect(server.logs().contains("job failed; will retry"))
        #expect(try Int(server.sql("SELECT attempts FROM jobs WHERE kind = 'pick'")) ?? 0 >= 2)
        #expect(try await EsteiraProcess.jobsLeft { try server.sql("SELECT COUNT(*) FROM jobs WHERE state <> 'done'") } == "0")
        #expect(try server.sql("SELECT COUNT(*) FROM debts") == "\(registered)")
    }
}
