/// A small streaming XML scanner for the parts of an XLSX file: fed chunks as they are inflated,
/// it reports start tags (with attributes), end tags and text, and keeps only an unfinished tag
/// between chunks. Names lose their namespace prefix (`x:row` is `row`). It resolves the five
/// predefined entities and character references and nothing else: a DOCTYPE is refused, so no
/// external entity is ever read.
struct XMLScanner {
    enum Event {
        case start(name: String, attributes: [String: String], selfClosing: Bool)
        case end(name: String)
        case text(String)
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    private var buffer: [UInt8] = []
    /// The longest markup or text run kept while waiting for its end. Nothing in a sheet comes
    /// near it; a file that does is not a spreadsheet.
    static let maxPending = 16 << 20

    mutating func feed<C: Collection>(_ bytes: C, _ handle: (Event) throws -> Void) throws where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        var pos = 0
        let n = buffer.count
        try buffer.withUnsafeBufferPointer { b in
            while pos < n {
                if b[pos] != UInt8(ascii: "<") {
                    guard let lt = Self.find(UInt8(ascii: "<"), in: b, from: pos) else {
                        // Text runs on past the chunk: report what is complete now (a consumer
                        // appends runs), keeping back an entity that may be cut in two.
                        var cut = n
                        if let amp = (max(pos, n - 12)..<n).last(where: { b[$0] == UInt8(ascii: "&") }) { cut = amp }
                        if cut > pos { try handle(.text(try Self.decode(b[pos..<cut]))) }
                        pos = cut
                        break
                    }
                    try handle(.text(try Self.decode(b[pos..<lt])))
                    pos = lt
                    continue
                }
                guard let consumed = try Self.markup(b, at: pos, handle) else { break }
                pos = consumed
            }
        }
        buffer.removeFirst(pos)
        if buffer.count > Self.maxPending { throw Malformed(description: "um elemento XML excede 16 MB") }
    }

    /// At the end of the part: whatever is left must be whitespace.
    func finish() throws {
        if buffer.contains(where: { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }) {
            throw Malformed(description: "o XML termina no meio de um elemento")
        }
    }

    private static func find(_ byte: UInt8, in b: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var i = from
        while i < b.count { if b[i] == byte { return i }; i += 1 }
        return nil
    }

    private static func find(_ pattern: [UInt8], in b: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard b.count >= pattern.count else { return nil }
        var i = from
        while i + pattern.count <= b.count {
            if b[i] == pattern[0] && pattern.indices.allSatisfy({ b[i + $0] == pattern[$0] }) { return i }
            i += 1
        }
        return nil
    }

    private static func hasPrefix(_ b: UnsafeBufferPointer<UInt8>, at pos: Int, _ text: String) -> Bool? {
        let p = Array(text.utf8)
        for (k, c) in p.enumerated() {
            guard pos + k < b.count else { return nil } // not enough bytes yet to tell
            if b[pos + k] != c { return false }
        }
        return true
    }

    /// Reads the markup starting at `pos` (a `<`); returns the position after it, or nil when
    /// the chunk ends inside it.
    private static func markup(_ b: UnsafeBufferPointer<UInt8>, at pos: Int, _ handle: (Event) throws -> Void) throws -> Int? {
        guard pos + 1 < b.count else { return nil }
        switch b[pos + 1] {
        case UInt8(ascii: "?"):
            guard let end = find(Array("?>".utf8), in: b, from: pos + 2) else { return nil }
            return end + 2
        case UInt8(ascii: "!"):
            let comment = hasPrefix(b, at: pos, "<!--"), cdata = hasPrefix(b, at: pos, "<![CDATA[")
            if comment == true {
                guard let end = find(Array("-->".utf8), in: b, from: pos + 4) else { return nil }
                return end + 3
            }
            if cdata == true {
                guard let end = find(Array("]]>".utf8), in: b, from: pos + 9) else { return nil }
                try handle(.text(String(decoding: UnsafeBufferPointer(rebasing: b[(pos + 9)..<end]), as: UTF8.self)))
                return end + 3
            }
            if comment == nil || cdata == nil { return nil } // too few bytes yet to tell
            throw Malformed(description: "declaração XML não suportada (DOCTYPE)")
        default:
            break
        }
        // A tag: find its `>` outside quoted attribute values.
        var i = pos + 1
        var quote: UInt8 = 0
        while i < b.count {
            let c = b[i]
            if quote != 0 { if c == quote { quote = 0 } }
            else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") { quote = c }
            else if c == UInt8(ascii: ">") { break }
            i += 1
        }
        guard i < b.count else { return nil }
        let end = i
        if b[pos + 1] == UInt8(ascii: "/") {
            try handle(.end(name: localName(b, (pos + 2)..<end)))
            return end + 1
        }
        let selfClosing = b[end - 1] == UInt8(ascii: "/")
        let inner = (pos + 1)..<(selfClosing ? end - 1 : end)
        var k = inner.lowerBound
        while k < inner.upperBound && !isSpace(b[k]) { k += 1 }
        let name = localName(b, inner.lowerBound..<k)
        var attributes: [String: String] = [:]
        while k < inner.upperBound {
            while k < inner.upperBound && isSpace(b[k]) { k += 1 }
            guard k < inner.upperBound else { break }
            let nameStart = k
            while k < inner.upperBound && b[k] != UInt8(ascii: "=") && !isSpace(b[k]) { k += 1 }
            let attrName = localName(b, nameStart..<k)
            while k < inner.upperBound && (isSpace(b[k]) || b[k] == UInt8(ascii: "=")) { k += 1 }
            guard k < inner.upperBound, b[k] == UInt8(ascii: "\"") || b[k] == UInt8(ascii: "'") else {
                throw Malformed(description: "atributo \(attrName) sem valor entre aspas")
            }
            let q = b[k]
            let valueStart = k + 1
            k = valueStart
            while k < inner.upperBound && b[k] != q { k += 1 }
            attributes[attrName] = try decode(b[valueStart..<k])
            k += 1
        }
        try handle(.start(name: name, attributes: attributes, selfClosing: selfClosing))
        return end + 1
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }

    private static func localName(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        var start = range.lowerBound
        var end = range.upperBound
        while end > start && isSpace(b[end - 1]) { end -= 1 }
        for i in start..<end where b[i] == UInt8(ascii: ":") { start = i + 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
    }

    /// Text with its entities and character references resolved.
    static func decode(_ s: Slice<UnsafeBufferPointer<UInt8>>) throws -> String {
        guard s.contains(UInt8(ascii: "&")) else { return String(decoding: UnsafeBufferPointer(rebasing: s), as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            guard c == UInt8(ascii: "&") else { out.append(c); i += 1; continue }
            var j = i + 1
            while j < s.endIndex && s[j] != UInt8(ascii: ";") && j - i < 12 { j += 1 }
            guard j < s.endIndex, s[j] == UInt8(ascii: ";") else { throw Malformed(description: "entidade XML sem ';'") }
            let name = String(decoding: UnsafeBufferPointer(rebasing: s[(i + 1)..<j]), as: UTF8.self)
            switch name {
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "amp": out.append(UInt8(ascii: "&"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                let value: UInt32?
                if name.hasPrefix("#x") || name.hasPrefix("#X") { value = UInt32(name.dropFirst(2), radix: 16) }
                else if name.hasPrefix("#") { value = UInt32(name.dropFirst(1)) }
                else { value = nil }
                guard let value, let scalar = Unicode.Scalar(value) else {
                    throw Malformed(description: "entidade XML desconhecida &\(name);")
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
            i = j + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
