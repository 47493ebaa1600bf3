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

    @Test("listing a folder: every key under it with its size, keys that XML escapes included, nothing outside it")
    func list() async throws {
        let store = try await TestS3.store()
        try await store.put(key: "lake/raw/a.csv", bytes: Array("abc".utf8))
        try await store.put(key: "lake/raw/x/b&c.csv", bytes: Array("12345".utf8))
        try await store.put(key: "lake/rawish.csv", bytes: Array("z".utf8))
        try await store.put(key: "staging/1.stg", bytes: Array("zz".utf8))
        #expect(try await store.list(prefix: "lake/raw/") == [BlobEntry(key: "lake/raw/a.csv", size: 3), BlobEntry(key: "lake/raw/x/b&c.csv", size: 5)])
        #expect(try await store.list(prefix: "nothing/") == [])
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

    @Test("a server that does not answer is an I/O error, after exactly three attempts")
    func unreachable() async throws {
        // A loopback listener that accepts connections and never answers: each attempt is one
        // connection, which the one-second deadline ends. Counting connections, not seconds,
        // tells the retries are bounded whatever the machine's load.
        let silent = try SilentServer()
        defer { silent.close() }
        let location = try S3Location.parse(url: "s3://b", endpoint: "http://127.0.0.1:\(silent.port)", region: nil)
        let store = S3BlobStore(location: location, credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "b"),
                                requestTimeout: .seconds(1))
        do {
            try await store.put(key: "k", bytes: [1])
            Issue.record("put succeeded against a server that never answers")
        } catch let error as BlobError {
            #expect(error.code == .io)
        }
        #expect(silent.accepted == 3)
    }
}

/// Accepts TCP connections on a loopback port and never reads or writes them.
final class SilentServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let lock = NSLock()
    private var connections: [Int32] = []

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw NSError(domain: "SilentServer", code: Int(errno)) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let listener = fd
        Thread { [weak self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                guard let self else { Glibc.close(client); return }
                self.lock.withLock { self.connections.append(client) }
            }
        }.start()
    }

    var accepted: Int { lock.withLock { connections.count } }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
        lock.withLock { for c in connections { Glibc.close(c) } }
    }
}
