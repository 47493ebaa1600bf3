/// How a file writes its dates. `auto` accepts the two shapes of the standard format.
public enum DateFormat: String, Codable, CaseIterable, Sendable {
    /// `AAAA-MM-DD` or `DD/MM/AAAA`.
    case auto
    /// `DD/MM/AAAA`.
    case dayMonthYear = "dd/mm/yyyy"
    /// `AAAA-MM-DD`.
    case yearMonthDay = "yyyy-mm-dd"
    /// `DDMMAAAA`, as positional (CNAB-shaped) files write it.
    case dayMonthYearCompact = "ddmmyyyy"
    /// `AAAAMMDD`.
    case yearMonthDayCompact = "yyyymmdd"

    /// How a client reads the format.
    public var example: String {
        switch self {
        case .auto: return "DD/MM/AAAA ou AAAA-MM-DD"
        case .dayMonthYear: return "DD/MM/AAAA"
        case .yearMonthDay: return "AAAA-MM-DD"
        case .dayMonthYearCompact: return "DDMMAAAA"
        case .yearMonthDayCompact: return "AAAAMMDD"
        }
    }

    /// The day written in `text` (spaces around it ignored), or nil for another shape or a day
    /// that does not exist.
    public func parse(_ text: Substring) -> Day? {
        // `auto` is every row's path under the standard format: no copy before Day.parse's own.
        if self == .auto { return Day.parse(text) }
        let t = Array(text.utf8.trimmingSpaces())
        switch self {
        case .auto:
            return nil // handled above
        case .dayMonthYear:
            guard t.count == 10, t[2] == UInt8(ascii: "/"), t[5] == UInt8(ascii: "/") else { return nil }
            return Day(digitsOf: t, day: 0..<2, month: 3..<5, year: 6..<10)
        case .yearMonthDay:
            guard t.count == 10, t[4] == UInt8(ascii: "-"), t[7] == UInt8(ascii: "-") else { return nil }
            return Day(digitsOf: t, day: 8..<10, month: 5..<7, year: 0..<4)
        case .dayMonthYearCompact:
            guard t.count == 8 else { return nil }
            return Day(digitsOf: t, day: 0..<2, month: 2..<4, year: 4..<8)
        case .yearMonthDayCompact:
            guard t.count == 8 else { return nil }
            return Day(digitsOf: t, day: 6..<8, month: 4..<6, year: 0..<4)
        }
    }
}

/// How a file writes its amounts. `auto` tells the separators apart by position and refuses
/// what position cannot settle (see `Money.parseCents`); the others say which separator is the
/// decimal one, which settles `1.234` (one thousand two hundred and thirty-four reais with
/// `comma`, three decimals with `dot`).
public enum DecimalFormat: String, Codable, CaseIterable, Sendable {
    case auto
    /// `1.234,56`: comma for decimals, dot for thousands.
    case comma
    /// `1,234.56`: dot for decimals, comma for thousands.
    case dot
    /// `123456` is R$ 1.234,56: digits only, the last two are cents (positional files).
    case impliedCents = "implied_cents"

    public var example: String {
        switch self {
        case .auto: return "1234,56 ou 1234.56"
        case .comma: return "1.234,56"
        case .dot: return "1,234.56"
        case .impliedCents: return "123456 (centavos, sem separador)"
        }
    }
}
