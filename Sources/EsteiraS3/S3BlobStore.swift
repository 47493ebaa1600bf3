import AsyncHTTPClient
import EsteiraBlobs
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Blobs as objects in an S3 bucket (AWS or an S3-compatible server), signed with Signature V4.
///
/// A blob is visible only once whole: small ones go up in one PUT, large ones as a multipart upload
/// of `partSize` parts completed at `finish()` (and aborted on failure). Reads are ranged GETs, so a
/// file is read back in pieces, never whole.
public struct S3BlobStore: BlobStore {
    let client: S3Client
    /// Size of a multipart upload's parts (S3's minimum is 5 MiB, except for the last).
    public var partSize: Int

    /// `encryption`: the server-side encryption every object is written with.
    public init(location: S3Location, credentials: AWSCredentials, http: HTTPClient = .shared,
                logger: Logger = Logger(label: "esteira.s3"), partSize: Int = 8 << 20, requestTimeout: Duration = .seconds(10),
                encryption: S3ServerSideEncryption = .none, kmsKeyID: String? = nil) {
        var client = S3Client(location: location, signer: SigV4Signer(credentials: credentials, region: location.region),
                              http: http, logger: logger)
        client.objectHeaders = encryption.headers(kmsKeyID: kmsKeyID)
        client.timeout = .nanoseconds(requestTimeout.components.seconds * 1_000_000_000 + requestTimeout.components.attoseconds / 1_000_000_000)
        self.client = client
        self.partSize = max(partSize, 5 << 20)
    }

    /// Makes sure the bucket answers (and creates it when `create` and it is missing).
    public func checkBucket(create: Bool = false) async throws {
        let probe = try await client.send(.GET, key: "", query: [("list-type", "2"), ("max-keys", "1")])
        if probe.status == 200 { return }
        if probe.status == 404 && create {
            let made = try await client.send(.PUT, key: "", body: [])
            if made.status == 200 { return }
            throw BlobError(code: .io, key: "", detail: "cannot create bucket: \(S3Client.errorText(made.body))")
        }
        throw BlobError(code: probe.status == 404 ? .notFound : .io, key: "",
                        detail: "bucket \(client.location.bucket): \(probe.status) \(S3Client.errorText(probe.body))")
    }

    public func makeWriter(key: String) async throws -> any BlobWriter {
        try BlobKeys.check(key)
        return S3BlobWriter(client: client, key: key, partSize: partSize)
    }

    public func put(key: String, bytes: [UInt8]) async throws {
        try BlobKeys.check(key)
        let r = try await client.send(.PUT, key: key, headers: client.objectHeaders, body: bytes)
        guard r.status == 200 else { throw failure("PUT", key, r) }
    }

    public func read(key: String, offset: Int, length: Int) async throws -> [UInt8] {
        guard length > 0 else { return [] }
        // Room for an error document too, which can be longer than a short range.
        let r = try await client.send(.GET, key: key, headers: [("range", "bytes=\(offset)-\(offset + length - 1)")],
                                      maxResponse: max(length, 64 << 10))
        switch r.status {
        case 200, 206: return Array(r.body.readableBytesView.prefix(length))
        case 416: return [] // the range starts at or after the end
        default: throw failure("GET", key, r)
        }
    }

    public func readAll(key: String) async throws -> [UInt8] {
        let size = try await self.size(key: key)
        var out: [UInt8] = []
        out.reserveCapacity(size)
        while out.count < size {
            let piece = try await read(key: key, offset: out.count, length: min(partSize, size - out.count))
            if piece.isEmpty { break }
            out += piece
        }
        return out
    }

    public func size(key: String) async throws -> Int {
        let r = try await client.send(.HEAD, key: key)
        guard r.status == 200 else { throw failure("HEAD", key, r) }
        guard let length = r.headers.first(name: "content-length").flatMap(Int.init) else {
            throw BlobError(code: .io, key: key, detail: "HEAD without content-length")
        }
        return length
    }

