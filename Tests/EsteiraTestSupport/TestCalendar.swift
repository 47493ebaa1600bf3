import Foundation

/// Days as the tests write them, counted from the day the test runs in São Paulo (the time zone
/// Esteira judges dates in), so that a test means the same on any day of any year.
public enum TestCalendar {
    private static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "America/Sao_Paulo")!
        return calendar
    }

    /// Today moved by whole years, months and days, as `AAAA-MM-DD`.
    public static func day(years: Int = 0, months: Int = 0, days: Int = 0) -> String {
        let c = calendar
        let moved = c.date(byAdding: DateComponents(year: years, month: months, day: days), to: Date())!
        let d = c.dateComponents([.year, .month, .day], from: moved)
        return String(format: "%04d-%02d-%02d", d.year!, d.month!, d.day!)
    }

    /// The same day as `DD/MM/AAAA`.
    public static func brazilianDay(years: Int = 0, months: Int = 0, days: Int = 0) -> String {
        let iso = day(years: years, months: months, days: days).split(separator: "-")
        return "\(iso[2])/\(iso[1])/\(iso[0])"
    }

    /// This month moved by whole months, as `AAAA-MM`.
    public static func month(plus months: Int = 0) -> String {
        String(day(months: months).prefix(7))
    }

    /// This year moved by `years`, as text (`2025`).
    public static func year(_ years: Int) -> String { String(day(years: years).prefix(4)) }

    /// How many of `dueDates` (`AAAA-MM-DD`) the risk rules flag as time-barred today (K007: due
    /// more than five years before the day received, in São Paulo): a test whose file has fixed
    /// dates counts its flagged debts from the day it runs.
    public static func timeBarred(_ dueDates: [String]) -> Int {
        let limit = day(years: -5)
        return dueDates.filter { $0 < limit }.count
    }
}
