import EsteiraCore
import Foundation
import Hummingbird
import Synchronization

/// The one way the API writes JSON: keys in a stable order, slashes as they are, a moment as
/// `2026-11-22T13:04:05Z` whichever answer it is in (a `Date` left to Foundation's default would
/// be seconds since 2001), and a client's own JSON (`RawJSON`) written back exactly as stored.
enum APIJSON {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, to in
            var c = to.singleValueContainer()
            try c.encode(Timestamp.isoSeconds(date))
        }
        return encoder
    }

    /// `value` as JSON. JSONEncoder has no way to write a number from its literal, so each
    /// `RawJSON` is written first as a placeholder string that names this call (a random tag no
    /// client text can hold), and the placeholders are then replaced by the stored texts.
    static func encode(_ value: some Encodable) throws -> Data {
        let raw = RawJSONTexts()
        let encoder = encoder()
        encoder.userInfo[RawJSONTexts.key] = raw
        let data = try encoder.encode(value)
        let (tag, texts) = raw.state.withLock { ($0.tag ?? "", $0.texts) }
        guard !texts.isEmpty else { return data }
        var out = Data()
        out.reserveCapacity(data.count + texts.reduce(0) { $0 + $1.utf8.count })
        var rest = data[...]
        for (i, text) in texts.enumerated() {
            let placeholder = Data("\"\(RawJSONTexts.placeholder(tag, i))\"".utf8)
            guard let r = rest.range(of: placeholder) else { throw EncodingError.invalidValue(text, .init(codingPath: [], debugDescription: "raw JSON lost")) }
            out += rest[rest.startIndex..<r.lowerBound]
            out += Data(text.utf8)
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}

/// The placeholders of one `APIJSON.encode` call and the texts they stand for, in order.
final class RawJSONTexts: Sendable {
    static let key = CodingUserInfoKey(rawValue: "esteira.rawJSON")!
    /// The call's random tag, made only when a text is added (most answers carry none), and the texts.
    let state = Mutex<(tag: String?, texts: [String])>((nil, []))

    static func placeholder(_ tag: String, _ i: Int) -> String { "esteira-raw-json:\(tag):\(i)" }

    func add(_ text: String) -> String {
        state.withLock { s in
            let tag = s.tag ?? UUID().uuidString
            s.tag = tag
            s.texts.append(text)
            return Self.placeholder(tag, s.texts.count - 1)
        }
    }
}

/// JSON text a client sent, stored canonical (`JSONValue.canonicalText`), written back as it is:
/// large integers and long decimals stay exact. Only `APIJSON.encode` can write it.
struct RawJSON: Encodable {
    let text: String

    func encode(to encoder: any Encoder) throws {
        guard let raw = encoder.userInfo[RawJSONTexts.key] as? RawJSONTexts else {
            throw EncodingError.invalidValue(text, .init(codingPath: encoder.codingPath, debugDescription: "RawJSON needs APIJSON.encode"))
        }
        var c = encoder.singleValueContainer()
        try c.encode(raw.add(text))
    }
}

/// The API's response encoder (`EsteiraRequestContext.responseEncoder`): `APIJSON.encode`.
struct APIResponseEncoder: ResponseEncoder {
    func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        let data = try APIJSON.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(data.count)],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