    /// ListObjectsV2, page by page (S3 answers at most 1,000 keys a page).
    public func list(prefix: String) async throws -> [BlobEntry] {
        let base = client.location.prefix.isEmpty ? "" : client.location.prefix + "/"
        var out: [BlobEntry] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", base + prefix)]
            if let token { query.append(("continuation-token", token)) }
            let r = try await client.send(.GET, key: "", query: query.sorted { $0.0 < $1.0 }, maxResponse: 8 << 20)
            guard r.status == 200 else { throw failure("LIST", prefix, r) }
            let text = String(buffer: r.body)
            for piece in text.components(separatedBy: "<Contents>").dropFirst() {
                guard let key = S3Client.xmlValue("Key", in: piece), let size = S3Client.xmlValue("Size", in: piece).flatMap(Int.init)
                else { continue }
                out.append(BlobEntry(key: String(key.dropFirst(base.count)).xmlUnescaped, size: size))
            }
            token = S3Client.xmlValue("IsTruncated", in: text) == "true" ? S3Client.xmlValue("NextContinuationToken", in: text)?.xmlUnescaped : nil
        } while token != nil
        return out.sorted { $0.key < $1.key }
    }

    public func delete(key: String) async throws {
        let r = try await client.send(.DELETE, key: key)
        guard r.status == 204 || r.status == 200 || r.status == 404 else { throw failure("DELETE", key, r) }
    }

    func failure(_ what: String, _ key: String, _ r: S3Response) -> BlobError {
        BlobError(code: r.status == 404 ? .notFound : .io, key: key, detail: "S3 \(what) \(r.status) \(S3Client.errorText(r.body))")
    }
}

/// Buffers up to one part; the first full part starts a multipart upload.
final class S3BlobWriter: BlobWriter, @unchecked Sendable {
    let client: S3Client
    let key: String
    let partSize: Int
    // Touched by one task at a time: the upload that owns the writer awaits each call in turn.
    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var parts: [(number: Int, etag: String)] = []
    private var total = 0

    init(client: S3Client, key: String, partSize: Int) {
        self.client = client
        self.key = key
        self.partSize = partSize
        buffer.reserveCapacity(partSize)
    }

    func write(_ bytes: [UInt8]) async throws {
        buffer += bytes
        total += bytes.count
        while buffer.count >= partSize {
            let part = Array(buffer[0..<partSize])
            buffer.removeFirst(partSize)
            try await upload(part)
        }
    }

    func finish() async throws -> Int {
        if uploadID == nil {
            let r = try await client.send(.PUT, key: key, headers: client.objectHeaders, body: buffer)
            guard r.status == 200 else { throw failure("PUT", r) }
            buffer = []
            return total
        }
        if !buffer.isEmpty || parts.isEmpty {
            try await upload(buffer)
            buffer = []
        }
        let list = parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(xmlEscaped($0.etag))</ETag></Part>" }.joined()
        let body = Array("<CompleteMultipartUpload>\(list)</CompleteMultipartUpload>".utf8)
        let r = try await client.send(.POST, key: key, query: [("uploadId", uploadID!)], body: body)
        // S3 may answer 200 and still report an error in the body.
        guard r.status == 200, S3Client.xmlValue("Code", in: String(buffer: r.body)) == nil else { throw failure("complete", r) }
        return total
    }

    func abort() async {
        buffer = []
        guard let uploadID else { return }
        _ = try? await client.send(.DELETE, key: key, query: [("uploadId", uploadID)])
        self.uploadID = nil
    }

    private func upload(_ part: [UInt8]) async throws {
        if uploadID == nil {
            let r = try await client.send(.POST, key: key, query: [("uploads", "")], headers: client.objectHeaders)
            guard r.status == 200, let id = S3Client.xmlValue("UploadId", in: String(buffer: r.body)) else {
                throw failure("create multipart upload", r)
            }
            uploadID = id
        }
        let number = parts.count + 1
        let r = try await client.send(.PUT, key: key, query: [("partNumber", "\(number)"), ("uploadId", uploadID!)], body: part)
        guard r.status == 200, let etag = r.headers.first(name: "etag") else { throw failure("upload part \(number)", r) }
        parts.append((number, etag))
    }

    private func failure(_ what: String, _ r: S3Response) -> BlobError {
        BlobError(code: .io, key: key, detail: "S3 \(what) \(r.status) \(S3Client.errorText(r.body))")
    }

    private func xmlEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension String {
    /// The five entities XML escapes in text.
    var xmlUnescaped: String {
        replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
