import EsteiraCore
import Foundation
import Testing

@Suite("Days and timestamps")
struct DayTests {
    @Test("both accepted shapes", arguments: [
        ("2024-02-29", 2024, 2, 29), ("29/02/2024", 2024, 2, 29), (" 01/12/1999 ", 1999, 12, 1), ("2000-02-29", 2000, 2, 29),
    ])
    func parses(text: String, y: Int, m: Int, d: Int) {
        #expect(Day.parse(text) == Day(year: y, month: m, day: d))
    }

    @Test("days that do not exist and other shapes", arguments: [
        "2023-02-29", "1900-02-29", "31/04/2024", "2024-13-01", "00/01/2024", "2024-1-01", "1/1/2024", "2024/01/01", "01-01-2024", "",
        "20240101",
    ])
    func refuses(text: String) {
        #expect(Day.parse(text) == nil)
    }

    @Test("ISO text, as a String and as bytes", arguments: [
        (2024, 2, 29, "2024-02-29"), (999, 1, 9, "0999-01-09"), (1970, 12, 31, "1970-12-31"),
    ])
    func iso(y: Int, m: Int, d: Int, text: String) {
        let day = Day(year: y, month: m, day: d)!
        #expect(day.iso == text)
        var bytes: [UInt8] = [0x41]
        day.appendISO(to: &bytes)
        #expect(bytes == [0x41] + Array(text.utf8))
    }

    @Test("days since 1970")
    func epoch() {
        // 30 years of 365 days plus the leap days of 1972..1996 (7) = 10,957.
        #expect(Day(year: 2000, month: 1, day: 1)!.daysSinceEpoch == 10_957)
        #expect(Day(year: 1970, month: 1, day: 1)!.daysSinceEpoch == 0)
        #expect(Day(daysSinceEpoch: 10_957) == Day(year: 2000, month: 1, day: 1))
        // 1969-12-31 is day -1.
        #expect(Day(daysSinceEpoch: -1) == Day(year: 1969, month: 12, day: 31))
        #expect(Day(year: 2024, month: 3, day: 1)!.adding(days: -1) == Day(year: 2024, month: 2, day: 29))
    }

    @Test("the day in São Paulo (UTC-3) trails UTC in the small hours")
    func saoPaulo() {
        // 1_795_312_800 s = 2026-11-22T02:00:00Z (20,779 days × 86,400 + 7,200); in São Paulo it is still the 21st.
        let moment = Date(timeIntervalSince1970: 1_795_312_800)
        #expect(Day(moment, in: Day.saoPaulo) == Day(year: 2026, month: 11, day: 21))
        #expect(Day(moment, in: TimeZone(identifier: "UTC")!) == Day(year: 2026, month: 11, day: 22))
    }

    @Test("timestamps are fixed-width ISO 8601 in UTC")
    func timestamps() {
        // `date -u -d @1700000000` prints Tue Nov 14 22:13:20 UTC 2023.
        let d = Date(timeIntervalSince1970: 1_700_000_000.25)
        #expect(Timestamp.iso(d) == "2023-11-14T22:13:20.250000Z")
        #expect(Timestamp.isoSeconds(d) == "2023-11-14T22:13:20Z")
        #expect(Timestamp.parse("2023-11-14T22:13:20.250000Z") == d)
    }
}
