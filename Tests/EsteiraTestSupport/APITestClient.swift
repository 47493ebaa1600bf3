import EsteiraCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting

/// An answer of the API, its body read as JSON where it is.
public struct APIResult: Sendable {
    public let status: Int
    public let headers: HTTPFields
    public let body: String
    /// The body as JSON (`.null` when it is not), parsed once.
    public let json: JSONValue

    public init(status: Int, headers: HTTPFields, body: String) {
        self.status = status
        self.headers = headers
        self.body = body
        json = (try? JSONValue.parse(Array(body.utf8))) ?? .null
    }

    public func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }
}

extension JSONValue {
    /// A number's value as an integer, when it is one.
    public var int: Int? { if case .number(let n) = self { return Int(n) } else { return nil } }
    /// Members' values by path: `json["batch", "counts", "registered"]`.
    public subscript(path: String...) -> JSONValue? {
        path.reduce(Optional(self)) { value, key in value?[key] }
    }
}

/// The one set of request helpers the HTTP tests use, over HummingbirdTesting's client (in
/// process, no socket).
public struct APITestClient: Sendable {
    let client: any TestClientProtocol

    public init(_ client: any TestClientProtocol) {
        self.client = client
    }

    /// `key`: a client's or an operator's API key, sent as a bearer token.
    public func request(_ method: HTTPRequest.Method, _ path: String, key: String? = nil, body: String? = nil,
                        contentType: String? = nil, headers extra: [String: String] = [:]) async throws -> APIResult {
        try await request(method, path, key: key, bytes: body.map { Array($0.utf8) }, contentType: contentType, headers: extra)
    }

    /// The same with a body of any bytes (a file in Windows-1252 or UTF-16, a stray 0xFF).
    public func request(_ method: HTTPRequest.Method, _ path: String, key: String? = nil, bytes: [UInt8]?,
                        contentType: String? = nil, headers extra: [String: String] = [:]) async throws -> APIResult {
        var headers = HTTPFields()
        if let key { headers[.authorization] = "Bearer \(key)" }
        if let contentType { headers[.contentType] = contentType } else if bytes != nil { headers[.contentType] = "application/json" }
        for (name, value) in extra { if let n = HTTPField.Name(name) { headers[n] = value } }
        return try await client.execute(uri: path, method: method, headers: headers, body: bytes.map { ByteBuffer(bytes: $0) }) { response in
            APIResult(status: Int(response.status.code), headers: response.headers, body: String(buffer: response.body))
        }
    }

    public func get(_ path: String, key: String? = nil) async throws -> APIResult {
        try await request(.get, path, key: key)
    }

    public func post(_ path: String, key: String? = nil, json: String) async throws -> APIResult {
        try await request(.post, path, key: key, body: json)
    }

    /// Sends a file as `POST /v1/batches?file_name=…` and returns its batch's id; anything but
    /// 202 is an error that quotes the answer.
    public func upload(_ bytes: [UInt8], key: String, name: String) async throws -> String {
        let path = "/v1/batches?file_name=" + (name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? name)
        let r = try await request(.post, path, key: key, bytes: bytes, contentType: "text/csv")
        guard r.status == 202, let id = r.json["id"]?.string else { throw APITestError("upload of \(name): \(r.status) \(r.body)") }
        return id
    }

    /// The `items` of a list the API answers at `path` (a notification log), read every 100 ms until
    /// `done` holds of them, 10 s at most; returns the last read. A receiver (webhook, SMTP) has an
    /// attempt before the sender has recorded its answer, so a log read at once may not show it yet.
    public func items(_ path: String, key: String, until done: ([JSONValue]) -> Bool) async throws -> [JSONValue] {
        var items: [JSONValue] = []
        for _ in 0..<100 {
            items = try await get(path, key: key).json["items"]?.items ?? []
            if done(items) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return items
    }

    /// The batch once it has finished (completed, with rejects, or failed), read every 50 ms.
    public func finishedBatch(_ id: String, key: String, timeout: TimeInterval = 120) async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let batch = try await get("/v1/batches/\(id)", key: key)
            if ["completed", "completed_with_rejects", "failed"].contains(batch.json["status"]?.string ?? "") { return batch.json }
            guard Date() < deadline else { throw APITestError("batch \(id) unfinished after \(Int(timeout)) s: \(batch.body)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

public struct APITestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension JSONValue {
    /// A batch's `counts` as a dictionary, for comparing all five at once.
    public var counts: [String: Int] {
        guard case .object(let members)? = self["counts"] else { return [:] }
        return members.reduce(into: [:]) { acc, member in if let n = member.value.int { acc[member.key] = n } }
    }

    /// An object whose members are all strings, as a dictionary; nil for anything else.
    public var strings: [String: String]? {
        guard let members else { return nil }
        var out: [String: String] = [:]
        for m in members {
            guard let s = m.value.string else { return nil }
            out[m.key] = s
        }
        return out
    }

    /// A scalar as text (a string as it is, a number as its literal), anything else as JSON.
    public var text: String {
        switch self {
        case .string(let s): s
        case .number(let n): n
        default: canonicalText
        }
    }

    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }

    /// An array's elements, or none.
    public var items: [JSONValue] { elements ?? [] }
}
