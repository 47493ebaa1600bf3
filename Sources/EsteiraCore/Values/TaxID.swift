/// A Brazilian taxpayer number: CPF (people, 11 digits) or CNPJ (companies, 14 characters,
/// alphanumeric since July 2026). Always a string: leading zeros are data.
public struct TaxID: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable { case cpf, cnpj }

    public enum Problem: Error, Equatable, Sendable {
        /// Not 11 digits nor 14 characters of the CNPJ shape once the mask is removed.
        case malformed
        /// The shape is right but the check digits do not match (or all characters are equal).
        case checkDigits
    }

    /// The unmasked, uppercased value.
    public let value: String
    public let kind: Kind

    /// Removes the usual mask characters (`.`, `-`, `/`, spaces) and uppercases letters.
    public static func normalize(_ text: Substring) -> String {
        text.utf8.withBytes { normalize(bytes: $0) }
    }

    /// `normalize` of UTF-8 bytes read in place.
    public static func normalize(bytes: UnsafeBufferPointer<UInt8>) -> String {
        // Written straight into the String (a CPF or CNPJ fits in its inline storage, so nothing
        // is allocated): once per row of every file. Only ASCII bytes change, so the UTF-8 stays valid.
        String(unsafeUninitializedCapacity: bytes.count) { out in
            var n = 0
            for c in bytes {
                switch c {
                case UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "/"), 32, 9: continue
                case UInt8(ascii: "a")...UInt8(ascii: "z"): out[n] = c - 32
                default: out[n] = c
                }
                n += 1
            }
            return n
        }
    }

    /// Validates a document already normalized by `normalize`.
    public static func validate(normalized: String) -> Result<TaxID, Problem> {
        var text = normalized
        let checked: Result<Kind, Problem> = text.withUTF8 { b in
            // Each character's value is its ASCII code minus 48 (digits 0–9; for the 2026
            // alphanumeric CNPJ, letters A–Z 17–42: IN RFB 2.229/2024).
            func value(_ i: Int) -> Int { Int(b[i]) - 48 }
            // Weights 2, 3, … 9, 2, 3, … from the right over the first `count` characters, for
            // the CNPJ; for the CPF they simply run down to 2 (at most 11 characters).
            func digit(_ count: Int, cycle: Bool) -> Int {
                var sum = 0
                for i in 0..<count {
                    let fromRight = count - 1 - i
                    sum += value(i) * (cycle ? fromRight % 8 + 2 : fromRight + 2)
                }
                let r = sum % 11
                return r < 2 ? 0 : 11 - r
            }
            func allSame() -> Bool { b.allSatisfy { $0 == b[0] } }
            if b.count == 11 {
                guard b.allSatisfy(isDigit) else { return .failure(.malformed) }
                guard !allSame() else { return .failure(.checkDigits) }
                guard digit(9, cycle: false) == value(9), digit(10, cycle: false) == value(10) else { return .failure(.checkDigits) }
                return .success(.cpf)
            }
            if b.count == 14 {
                guard b[0..<12].allSatisfy({ isDigit($0) || ($0 >= 65 && $0 <= 90) }),
                      b[12..<14].allSatisfy(isDigit) else { return .failure(.malformed) }
                guard !allSame() else { return .failure(.checkDigits) }
                guard digit(12, cycle: true) == value(12), digit(13, cycle: true) == value(13) else { return .failure(.checkDigits) }
                return .success(.cnpj)
            }
            return .failure(.malformed)
        }
        return checked.map { TaxID(value: normalized, kind: $0) }
    }

    public static func parse(_ text: String) -> Result<TaxID, Problem> {
        validate(normalized: normalize(text[...]))
    }

    /// Internal: only `validate`, `pseudonym` and `stored` make one.
    init(value: String, kind: Kind) {
        self.value = value
        self.kind = kind
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// Where the registry's index finds the document: a 64-bit number that no other valid
    /// document shares. A CPF is its eleven digits as a decimal number (below 10¹¹); a CNPJ is
    /// 10¹¹ plus its first twelve characters read in base 36 (digits 0–9, letters 10–35; below
    /// 36¹² ≈ 4.7·10¹⁸), its two check digits left out since the twelve determine them.
    /// Documents in ascending text order get ascending keys within each kind, so a file sorted
    /// by document still inserts near the index's last insert.
    ///
    /// An index on this number costs PostgreSQL less per insert than one on the text
    /// (docs/benchmarks.md); readers still compare the document itself.
    public var indexKey: Int64 {
        // A pseudonym is longer than any document; no document's key is negative.
        if value.utf8.count > 14 { return -1 }
        var key: Int64 = 0
        if kind == .cpf {
            for c in value.utf8 { key = key * 10 + Int64(c - 48) }
            return key
        }
        for c in value.utf8.prefix(12) { key = key * 36 + Int64(c <= 57 ? c - 48 : c - 55) }
        return 100_000_000_000 + key
    }

    /// Masked for logs and screens: the middle is hidden (`248.***.***-80`, `12.***.***/****-35`).
    public var masked: String { isPseudonym ? value : TaxID.mask(value) }

    public var description: String { masked }

    /// Masks any document-like string; never returns more than its first 2-3 and last 2 characters.
    public static func mask(_ raw: String) -> String {
        let chars = Array(raw)
        switch chars.count {
        case 11: return "\(String(chars[0..<3])).***.***-\(String(chars[9..<11]))"
        case 14: return "\(String(chars[0..<2])).***.***/****-\(String(chars[12..<14]))"
        case 0...4: return String(repeating: "*", count: chars.count)
        default: return String(chars.prefix(2)) + String(repeating: "*", count: chars.count - 4) + String(chars.suffix(2))
        }
    }
}

