import EsteiraCore
import Testing

@Suite("Amounts in cents")
struct MoneyTests {
    @Test("the ways Brazilian files write money", arguments: [
        ("1234.56", Int64(123_456)),
        ("1234,56", 123_456),
        ("1.234,56", 123_456),
        ("1,234.56", 123_456),
        ("1234", 123_400),
        ("1.234", 123_400),          // a lone dot before three digits groups thousands
        ("1.234.567,8", 123_456_780), // one decimal digit is tenths
        ("0,01", 1),
        (",5", 50),
        ("R$ 1.234,56", 123_456),
        ("  42,00 ", 4_200),
        ("-10,00", -1_000),
        ("0", 0),
        // 0.1 + 0.2 in floating point is 0.30000000000000004; in cents it must be exact.
        ("0.30", 30),
        ("9999999999999,99", 999_999_999_999_999),
    ])
    func parses(text: String, cents: Int64) {
        #expect(Money.parseCents(text) == .success(cents))
    }

    @Test("what is not money", arguments: [
        ("", Money.ParseError.empty),
        ("abc", .malformed),
        ("12a", .malformed),
        ("1.2.3", .malformed),
        ("1.23.456,00", .malformed),
        ("1,234,56", .malformed),
        ("12,345.678,00", .malformed),
        ("1234,567", .malformed),     // thousands grouping needs 1-3 digits before the first separator
        ("12,3456", .tooManyDecimals),
        ("10000000000000,00", .tooLarge),
        ("1.", .malformed),
    ])
    func refuses(text: String, error: Money.ParseError) {
        #expect(Money.parseCents(text) == .failure(error))
    }

    @Test("decimal strings for the API", arguments: [
        (Int64(123_456), "1234.56"), (5, "0.05"), (100, "1.00"), (0, "0.00"), (-5, "-0.05"), (999_999_999_999_999, "9999999999999.99"),
    ])
    func decimal(cents: Int64, text: String) {
        #expect(Money.decimalString(cents: cents) == text)
    }
}
