/// A JSON value exactly as the client wrote it: a number keeps its literal text (`12.345`,
/// `12345678901234567890`), so that an amount is read by `Money` from its digits and a client's
/// own object comes back unchanged, never through a floating-point or a 38-digit decimal. Objects
/// keep their members in order, duplicates included, so that a reader can refuse them.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The literal, as RFC 8259 writes a number (checked by the parser).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([Member])

    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
        public init(key: String, value: JSONValue) { self.key = key; self.value = value }
    }

    /// The member named `key` of an object (the first, when it repeats); nil otherwise.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var members: [Member]? { if case .object(let m) = self { return m } else { return nil } }
    public var elements: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }

    /// The value's text in the one form Esteira stores and compares: object keys sorted (by their
    /// UTF-8 bytes), no spaces, numbers as written, strings with only the escapes JSON requires.
    public var canonicalText: String {
        var out: [UInt8] = []
        write(canonical: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(canonical out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .number(let n): out += Array(n.utf8)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.write(canonical: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, m) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(m.key, to: &out)
                out.append(UInt8(ascii: ":"))
                m.value.write(canonical: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(34)
        for c in s.utf8 {
            switch c {
            case 34: out += [92, 34]
            case 92: out += [92, 92]
            case 10: out += [92, UInt8(ascii: "n")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            case 0..<32: out += [92, UInt8(ascii: "u"), 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]]
            default: out.append(c)
            }
        }
        out.append(34)
    }
}

/// Why a text is not JSON: what was wrong and the byte offset where it was found.
public struct JSONSyntaxError: Error, Equatable, Sendable {
    public var offset: Int
    public var reason: String
}

extension JSONValue {
    /// Nesting deeper than this is refused: no client document needs it, and a parser that
    /// recurses must bound its stack.
    public static let maxDepth = 64

    /// Parses one JSON text (RFC 8259): one value, with only white space around it; strings must
    /// be valid UTF-8 with no raw control characters and no lone surrogates.
    public static func parse<C: Collection>(_ bytes: C) throws(JSONSyntaxError) -> JSONValue where C.Element == UInt8 {
        var parser = Parser(bytes: Array(bytes))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == parser.bytes.count else { throw parser.fail("texto depois do valor JSON") }
        return value
    }

    struct Parser {
        let bytes: [UInt8]
        var at = 0

        func fail(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: at, reason: reason) }

        mutating func skipSpace() {
            while at < bytes.count, [32, 9, 10, 13].contains(bytes[at]) { at += 1 }
        }

        mutating func literal(_ word: String, _ value: JSONValue) throws(JSONSyntaxError) -> JSONValue {
            let w = Array(word.utf8)
            guard bytes.count - at >= w.count, Array(bytes[at..<(at + w.count)]) == w else { throw fail("valor JSON inválido") }
            at += w.count
            return value
        }

        mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard depth < JSONValue.maxDepth else { throw fail("aninhamento acima de \(JSONValue.maxDepth) níveis") }
            guard at < bytes.count else { throw fail("fim do texto antes de um valor") }
            switch bytes[at] {
            case UInt8(ascii: "{"):
                at += 1
                var members: [Member] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard at < bytes.count, bytes[at] == 34 else { throw fail("esperava o nome de um campo entre aspas") }
                    let key = try string()
                    skipSpace()
                    guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail("esperava ':' depois do nome do campo") }
                    at += 1
                    skipSpace()
                    members.append(Member(key: key, value: try value(depth: depth + 1)))
                    skipSpace()
                    guard at < bytes.count else { throw fail("objeto não fechado") }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    guard bytes[at] == UInt8(ascii: "}") else { throw fail("esperava ',' ou '}'") }
                    at += 1
                    return .object(members)
                }
            case UInt8(ascii: "["):
                at += 1
                var elements: [JSONValue] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(elements) }
                while true {
                    skipSpace()
                    elements.append(try value(depth: depth + 1))
                    skipSpace()
                    guard at < bytes.count else { throw fail("lista não fechada") }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    guard bytes[at] == UInt8(ascii: "]") else { throw fail("esperava ',' ou ']'") }
                    at += 1
                    return .array(elements)
                }
            case 34: return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default: return .number(try number())
            }
        }

        mutating func digits() -> Int {
            let start = at
            while at < bytes.count, bytes[at] >= 48, bytes[at] <= 57 { at += 1 }
            return at - start
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() throws(JSONSyntaxError) -> String {
            let start = at
            if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
            let leadingZero = at < bytes.count && bytes[at] == 48
            let whole = digits()
            guard whole > 0, !(leadingZero && whole > 1) else { throw fail("número JSON inválido") }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                guard digits() > 0 else { throw fail("número JSON inválido") }
            }
            if at < bytes.count, bytes[at] | 0x20 == UInt8(ascii: "e") {
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                guard digits() > 0 else { throw fail("número JSON inválido") }
            }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }

        mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
            guard bytes.count - at >= 4 else { throw fail("escape \\u incompleto") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[at]
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 65...70: d = UInt32(c - 55)
                case 97...102: d = UInt32(c - 87)
                default: throw fail("escape \\u com dígito não hexadecimal")
                }
                v = v << 4 | d
                at += 1
            }
            return v
        }

        mutating func string() throws(JSONSyntaxError) -> String {
            at += 1 // the opening quote
            var out: [UInt8] = []
            var validator = UTF8Validator()
            while true {
                guard at < bytes.count else { throw fail("texto entre aspas não fechado") }
                let c = bytes[at]
                if c == 34 {
                    guard validator.isCompleteAndValid else { throw fail("texto que não é UTF-8") }
                    at += 1
                    return String(decoding: out, as: UTF8.self)
                }
                guard c >= 32 else { throw fail("caractere de controle dentro de um texto") }
                if c != 92 {
                    validator.feed(c)
                    out.append(c)
                    at += 1
                    continue
                }
                guard validator.isCompleteAndValid else { throw fail("texto que não é UTF-8") }
                at += 1
                guard at < bytes.count else { throw fail("escape incompleto") }
                let e = bytes[at]
                at += 1
                switch e {
                case 34, 92, 47: out.append(e)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard bytes.count - at >= 6, bytes[at] == 92, bytes[at + 1] == UInt8(ascii: "u") else {
                            throw fail("surrogate UTF-16 sem par")
                        }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("surrogate UTF-16 sem par") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("surrogate UTF-16 sem par")
                    }
                    out += Array(String(Unicode.Scalar(scalar)!).utf8)
                default: throw fail("escape desconhecido")
                }
            }
        }
    }
}
