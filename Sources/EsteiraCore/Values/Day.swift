import Foundation

/// A calendar day with no time zone: a due date, the day a batch was received.
///
/// Stored as days since 1970-01-01 so that comparison and arithmetic are integer operations.
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Returns nil unless the three numbers name a real day of the proleptic Gregorian calendar.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
              day <= Day.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public init(daysSinceEpoch: Int) {
        // Howard Hinnant's civil_from_days.
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The same day `months` months later (earlier when negative), on the month's last day when
    /// it has no such day: 2026-03-31 minus one month is 2026-02-28.
    public func adding(months: Int) -> Day {
        let index = year * 12 + (month - 1) + months
        let y = index >= 0 ? index / 12 : (index - 11) / 12
        let m = index - y * 12 + 1
        return Day(year: y, month: m, day: Swift.min(day, Day.daysIn(month: m, year: y)))!
    }

    public static func isLeap(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func < (lhs: Day, rhs: Day) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public func adding(days: Int) -> Day { Day(daysSinceEpoch: daysSinceEpoch + days) }

    /// As a Brazilian writes it, `DD/MM/AAAA`.
    public var brazilian: String {
        var s = ""
        s.reserveCapacity(10)
        Day.pad(day, 2, into: &s); s.append("/")
        Day.pad(month, 2, into: &s); s.append("/")
        Day.pad(year, 4, into: &s)
        return s
    }

    /// ISO 8601, `AAAA-MM-DD`.
    public var iso: String {
        var s = ""
        s.reserveCapacity(10)
        Day.pad(year, 4, into: &s); s.append("-")
        Day.pad(month, 2, into: &s); s.append("-")
        Day.pad(day, 2, into: &s)
        return s
    }

    public var description: String { iso }

    /// Appends `AAAA-MM-DD` as UTF-8 bytes, with no String in between (bulk inserts bind days this way).
    public func appendISO(to out: inout [UInt8]) {
        withISO { out.append(contentsOf: $0) }
    }

    /// Calls `body` with `AAAA-MM-DD` as UTF-8 bytes, on the stack.
    public func withISO<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10) { out in
            func digits(_ value: Int, _ width: Int, at start: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                var v = value
                for i in start..<(start + width) {
                    out[i] = UInt8(48 + (v / divisor) % 10)
                    v %= divisor
                    divisor /= 10
                }
            }
            digits(year, 4, at: 0); out[4] = UInt8(ascii: "-")
            digits(month, 2, at: 5); out[7] = UInt8(ascii: "-")
            digits(day, 2, at: 8)
            return try body(UnsafeBufferPointer(out))
        }
    }

    static func pad(_ value: Int, _ width: Int, into s: inout String) {
        let digits = String(value)
        if digits.count < width { s.append(String(repeating: "0", count: width - digits.count)) }
        s.append(digits)
    }

    /// Parses `AAAA-MM-DD` or `DD/MM/AAAA`. Surrounding spaces are ignored.
    /// Returns nil for any other shape or for a day that does not exist (31/02/2024).
    public static func parse(_ text: Substring) -> Day? {
        let t = text.utf8.trimmingSpaces()
        guard t.count == 10 else { return nil }
        // Read in place (no copy): once per row of every file.
        return t.withBytes { b in
            if b[4] == UInt8(ascii: "-") && b[7] == UInt8(ascii: "-") { return Day(digitsOf: b, day: 8..<10, month: 5..<7, year: 0..<4) }
            if b[2] == UInt8(ascii: "/") && b[5] == UInt8(ascii: "/") { return Day(digitsOf: b, day: 0..<2, month: 3..<5, year: 6..<10) }
            return nil
        }
    }

    /// The day whose day, month and year are the decimal digits at those places of `b`; nil when
    /// one is not all digits or the day does not exist.
    public init?<B: RandomAccessCollection>(digitsOf b: B, day: Range<Int>, month: Range<Int>, year: Range<Int>)
    where B.Element == UInt8, B.Index == Int {
        func number(_ range: Range<Int>) -> Int? {
            var v = 0
            for i in range {
                let c = b[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let d = number(day), let m = number(month), let y = number(year) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public static func parse(_ text: String) -> Day? { parse(text[...]) }

    /// Only `AAAA-MM-DD`, nothing around it: for APIs, where a date has one spelling.
    public static func parseISO(_ text: String) -> Day? {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        return Day(digitsOf: b, day: 8..<10, month: 5..<7, year: 0..<4)
    }

    /// The day a moment falls on in a time zone (Brazil's clients live in America/Sao_Paulo).
    public init(_ date: Date, in timeZone: TimeZone) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) + timeZone.secondsFromGMT(for: date)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        self.init(daysSinceEpoch: days)
    }

    public static let saoPaulo = TimeZone(identifier: "America/Sao_Paulo") ?? TimeZone(secondsFromGMT: -3 * 3600)!

    /// The moment the day begins in a time zone.
    public func start(in timeZone: TimeZone) -> Date {
        let utcMidnight = Date(timeIntervalSince1970: TimeInterval(daysSinceEpoch) * 86_400)
        return utcMidnight.addingTimeInterval(-TimeInterval(timeZone.secondsFromGMT(for: utcMidnight)))
    }
}

extension Collection where Element == UInt8, SubSequence: BidirectionalCollection {
    /// The bytes without leading and trailing ASCII spaces and tabs.
    func trimmingSpaces() -> SubSequence {
        var s = self[...]
        while let f = s.first, f == 32 || f == 9 { s = s.dropFirst() }
        while let l = s.last, l == 32 || l == 9 { s = s.dropLast() }
        return s
    }

    /// `body` on the bytes in place when they are contiguous (a native String's), on a copy otherwise.
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withContiguousStorageIfAvailable(body) ?? Array(self).withUnsafeBufferPointer(body)
    }
}
