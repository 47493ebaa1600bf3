import AsyncHTTPClient
import EsteiraBlobs
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Where the objects are: a bucket, a key prefix, and the server.
public struct S3Location: Sendable, Equatable {
    public var bucket: String
    /// Prepended to every key, without leading or trailing `/` (may be empty).
    public var prefix: String
    /// `http` or `https`.
    public var scheme: String
    public var host: String
    public var port: Int?
    /// Path-style addressing (`host/bucket/key`), what S3-compatible servers expect; otherwise
    /// virtual-hosted (`bucket.host/key`), what AWS prefers.
    public var pathStyle: Bool
    public var region: String

    public init(bucket: String, prefix: String, scheme: String, host: String, port: Int?, pathStyle: Bool, region: String) {
        self.bucket = bucket
        self.prefix = prefix
        self.scheme = scheme
        self.host = host
        self.port = port
        self.pathStyle = pathStyle
        self.region = region
    }

    /// `s3://bucket/prefix`, with `ESTEIRA_S3_ENDPOINT` (`http://host:port`) for an S3-compatible
    /// server; otherwise AWS in `AWS_REGION` (or `AWS_DEFAULT_REGION`, else `us-east-1`).
    public static func parse(url: String, endpoint: String?, region: String?) throws -> S3Location {
        guard url.hasPrefix("s3://") else { throw S3ConfigError("blob URL must start with s3://: \(url)") }
        let rest = url.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        guard !bucket.isEmpty else { throw S3ConfigError("blob URL names no bucket: \(url)") }
        let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        let region = region ?? "us-east-1"
        guard let endpoint, !endpoint.isEmpty else {
            return S3Location(bucket: bucket, prefix: prefix, scheme: "https", host: "s3.\(region).amazonaws.com", port: nil,
                              pathStyle: false, region: region)
        }
        guard let u = URLComponents(string: endpoint), let scheme = u.scheme, scheme == "http" || scheme == "https",
              let host = u.host, !host.isEmpty else {
            throw S3ConfigError("ESTEIRA_S3_ENDPOINT must be http(s)://host[:port]: \(endpoint)")
        }
        return S3Location(bucket: bucket, prefix: prefix, scheme: scheme, host: host, port: u.port, pathStyle: true, region: region)
    }
}

public struct S3ConfigError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// One answer of the S3 server.
struct S3Response {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer
}

/// Signed requests to one bucket, with a few quick retries for what is usually passing (network
/// errors, 500, 503 SlowDown). What still fails after them becomes a `BlobError`; the pipeline's
/// job retries take it from there, over minutes.
struct S3Client: Sendable {
    let location: S3Location
    let signer: SigV4Signer
    let http: HTTPClient
    let logger: Logger
    var attempts = 3
    /// Headers of every request that creates an object (server-side encryption).
    var objectHeaders: [(String, String)] = []
    /// Deadline of a request without a body worth counting. AsyncHTTPClient keeps retrying a
    /// refused connection until the deadline, so this is also how long an unreachable server
    /// holds a request. Larger transfers get a second more per MiB.
    var timeout: TimeAmount = .seconds(10)

    /// The Host header as sent and signed: with the port when it is not the scheme's default.
    var hostHeader: String {
        let base = location.pathStyle ? location.host : "\(location.bucket).\(location.host)"
        guard let port = location.port, !(location.scheme == "http" && port == 80), !(location.scheme == "https" && port == 443)
        else { return base }
        return "\(base):\(port)"
    }

    /// The object's path as sent and signed.
    func path(key: String) -> String {
        if key.isEmpty { return location.pathStyle ? "/\(location.bucket)" : "/" } // the bucket itself
        let full = location.prefix.isEmpty ? key : "\(location.prefix)/\(key)"
        let object = SigV4Signer.encodePath(full)
        return location.pathStyle ? "/\(location.bucket)/\(object)" : "/\(object)"
    }

    func send(_ method: HTTPMethod, key: String, query: [(String, String)] = [], headers: [(String, String)] = [],
              body: [UInt8] = [], maxResponse: Int = 1 << 20) async throws -> S3Response {
        let path = self.path(key: key)
        let queryText = query.map { "\(SigV4Signer.encode($0.0, keepSlash: false))=\(SigV4Signer.encode($0.1, keepSlash: false))" }
            .joined(separator: "&")
        let url = "\(location.scheme)://\(hostHeader)\(path)\(queryText.isEmpty ? "" : "?" + queryText)"
        let payloadHash = body.isEmpty ? SigV4Signer.emptyPayloadHash : SigV4Signer.payloadHash(body)
        var lastError: any Error = BlobError(code: .io, key: key, detail: "no attempt made")
        for attempt in 1...max(1, attempts) {
            var request = HTTPClientRequest(url: url)
            request.method = method
            let signed = signer.sign(method: method.rawValue, path: path, query: query, headers: [("host", hostHeader)] + headers,
                                     payloadHash: payloadHash, date: Date())
            for (name, value) in [("host", hostHeader)] + headers + signed { request.headers.replaceOrAdd(name: name, value: value) }
            if !body.isEmpty || method == .PUT || method == .POST {
                request.headers.replaceOrAdd(name: "content-length", value: "\(body.count)")
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            do {
                let deadline = timeout + .seconds(Int64(max(body.count, maxResponse) >> 20))
                let response = try await http.execute(request, timeout: deadline)
                let bytes = try await response.body.collect(upTo: maxResponse)
                let status = Int(response.status.code)
                if status >= 500 && attempt < attempts {
                    lastError = BlobError(code: .io, key: key, detail: "S3 \(method.rawValue) answered \(status)")
                    try await backoff(attempt)
                    continue
                }
                return S3Response(status: status, headers: response.headers, body: bytes)
            } catch let error as CancellationError {
                throw error
            } catch {
                lastError = error
                logger.debug("S3 request failed", metadata: ["method": "\(method.rawValue)", "attempt": "\(attempt)", "error": "\(error)"])
                if attempt < attempts { try await backoff(attempt) }
            }
        }
        if let blob = lastError as? BlobError { throw blob }
        throw BlobError(code: .io, key: key, detail: "S3 \(method.rawValue) failed: \(lastError)")
    }

    private func backoff(_ attempt: Int) async throws {
        let ceiling = 0.1 * Double(1 << (attempt - 1))
        try await Task.sleep(for: .milliseconds(Int(Double.random(in: ceiling / 2...ceiling) * 1000)))
    }

    /// The error S3 put in a body (`<Error><Code>…</Code><Message>…</Message></Error>`), for messages.
    static func errorText(_ body: ByteBuffer) -> String {
        let text = String(buffer: body)
        guard let code = xmlValue("Code", in: text) else { return String(text.prefix(200)) }
        return xmlValue("Message", in: text).map { "\(code): \($0)" } ?? code
    }

    /// The text of the first `<tag>…</tag>` in a small XML answer.
    static func xmlValue(_ tag: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(tag)>"), let close = text.range(of: "</\(tag)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }
}
