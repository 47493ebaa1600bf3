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
}
