/// Money is an exact integer number of cents. There is no floating point anywhere on its path.
public enum Money {
    /// The largest amount accepted: R$ 9.999.999.999.999,99 (15 digits of cents), far below Int64's limit.
    public static let maxCents: Int64 = 999_999_999_999_999

    public enum ParseError: Error, Equatable, Sendable {
        case empty
        case malformed
        case tooManyDecimals
        case tooLarge
    }

    /// Parses an amount as Brazilian clients write it.
    ///
    /// Accepted: `1234.56`, `1234,56`, `1.234,56`, `1,234.56`, `1234`, `1.234` (thousands),
    /// an optional `R$` prefix, an optional sign, surrounding spaces.
    ///
    /// Rules, in order:
    /// - With both `.` and `,`, the one that comes last is the decimal separator; the other
    ///   groups thousands and must group exactly three digits.
    /// - With one kind only: when exactly one separator is followed by one or two digits, it is
    ///   the decimal separator. When every separator is followed by exactly three digits, they
    ///   group thousands. Anything else is malformed.
    /// - At most two decimal places.
    public static func parseCents(_ text: Substring) -> Result<Int64, ParseError> {
        // Read in place (no copy of the text, no list of separators): once per row of every file.
        text.utf8.trimmingSpaces().withBytes { parseCents(trimmed: $0) }
    }

    private static func parseCents(trimmed all: UnsafeBufferPointer<UInt8>) -> Result<Int64, ParseError> {
        if all.isEmpty { return .failure(.empty) }
        var start = 0
        var negative = false
        if all[start] == UInt8(ascii: "-") || all[start] == UInt8(ascii: "+") {
            negative = all[start] == UInt8(ascii: "-")
            start += 1
        }
        if all.count - start >= 2, all[start] == UInt8(ascii: "R"), all[start + 1] == UInt8(ascii: "$") {
            start += 2
            while start < all.count, all[start] == 32 { start += 1 }
        }
        if !negative, start < all.count, all[start] == UInt8(ascii: "-") { negative = true; start += 1 }
        guard start < all.count else { return .failure(.malformed) }
        let b = UnsafeBufferPointer(rebasing: all[start...])

        let dot = UInt8(ascii: "."), comma = UInt8(ascii: ",")
        var dots = 0, commas = 0, lastSeparator = -1
        for i in 0..<b.count {
            let c = b[i]
            if c == dot { dots += 1; lastSeparator = i }
            else if c == comma { commas += 1; lastSeparator = i }
            else if c < 48 || c > 57 { return .failure(.malformed) }
        }

        var decimalAt: Int? = nil
        var thousandsChar: UInt8? = nil
        if lastSeparator >= 0 {
            let last = lastSeparator
            let lastChar = b[last]
            let hasBoth = dots > 0 && commas > 0
            let digitsAfterLast = b.count - last - 1
            if hasBoth {
                decimalAt = last
                thousandsChar = lastChar == dot ? comma : dot
                // The decimal separator's character once only: the last separator.
                if (lastChar == dot ? dots : commas) > 1 { return .failure(.malformed) }
            } else if dots + commas == 1 && (digitsAfterLast == 1 || digitsAfterLast == 2) {
                decimalAt = last
            } else if digitsAfterLast == 3 {
                thousandsChar = lastChar
            } else if digitsAfterLast > 3 && dots + commas == 1 {
                return .failure(.tooManyDecimals)
            } else {
                return .failure(.malformed)
            }
        }

        let integerEnd = decimalAt ?? b.count
        // Check thousands grouping in the integer part: first group 1-3 digits, then groups of 3.
        if let t = thousandsChar {
            var groupLength = 0
            var first = true
            for i in 0..<integerEnd {
                if b[i] == t {
                    if first { guard (1...3).contains(groupLength) else { return .failure(.malformed) } }
                    else { guard groupLength == 3 else { return .failure(.malformed) } }
                    first = false
                    groupLength = 0
                } else if b[i] == dot || b[i] == comma {
                    return .failure(.malformed)
                } else {
                    groupLength += 1
                }
            }
            guard !first, groupLength == 3 else { return .failure(.malformed) }
        }

        var reais: Int64 = 0
        var digits = 0
        for i in 0..<integerEnd where b[i] >= 48 && b[i] <= 57 {
            reais = reais * 10 + Int64(b[i] - 48)
            digits += 1
            if digits > 13 { return .failure(.tooLarge) }
        }
        var cents: Int64 = 0
        if let d = decimalAt {
            let fraction = b[(d + 1)...]
            guard !fraction.isEmpty else { return .failure(.malformed) }
            guard fraction.count <= 2 else { return .failure(.tooManyDecimals) }
            for c in fraction { cents = cents * 10 + Int64(c - 48) }
            if fraction.count == 1 { cents *= 10 }
            if digits == 0 { digits = 1 } // ",50" is fifty cents
        }
        guard digits > 0 else { return .failure(.malformed) }
        let total = reais * 100 + cents
        guard total <= maxCents else { return .failure(.tooLarge) }
        return .success(negative ? -total : total)
    }

    public static func parseCents(_ text: String) -> Result<Int64, ParseError> { parseCents(text[...]) }

    /// `123456` → `"1234.56"`; `-5` → `"-0.05"`. The API's decimal string.
    public static func decimalString(cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// The amount as a Brazilian reads it in a message: `R$ 1.234,56`, `-R$ 0,05`.
    public static func brazilian(cents: Int64) -> String {
        let magnitude = cents.magnitude
        var reais = String(magnitude / 100)
        var grouped = ""
        while reais.count > 3 {
            grouped = "." + reais.suffix(3) + grouped
            reais.removeLast(3)
        }
        let fraction = magnitude % 100
        return "\(cents < 0 ? "-" : "")R$ \(reais)\(grouped),\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
