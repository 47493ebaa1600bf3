/// Money is an exact integer number of cents. There is no floating point anywhere on its path.
public enum Money {
    /// The largest amount accepted: R$ 9.999.999.999.999,99 (15 digits of cents), far below Int64's limit.
    public static let maxCents: Int64 = 999_999_999_999_999

    public enum ParseError: Error, Equatable, Sendable {
        case empty
        case malformed
        case tooManyDecimals
        case tooLarge
        /// Under `auto`, a lone separator followed by exactly three digits after a group that
        /// could be thousands (`1.234`, `12,345`): R$ 1.234,00 to one reader, a typo of three
        /// decimals to another. Refused rather than guessed; a client's format settles it.
        case ambiguous
    }

    /// Parses an amount as Brazilian clients write it, in the notation `format` names. This is
    /// the one parser of amounts: files, JSON bodies (strings, and numbers with `.dot`), risk,
    /// payments and the ledger all read through it.
    ///
    /// Accepted under `auto`: `1234.56`, `1234,56`, `1.234,56`, `1,234.56`, `1234`, `1.234.567`,
    /// an optional `R$` prefix, an optional sign, surrounding spaces.
    ///
    /// Rules:
    /// - The decimal separator appears at most once and is followed by one or two digits (three
    ///   or more: `tooManyDecimals`).
    /// - The thousands separator appears only before it, after a first group of one to three
    ///   digits that does not start with `0` (`0.500` is never five hundred), then groups of
    ///   exactly three.
    /// - `auto` tells the roles apart by position: with both characters, the last one is the
    ///   decimal separator; one character several times groups thousands; one character once is
    ///   the decimal separator, except before exactly three digits after a group that could be
    ///   thousands, which is `ambiguous`.
    /// - `comma` and `dot` fix the roles; `impliedCents` is digits only, the last two the cents.
    public static func parseCents(_ text: Substring, format: DecimalFormat = .auto) -> Result<Int64, ParseError> {
        // Read in place (no copy of the text, no list of separators): once per row of every file.
        text.utf8.trimmingSpaces().withBytes { parse(trimmed: $0, format: format) }
    }

    private static let dot = UInt8(ascii: "."), comma = UInt8(ascii: ",")

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    private static func parse(trimmed all: UnsafeBufferPointer<UInt8>, format: DecimalFormat) -> Result<Int64, ParseError> {
        if all.isEmpty { return .failure(.empty) }
        var start = 0
        var negative = false
        if all[start] == UInt8(ascii: "-") || all[start] == UInt8(ascii: "+") {
            negative = all[start] == UInt8(ascii: "-")
            start += 1
        }
        if format != .impliedCents, all.count - start >= 2, all[start] == UInt8(ascii: "R"), all[start + 1] == UInt8(ascii: "$") {
            start += 2
            while start < all.count, all[start] == 32 { start += 1 }
            if !negative, start < all.count, all[start] == UInt8(ascii: "-") { negative = true; start += 1 }
        }
        guard start < all.count else { return .failure(.malformed) }
        let b = UnsafeBufferPointer(rebasing: all[start...])

        var dots = 0, commas = 0, lastSeparator = -1
        for i in 0..<b.count {
            let c = b[i]
            if c == dot { dots += 1; lastSeparator = i }
            else if c == comma { commas += 1; lastSeparator = i }
            else if !isDigit(c) { return .failure(.malformed) }
        }
        if format == .impliedCents {
            guard lastSeparator < 0 else { return .failure(.malformed) }
            return value(b, integer: 0..<b.count, fraction: nil, centsPerUnit: 1, negative: negative)
        }

        // Which character is the decimal separator, and which groups thousands.
        let decimalChar: UInt8, thousandsChar: UInt8
        switch format {
        case .comma: (decimalChar, thousandsChar) = (comma, dot)
        case .dot, .impliedCents: (decimalChar, thousandsChar) = (dot, comma)
        case .auto:
            if lastSeparator < 0 {
                (decimalChar, thousandsChar) = (comma, dot) // no separator: the roles do not matter
            } else if dots > 0 && commas > 0 {
                decimalChar = b[lastSeparator]
                thousandsChar = decimalChar == dot ? comma : dot
            } else if dots + commas > 1 {
                thousandsChar = b[lastSeparator] // one character several times can only group
                decimalChar = thousandsChar == dot ? comma : dot
            } else {
                if b.count - lastSeparator - 1 == 3 && isFirstThousandsGroup(b, 0..<lastSeparator) { return .failure(.ambiguous) }
                decimalChar = b[lastSeparator]
                thousandsChar = decimalChar == dot ? comma : dot
            }
        }

        // The decimal separator: once at most, with only digits after it.
        var decimalAt: Int? = nil
        for i in 0..<b.count where b[i] == decimalChar {
            guard decimalAt == nil else { return .failure(.malformed) }
            decimalAt = i
        }
        let integerEnd = decimalAt ?? b.count
        var fraction: Range<Int>? = nil
        if let d = decimalAt {
            let f = (d + 1)..<b.count
            guard !f.isEmpty, !(f.contains { b[$0] == thousandsChar }) else { return .failure(.malformed) }
            guard f.count <= 2 else { return .failure(.tooManyDecimals) }
            fraction = f
        }

        // The thousands groups of the integer part.
        var groupStart = 0, groups = 0
        for i in 0..<integerEnd where b[i] == thousandsChar {
            let group = groupStart..<i
            if groups == 0 {
                guard isFirstThousandsGroup(b, group) else { return .failure(.malformed) }
            } else {
                guard group.count == 3 else { return .failure(.malformed) }
            }
            groups += 1
            groupStart = i + 1
        }
        if groups > 0 && integerEnd - groupStart != 3 { return .failure(.malformed) }
        guard integerEnd > 0 || fraction != nil else { return .failure(.malformed) }
        return value(b, integer: 0..<integerEnd, fraction: fraction, centsPerUnit: 100, negative: negative)
    }