extension TaxID {
    /// An erased debtor's stand-in (LGPD art. 18 VI; docs/security.md): `ANON`, the kind's letter
    /// (`F`, pessoa física; `J`, jurídica) and 16 random hexadecimal digits. It keeps the debts of
    /// one debtor together and says nothing of who it was; no valid document has its shape.
    public static func pseudonym(for kind: Kind) -> TaxID {
        var random = SystemRandomNumberGenerator()
        let hex = (0..<16).map { _ in String(UInt8.random(in: 0..<16, using: &random), radix: 16, uppercase: true) }.joined()
        return TaxID(value: "ANON\(kind == .cpf ? "F" : "J")\(hex)", kind: kind)
    }

    public var isPseudonym: Bool { value.utf8.count > 14 }

    /// What the registry holds: a valid document, or an erased debtor's pseudonym; nil otherwise.
    public static func stored(_ text: String) -> TaxID? {
        if case .success(let id) = validate(normalized: text) { return id }
        guard text.utf8.count == 21, text.hasPrefix("ANON") else { return nil }
        let kind: Kind? = text.utf8.dropFirst(4).first == UInt8(ascii: "F") ? .cpf : text.utf8.dropFirst(4).first == UInt8(ascii: "J") ? .cnpj : nil
        return kind.map { TaxID(value: text, kind: $0) }
    }

    /// The ways a file commonly writes this document: bare, and with its usual punctuation
    /// (`248.438.034-80`, `11.222.333/0001-81`). Erasure looks for these in raw lines.
    public var writtenForms: [String] {
        if isPseudonym { return [value] }
        let c = Array(value)
        func s(_ r: Range<Int>) -> String { String(c[r]) }
        switch kind {
        case .cpf: return [value, "\(s(0..<3)).\(s(3..<6)).\(s(6..<9))-\(s(9..<11))"]
        case .cnpj: return [value, "\(s(0..<2)).\(s(2..<5)).\(s(5..<8))/\(s(8..<12))-\(s(12..<14))"]
        }
    }

