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
        var headers = HTTPFields()
        if let key { headers[.authorization] = "Bearer \(key)" }
        if let contentType { headers[.contentType] = contentType } else if body != nil { headers[.contentType] = "application/json" }
        for (name, value) in extra { if let n = HTTPField.Name(name) { headers[n] = value } }
        return try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            APIResult(status: Int(response.status.code), headers: response.headers, body: String(buffer: response.body))
        }
    }

    public func get(_ path: String, key: String? = nil) async throws -> APIResult {
        try await request(.get, path, key: key)
    }

    public func post(_ path: String, key: String? = nil, json: String) async throws -> APIResult {
        try await request(.post, path, key: key, body: json)
    }
}
