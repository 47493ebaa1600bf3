import Crypto
import Foundation

/// Credentials for AWS Signature V4, from the usual `AWS_*` variables.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, when set, `AWS_SESSION_TOKEN`.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> AWSCredentials? {
        guard let id = env["AWS_ACCESS_KEY_ID"], !id.isEmpty, let secret = env["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            return nil
        }
        let token = env["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }
}

/// AWS Signature Version 4 for S3 requests, signed in the `Authorization` header.
///
/// Pure: the caller gives the request's parts and the moment; the signer returns the headers to
/// send. See "Signature Calculations for the Authorization Header" in the Amazon S3 API reference.
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The SHA-256 of an empty body, hex.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public static func payloadHash(_ body: [UInt8]) -> String {
        hex(SHA256.hash(data: body))
    }

    /// Signs a request. `path` is the URI path exactly as sent (already percent-encoded, see
    /// `encodePath`); `query` is the decoded name/value pairs; `headers` are the headers to sign
    /// besides the ones this adds (`host` must be among them, as sent, with a non-default port).
    /// Returns `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` (with a session
    /// token) and `authorization`, to add to the request.
    public func sign(method: String, path: String, query: [(String, String)], headers: [(String, String)],
                     payloadHash: String, date: Date) -> [(String, String)] {
        let (amzDate, day) = SigV4Signer.timestamps(date)
        var added = [("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash)]
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }

        var canonical: [(String, String)] = (headers + added).map { name, value in
            (name.lowercased(), value.split(whereSeparator: \.isWhitespace).joined(separator: " "))
        }
        canonical.sort { $0.0 < $1.0 }
        let signedHeaders = canonical.map(\.0).joined(separator: ";")
        var encodedQuery: [(name: String, value: String)] = query.map { pair in
            (SigV4Signer.encode(pair.0, keepSlash: false), SigV4Signer.encode(pair.1, keepSlash: false))
        }
        encodedQuery.sort { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        let canonicalQuery = encodedQuery.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        let canonicalRequest = [
            method, path.isEmpty ? "/" : path, canonicalQuery,
            canonical.map { "\($0.0):\($0.1)\n" }.joined(), signedHeaders, payloadHash,
        ].joined(separator: "\n")

        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, SigV4Signer.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = SigV4Signer.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        added.append(("authorization",
                      "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return added
    }

    /// `20130524T000000Z` and `20130524`, in UTC.
    static func timestamps(_ date: Date) -> (String, String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        let day = "\(c.year ?? 1970)\(two(c.month))\(two(c.day))"
        return ("\(day)T\(two(c.hour))\(two(c.minute))\(two(c.second))Z", day)
    }

    /// The path of an object key as sent and as signed: every byte but the unreserved ones and `/`
    /// percent-encoded once.
    public static func encodePath(_ path: String) -> String {
        encode(path, keepSlash: true)
    }

    /// RFC 3986 percent-encoding, as SigV4 wants it: `A-Z a-z 0-9 - _ . ~` stay, the rest becomes `%XX`.
    static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(b))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                let digits = Array("0123456789ABCDEF".utf8)
                out.append("%")
                out.unicodeScalars.append(UnicodeScalar(digits[Int(b >> 4)]))
                out.unicodeScalars.append(UnicodeScalar(digits[Int(b & 0xF)]))
            }
        }
        return out
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
