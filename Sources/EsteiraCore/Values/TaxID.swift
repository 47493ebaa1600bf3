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
        var out: [UInt8] = []
        out.reserveCapacity(14)
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "/"), 32, 9: continue
            case UInt8(ascii: "a")...UInt8(ascii: "z"): out.append(c - 32)
            default: out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Validates a document already normalized by `normalize`.
    public static func validate(normalized: String) -> Result<TaxID, Problem> {
        let b = Array(normalized.utf8)
        if b.count == 11 {
            guard b.allSatisfy(isDigit) else { return .failure(.malformed) }
            guard !b.allSatisfy({ $0 == b[0] }) else { return .failure(.checkDigits) }
            let v = b.map { Int($0) - 48 }
            let dv1 = cpfDigit(v[0..<9], firstWeight: 10)
            let dv2 = cpfDigit(v[0..<10], firstWeight: 11)
            guard dv1 == v[9], dv2 == v[10] else { return .failure(.checkDigits) }
            return .success(TaxID(value: normalized, kind: .cpf))
        }
        if b.count == 14 {
            guard b[0..<12].allSatisfy({ isDigit($0) || ($0 >= 65 && $0 <= 90) }),
                  b[12..<14].allSatisfy(isDigit) else { return .failure(.malformed) }
            guard !b.allSatisfy({ $0 == b[0] }) else { return .failure(.checkDigits) }
            // IN RFB 2.229/2024: each character's value is its ASCII code minus 48.
            let v = b.map { Int($0) - 48 }
            let dv1 = cnpjDigit(v[0..<12], weights: [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
            let dv2 = cnpjDigit(v[0..<13], weights: [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
            guard dv1 == v[12], dv2 == v[13] else { return .failure(.checkDigits) }
            return .success(TaxID(value: normalized, kind: .cnpj))
        }
        return .failure(.malformed)
    }

    public static func parse(_ text: String) -> Result<TaxID, Problem> {
        validate(normalized: normalize(text[...]))
    }

    /// Internal: only `validate` and the staging codec (which reads what `validate` produced) make one.
    init(value: String, kind: Kind) {
        self.value = value
        self.kind = kind
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    private static func cpfDigit(_ digits: ArraySlice<Int>, firstWeight: Int) -> Int {
        var sum = 0
        var weight = firstWeight
        for d in digits { sum += d * weight; weight -= 1 }
        let r = sum % 11
        return r < 2 ? 0 : 11 - r
    }

    private static func cnpjDigit(_ values: ArraySlice<Int>, weights: [Int]) -> Int {
        var sum = 0
        for (v, w) in zip(values, weights) { sum += v * w }
        let r = sum % 11
        return r < 2 ? 0 : 11 - r
    }

    /// Masked for logs and screens: the middle is hidden (`248.***.***-80`, `12.***.***/****-35`).
    public var masked: String { TaxID.mask(value) }

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
