import EsteiraCore

/// Numbers and dates as an XLSX sheet stores them, turned into text without floating point.
enum ExcelValues {
    /// The number in a cell's `<v>` (`1234.5599999999999`, `1.2345678909E10`, `-0.5`) as a plain
    /// decimal with at most 15 significant digits, the precision Excel shows and keeps: the binary
    /// noise of `1234.5599999999999` rounds away to `1234.56`. Nil when `v` is not a number.
    static func plainDecimal(_ v: String) -> String? {
        var s = Substring(v)
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "E" || $0 == "e" }) {
            guard let x = Int(s[s.index(after: e)...]), abs(x) < 400 else { return nil }
            exponent = x
            s = s[..<e]
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, !s.isEmpty else { return nil }
        let intPart = parts[0], fracPart = parts.count == 2 ? parts[1] : ""
        guard (intPart + fracPart).allSatisfy({ $0.isASCII && $0.isNumber }), !(intPart + fracPart).isEmpty else { return nil }
        // All digits, and where the decimal point falls among them.
        var digits = Array((intPart + fracPart).utf8).map { Int($0 - 48) }
        var point = intPart.count + exponent
        // Drop leading zeros (moving the point), then round to 15 significant digits.
        while digits.count > 1 && digits[0] == 0 { digits.removeFirst(); point -= 1 }
        if digits.count > 15 {
            let roundUp = digits[15] >= 5
            digits.removeLast(digits.count - 15)
            if roundUp {
                var k = 14
                while k >= 0 {
                    if digits[k] == 9 { digits[k] = 0; k -= 1 } else { digits[k] += 1; break }
                }
                if k < 0 { digits.insert(1, at: 0); point += 1 }
            }
        }
        // Lay the digits out around the point.
        var integer: [Int], fraction: [Int]
        if point <= 0 {
            integer = [0]
            fraction = Array(repeating: 0, count: -point) + digits
        } else if point >= digits.count {
            integer = digits + Array(repeating: 0, count: point - digits.count)
            fraction = []
        } else {
            integer = Array(digits[..<point])
            fraction = Array(digits[point...])
        }
        while fraction.last == 0 { fraction.removeLast() }
        while integer.count > 1 && integer[0] == 0 { integer.removeFirst() }
        let isZero = integer == [0] && fraction.isEmpty
        var out = (negative && !isZero) ? "-" : ""
        out += integer.map(String.init).joined()
        if !fraction.isEmpty { out += "." + fraction.map(String.init).joined() }
        return out
    }

    /// The day of a date serial (the whole part; a time of day is dropped). In the 1900 system
    /// serial 1 is 1900-01-01 and serial 60 is the 29 February 1900 that Lotus 1-2-3 invented and
    /// Excel keeps: serials from 61 on count from 1899-12-30. In the 1904 system, 0 is 1904-01-01.
    static func day(serial v: String, date1904: Bool) -> Day? {
        guard let plain = plainDecimal(v), !plain.hasPrefix("-") else { return nil }
        guard let whole = Int(plain.split(separator: ".")[0]), whole < 2_958_466 else { return nil } // 9999-12-31
        if date1904 { return Day(year: 1904, month: 1, day: 1)!.adding(days: whole) }
        if whole == 0 || whole == 60 { return nil } // 1900-01-00 and the day that never was
        let base = whole < 60 ? Day(year: 1899, month: 12, day: 31)! : Day(year: 1899, month: 12, day: 30)!
        return base.adding(days: whole)
    }

    /// Whether a number format shows a date: one of Excel's built-in date formats, or a custom
    /// code with day, month or year letters outside quotes, brackets and escapes (`dd/mm/yyyy`,
    /// `[$-416]d-mmm-yy`), that is not only a time (`hh:mm`).
    static func isDateFormat(id: Int, code: String?) -> Bool {
        if (14...22).contains(id) || (27...36).contains(id) || (45...47).contains(id) || (50...58).contains(id) {
            return ![18, 19, 20, 21, 45, 46, 47].contains(id) // the built-in times of day
        }
        guard let code else { return false }
        // The letters that are format codes: outside quotes, brackets and backslash escapes.
        var letters = ""
        var inQuote = false, inBracket = false, escaped = false
        for ch in code.lowercased() {
            if escaped { escaped = false; continue }
            if ch == "\\" { escaped = true; continue }
            if ch == "\"" { inQuote.toggle(); continue }
            if inQuote { continue }
            if ch == "[" { inBracket = true; continue }
            if ch == "]" { inBracket = false; continue }
            if !inBracket { letters.append(ch) }
        }
        // `m` alone may be minutes (`hh:mm`); a day or a year makes it a date.
        return letters.contains("d") || letters.contains("y") || (letters.contains("m") && !letters.contains("h"))
    }
}
