import EsteiraBlobs
import EsteiraS3
import Foundation
import Testing

/// Against a real S3-compatible server: `scripts/test` starts moto in server mode and sets
/// ESTEIRA_TEST_S3_ENDPOINT. Without it (a bare `swift test`) these tests are skipped, except in CI.
enum TestS3 {
    static var endpoint: String? { ProcessInfo.processInfo.environment["ESTEIRA_TEST_S3_ENDPOINT"] }

    /// A store on a new bucket of its own.
    static func store(partSize: Int = 5 << 20) async throws -> S3BlobStore {
        let bucket = "esteira-test-\(UUID().uuidString.lowercased().prefix(12))"
        let location = try S3Location.parse(url: "s3://\(bucket)/some/prefix", endpoint: endpoint, region: "us-east-1")
        let store = S3BlobStore(location: location, credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"),
                                partSize: partSize)
        try await store.checkBucket(create: true)
        return store
    }
}

@Suite("Blob store on an S3-compatible server", .enabled(if: TestS3.endpoint != nil))
struct S3BlobStoreTests {
    @Test("put, ranged reads, size, delete; a missing key is notFound")
    func basics() async throws {
        let store = try await TestS3.store()
        let bytes = Array("line one\nlinha dois ç\n".utf8)
        try await store.put(key: "staging/b1/0.stg", bytes: bytes)
        #expect(try await store.size(key: "staging/b1/0.stg") == bytes.count)
        #expect(try await store.readAll(key: "staging/b1/0.stg") == bytes)
        #expect(try await store.read(key: "staging/b1/0.stg", offset: 5, length: 3) == Array("one".utf8))
        // A range past the end gives what there is, then nothing.
        #expect(try await store.read(key: "staging/b1/0.stg", offset: bytes.count - 2, length: 10) == Array(bytes.suffix(2)))
        #expect(try await store.read(key: "staging/b1/0.stg", offset: bytes.count, length: 10) == [])
        try await store.delete(key: "staging/b1/0.stg")
        await #expect(throws: BlobError.self) { try await store.size(key: "staging/b1/0.stg") }
        do {
            _ = try await store.readAll(key: "nothing/here")
            Issue.record("a missing key was read")
        } catch let error as BlobError {
            #expect(error.code == .notFound)
        }
        // Deleting what is not there is not an error (a finalize that runs twice).
        try await store.delete(key: "nothing/here")
    }

    @Test("a large file goes up as a multipart upload, visible only once finished, and reads back whole")
    func multipart() async throws {
        let store = try await TestS3.store(partSize: 5 << 20)
        // 12 MiB + 123 bytes in uneven pieces: two full parts and a short last one.
        var expected: [UInt8] = []
        let writer = try await store.makeWriter(key: "raw/client/batch")
        var n = 0
        while expected.count < (12 << 20) + 123 {
            let piece = (0..<min(65_521, (12 << 20) + 123 - expected.count)).map { UInt8(truncatingIfNeeded: ($0 &* 31) &+ n) }
            n += 1
            expected += piece
            try await writer.write(piece)
        }
        await #expect(throws: BlobError.self) { try await store.size(key: "raw/client/batch") }
        #expect(try await writer.finish() == expected.count)
        #expect(try await store.size(key: "raw/client/batch") == expected.count)
        #expect(try await store.read(key: "raw/client/batch", offset: (5 << 20) - 10, length: 20)
            == Array(expected[((5 << 20) - 10)..<((5 << 20) + 10)]))
        #expect(try await store.readAll(key: "raw/client/batch") == expected)
    }

    @Test("an aborted upload leaves nothing")
    func abort() async throws {
        let store = try await TestS3.store(partSize: 5 << 20)
        let writer = try await store.makeWriter(key: "raw/client/aborted")
        try await writer.write([UInt8](repeating: 7, count: 6 << 20))
        await writer.abort()
        await #expect(throws: BlobError.self) { try await store.size(key: "raw/client/aborted") }
    }
}

@Suite("Blob store on S3: failures")
struct S3FailureTests {
    @Test("S3 is in CI")
    func s3InCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(TestS3.endpoint != nil, "CI must run the S3 tests against a local S3-compatible server")
        }
    }

    @Test("a server that does not answer is an I/O error, after a few quick retries")
    func unreachable() async throws {
        // Port 9 (discard) on loopback: nothing listens there, the connection is refused.
        let location = try S3Location.parse(url: "s3://b", endpoint: "http://127.0.0.1:9", region: nil)
        let store = S3BlobStore(location: location, credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "b"),
                                requestTimeout: .seconds(1))
        let started = ContinuousClock.now
        do {
            try await store.put(key: "k", bytes: [1])
            Issue.record("put succeeded against nothing")
        } catch let error as BlobError {
            #expect(error.code == .io)
        }
        // Three attempts of a one-second deadline and short waits between them: about 4 s, which
        // a loaded CI machine stretched to 12 s once. With the default 10-second deadline the
        // three attempts alone would take 30 s, so 20 s still tells the configured deadline held.
        #expect(ContinuousClock.now - started < .seconds(20))
    }
}
