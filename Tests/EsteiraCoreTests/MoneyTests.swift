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
        ("1.234.567", 123_456_700),  // one character several times can only group thousands
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
        ("1234,567", .tooManyDecimals), // four digits before it: the comma can only be decimal
        // A group that starts with 0 is never a thousands group (the hostile tester's inputs,
        // each once registered as 1,000 times its value).
        ("0,001", .tooManyDecimals),
        ("0.001", .tooManyDecimals),
        ("0,500", .tooManyDecimals),
        ("0,999", .tooManyDecimals),
        ("0.500", .tooManyDecimals),
        ("0.500,00", .malformed),
        (",500", .tooManyDecimals),
        // One separator before exactly three digits, after a group that could be thousands.
        ("1.234", .ambiguous),
        ("12,345", .ambiguous),
        ("R$ 999.999", .ambiguous),
        ("12,3456", .tooManyDecimals),
        ("10000000000000,00", .tooLarge),
        ("1.", .malformed),
    ])
    func refuses(text: String, error: Money.ParseError) {
        #expect(Money.parseCents(text) == .failure(error))
    }

    @Test("a format that fixes the separators settles what auto refuses", arguments: [
        ("1.234", DecimalFormat.comma, Result<Int64, Money.ParseError>.success(123_400)),
        ("1.234", .dot, .failure(.tooManyDecimals)),
        ("1,234", .dot, .success(123_400)),
        ("1,234", .comma, .failure(.tooManyDecimals)),
        ("0.500", .comma, .failure(.malformed)),
        ("0,50", .comma, .success(50)),
        ("1.234.567,89", .comma, .success(123_456_789)),
        ("1.234.567,89", .dot, .failure(.malformed)),
        ("R$ 1.234,56", .comma, .success(123_456)),
        // A JSON number is read with `dot`: 12.345 has three decimals, never twelve thousand.
        ("12.345", .dot, .failure(.tooManyDecimals)),
        ("0.001", .dot, .failure(.tooManyDecimals)),
        ("1000", .dot, .success(100_000)),
        ("123456", .impliedCents, .success(123_456)),
        ("000123", .impliedCents, .success(123)),
        ("1.23", .impliedCents, .failure(.malformed)),
    ])
    func formats(text: String, format: DecimalFormat, expected: Result<Int64, Money.ParseError>) {
        #expect(Money.parseCents(text[...], format: format) == expected)
    }

    @Test("an ambiguous amount's message shows both readings and how to write it")
    func ambiguity() {
        let message = Money.refusal(.ambiguous, text: "1.234")
        #expect(message.contains("1.234,00") && message.contains("1234.00") && message.contains("três casas decimais"))
        #expect(Money.refusal(.ambiguous, text: "12,345").contains("a vírgula"))
    }

    @Test("decimal strings for the API", arguments: [
        (Int64(123_456), "1234.56"), (5, "0.05"), (100, "1.00"), (0, "0.00"), (-5, "-0.05"), (999_999_999_999_999, "9999999999999.99"),
    ])
    func decimal(cents: Int64, text: String) {
        #expect(Money.decimalString(cents: cents) == text)
    }
}

@Suite("Digit groups")
struct DigitGroupsTests {
    @Test("thousands grouped from the right, by hand: 1234567 is 1 234 567")
    func grouped() {
        #expect(DigitGroups.grouped(0, separator: ".") == "0")
        #expect(DigitGroups.grouped(999, separator: ".") == "999")
        #expect(DigitGroups.grouped(1000, separator: ".") == "1.000")
        #expect(DigitGroups.grouped(1_234_567, separator: ".") == "1.234.567")
        #expect(DigitGroups.grouped(-1234, separator: ",") == "-1,234")
        #expect(DigitGroups.grouped(Int64.min, separator: ".") == "-9.223.372.036.854.775.808")
    }
}
