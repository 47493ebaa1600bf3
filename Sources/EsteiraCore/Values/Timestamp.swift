import Foundation

/// Timestamps are kept in UTC with microsecond precision. On SQLite they are stored as
/// fixed-width ISO 8601 text, so that text order is time order.
public enum Timestamp {
    /// The moment in whole microseconds since 1970-01-01, rounded down: every way a moment is
    /// written (text on SQLite and in a bulk insert, a bound value on PostgreSQL) counts from this,
    /// so that one moment is stored the same whichever way wrote it.
    public static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
    }

    /// `2026-11-22T13:04:05.123456Z`
    public static func iso(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        appendISO(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `iso` written as UTF-8 bytes at the end of `out`, with no String made: an export writes a
    /// million of them.
    public static func appendISO(_ date: Date, to out: inout [UInt8]) {
        let micros = microseconds(date)
        var seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = Int(micros - seconds * 1_000_000)
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        seconds -= Int64(days) * 86_400
        Day(daysSinceEpoch: days).appendISO(to: &out)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            for _ in 0..<width {
                out.append(UInt8(48 + value / divisor % 10))
                divisor /= 10
            }
        }
        out.append(UInt8(ascii: "T"))
        digits(Int(seconds / 3600), 2); out.append(UInt8(ascii: ":"))
        digits(Int(seconds % 3600 / 60), 2); out.append(UInt8(ascii: ":"))
        digits(Int(seconds % 60), 2); out.append(UInt8(ascii: "."))
        digits(fraction, 6); out.append(UInt8(ascii: "Z"))
    }

    /// The same moment in whole seconds, for JSON: `2026-11-22T13:04:05Z`.
    public static func isoSeconds(_ date: Date) -> String {
        let full = iso(date)
        return String(full.prefix(19)) + "Z"
    }

    /// Parses what `iso` writes (and the same without fraction, or with a `+00`/space form Postgres may print).
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 19 else { return nil }
        guard let day = Day.parse(String(decoding: b[0..<10], as: UTF8.self)) else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { let c = b[i]; guard c >= 48 && c <= 57 else { return nil }; v = v * 10 + Int(c - 48) }
            return v
        }
        guard let h = num(11..<13), let m = num(14..<16), let s = num(17..<19) else { return nil }
        var micros = 0
        if b.count > 20 && b[19] == UInt8(ascii: ".") {
            var i = 20, scale = 100_000
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if scale > 0 { micros += Int(b[i] - 48) * scale; scale /= 10 }
                i += 1
            }
        }
        let seconds = Int64(day.daysSinceEpoch) * 86_400 + Int64(h * 3600 + m * 60 + s)
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }
}