    /// One to three digits, the first not `0`: a group that thousands separators may follow.
    private static func isFirstThousandsGroup(_ b: UnsafeBufferPointer<UInt8>, _ group: Range<Int>) -> Bool {
        (1...3).contains(group.count) && b[group.lowerBound] != 48 && group.allSatisfy { isDigit(b[$0]) }
    }

    /// The amount in cents: the integer part's digits (separators skipped) in units of
    /// `centsPerUnit` (100 for reais, 1 for implied cents), plus the fraction's cents.
    private static func value(_ b: UnsafeBufferPointer<UInt8>, integer: Range<Int>, fraction: Range<Int>?, centsPerUnit: Int64,
                              negative: Bool) -> Result<Int64, ParseError> {
        let maxDigits = centsPerUnit == 1 ? 15 : 13
        var whole: Int64 = 0
        var significant = 0
        for i in integer where isDigit(b[i]) {
            if significant > 0 || b[i] != 48 { significant += 1 }
            if significant > maxDigits { return .failure(.tooLarge) }
            whole = whole * 10 + Int64(b[i] - 48)
        }
        var cents: Int64 = 0
        if let fraction {
            for i in fraction { cents = cents * 10 + Int64(b[i] - 48) }
            if fraction.count == 1 { cents *= 10 }
        }
        let total = whole * centsPerUnit + cents
        guard total <= maxCents else { return .failure(.tooLarge) }
        return .success(negative ? -total : total)
    }

    public static func parseCents(_ text: String) -> Result<Int64, ParseError> { parseCents(text[...]) }

    /// What a client reads when `text` is refused: the reason, in Portuguese, quoting the text
    /// as written. `example` is how the notation in force writes an amount.
    public static func refusal(_ error: ParseError, text: String, example: String = DecimalFormat.auto.example) -> String {
        let quoted = text.count > 40 ? String(text.prefix(40)) + "…" : text
        switch error {
        case .empty: return "O valor está vazio."
        case .malformed: return "O valor \(quoted) não é um número (use \(example))."
        case .tooManyDecimals: return "O valor \(quoted) tem mais de duas casas decimais."
        case .tooLarge: return "O valor \(quoted) excede o máximo aceito (\(brazilian(cents: maxCents)))."
        case .ambiguous:
            // Both readings: the separator grouping thousands, or a decimal one with three places.
            let separator = text.contains(",") ? "a vírgula" : "o ponto"
            let digits = text.utf8.filter(isDigit)
            let reais = Int64(String(decoding: digits.prefix(13), as: UTF8.self)) ?? 0
            let thousands = String(brazilian(cents: reais * 100).dropFirst(3))
            let plain = decimalString(cents: reais * 100)
            return "O valor \(quoted) é ambíguo: pode ser \(thousands) (\(separator) separa milhares) ou ter três casas decimais "
                + "(\(separator) separa os centavos). Escreva \(thousands) ou \(plain), ou defina o formato decimal do layout."
        }
    }

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
        let fraction = magnitude % 100
        return "\(cents < 0 ? "-" : "")R$ \(DigitGroups.grouped(magnitude / 100, separator: ".")),\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