    /// Free text (a log line's value, an error sent in an alert) with the middle of anything shaped like
    /// a CPF (11 digits) or CNPJ (14 characters: 12 digits or capital letters and 2 digits) hidden,
    /// however it is written: bare, with its usual mask, with spaces, inside a longer name
    /// (`cobranca-20241201-24843803480.csv`), or percent-encoded (`248.438.034%2D80`), which is
    /// decoded first.
    ///
    /// How: the text is cut into tokens of digits and capital letters; tokens joined by single
    /// separators (`.`, `-`, `/`, space, `+`) form chains, and any run of consecutive tokens of a
    /// chain that adds up to a document's shape is masked, whatever the tokens around it. A trace
    /// or span id (32 or 16 lowercase hex digits, standing alone) is left whole: about one trace id
    /// in ten holds a run of exactly 11 decimal digits between its letters. So is a UUID (a batch's
    /// id): its groups' digits, joined by hyphens, can make a CPF's shape.
    public static func redactingDocuments(in text: String) -> String {
        let s = percentDecodedPrintable(text)
        guard s.utf8.count >= 11 else { return s }
        let chars = Array(s)
        func isToken(_ ch: Character) -> Bool { ch.isASCII && (ch.isNumber || ch.isUppercase) }
        func isSeparator(_ ch: Character) -> Bool { ch == "." || ch == "-" || ch == "/" || ch == " " || ch == "+" }
        func isAlphanumeric(_ ch: Character) -> Bool { ch.isASCII && (ch.isLetter || ch.isNumber) }
        func isLowerHex(_ ch: Character) -> Bool { ch.isASCII && (ch.isNumber || ("a"..."f").contains(ch)) }

        // Trace and span ids, and UUIDs (batch, job and draft ids), protected from the masking.
        var protected = [Bool](repeating: false, count: chars.count)
        func isUUID(at start: Int) -> Bool {
            // 8-4-4-4-12 hexadecimal digits of one case (RFC 9562 § 4), standing alone.
            guard start + 36 <= chars.count, start + 36 == chars.count || !isAlphanumeric(chars[start + 36]) else { return false }
            var lower = false, upper = false
            for k in 0..<36 {
                let ch = chars[start + k]
                if k == 8 || k == 13 || k == 18 || k == 23 {
                    guard ch == "-" else { return false }
                } else if ch.isASCII && ch.isNumber {
                    continue
                } else if ("a"..."f").contains(ch) {
                    lower = true
                } else if ("A"..."F").contains(ch) {
                    upper = true
                } else {
                    return false
                }
            }
            return !(lower && upper)
        }
        var i = 0
        while i < chars.count {
            let standsAlone = i == 0 || !isAlphanumeric(chars[i - 1])
            if standsAlone && isUUID(at: i) {
                for k in i..<(i + 36) { protected[k] = true }
                i += 36
            } else if standsAlone && isLowerHex(chars[i]) {
                var end = i
                while end < chars.count && isLowerHex(chars[end]) { end += 1 }
                if end - i == 16 || end - i == 32, end == chars.count || !isAlphanumeric(chars[end]),
                   chars[i..<end].contains(where: \.isLetter) {
                    for k in i..<end { protected[k] = true }
                }
                i = max(end, i + 1)
            } else {
                i += 1
            }
        }

        // Tokens: maximal runs of digits and capitals, not protected.
        var tokens: [Range<Int>] = []
        i = 0
        while i < chars.count {
            guard isToken(chars[i]) && !protected[i] else { i += 1; continue }
            var end = i
            while end < chars.count && isToken(chars[end]) && !protected[end] { end += 1 }
            tokens.append(i..<end)
            i = end
        }
        // Spans to mask: runs of consecutive tokens of one chain with a document's shape.
        var masks: [(range: Range<Int>, compact: [Character])] = []
        var t = 0
        while t < tokens.count {
            var matched: (Int, [Character])?
            var compact: [Character] = []
            var u = t
            while u < tokens.count {
                if u > t {
                    let gap = tokens[u - 1].upperBound..<tokens[u].lowerBound
                    guard gap.count == 1, isSeparator(chars[gap.lowerBound]) else { break }
                }
                compact += chars[tokens[u]]
                if compact.count > 14 { break }
                if isDocumentShaped(compact) { matched = (u, compact) }
                u += 1
            }
            if let (last, compact) = matched {
                masks.append((tokens[t].lowerBound..<tokens[last].upperBound, compact))
                t = last + 1
            } else {
                t += 1
            }
        }
        guard !masks.isEmpty else { return s }
        var out = ""
        var at = 0
        for m in masks {
            out += String(chars[at..<m.range.lowerBound])
            out += String(m.compact.prefix(2)) + String(repeating: "*", count: m.compact.count - 4) + String(m.compact.suffix(2))
            at = m.range.upperBound
        }
        return out + String(chars[at...])
    }

    /// 11 digits (a CPF), or 12 digits or capital letters and 2 digits (a CNPJ).
    static func isDocumentShaped(_ c: [Character]) -> Bool {
        if c.count == 11 { return c.allSatisfy(\.isNumber) }
        guard c.count == 14, c[12].isNumber, c[13].isNumber else { return false }
        return c.contains(where: \.isNumber)
    }

    /// `%2D` → `-` and the like, for printable ASCII only: a document percent-encoded in a URL is
    /// masked like any other, and nothing unprintable is decoded into a log line.
    static func percentDecodedPrintable(_ s: String) -> String {
        guard s.utf8.contains(UInt8(ascii: "%")) else { return s }
        let b = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 65...70: return c - 55
            case 97...102: return c - 87
            default: return nil
            }
        }
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), i + 2 < b.count, let h = hex(b[i + 1]), let l = hex(b[i + 2]), (0x20...0x7E).contains(h << 4 | l) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
