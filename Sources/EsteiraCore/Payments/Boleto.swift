/// The FEBRABAN boleto ("ficha de compensação"): the 44-digit barcode, the 47-digit digitable
/// line, the due-date factor and the check digits. The 25-digit free field is each bank's own
/// (`Boleto.FreeField`). Pure arithmetic over digit strings; no I/O.
public enum Boleto {
    /// Why a boleto cannot be made from the values given.
    public enum Problem: Error, Equatable, Sendable {
        /// A part is not all digits or has the wrong length (the part named).
        case badPart(String)
        /// More than 99.999.999,99, which the barcode's ten digits cannot carry, or negative.
        case amountOutOfRange
        /// The due date is before 2000-07-03, the first day with a four-digit factor.
        case dueDateTooEarly
    }

    static let factorBase = Day(year: 1997, month: 10, day: 7)!
    static let factorRestart = Day(year: 2000, month: 7, day: 3)!

    /// The due-date factor: days since 1997-10-07 (2000-07-03 is 1000, 2025-02-21 is 9999). Four
    /// digits only, so it starts again at 1000 every 9,000 days: 2025-02-22 is 1000 again.
    public static func dueFactor(_ day: Day) throws(Problem) -> Int {
        let since = day.daysSinceEpoch - factorRestart.daysSinceEpoch
        guard since >= 0 else { throw .dueDateTooEarly }
        return 1000 + since % 9000
    }

    /// The 44-digit barcode: bank (3), currency `9`, general check digit, due factor (4), amount
    /// in cents (10), free field (25).
    public static func barcode(bank: String, dueFactor: Int, amountCents: Int64, freeField: String) throws(Problem) -> String {
        guard bank.count == 3, isDigits(bank) else { throw .badPart("bank") }
        guard freeField.count == 25, isDigits(freeField) else { throw .badPart("free field") }
        guard (1000...9999).contains(dueFactor) else { throw .badPart("due factor") }
        guard (0...9_999_999_999).contains(amountCents) else { throw .amountOutOfRange }
        let amount = String(amountCents)
        let body = bank + "9" + String(dueFactor) + String(repeating: "0", count: 10 - amount.count) + amount + freeField
        let check = generalCheckDigit(body)
        return String(body.prefix(4)) + String(check) + String(body.dropFirst(4))
    }

    /// The digitable line, printed `AAAAA.AAAAA BBBBB.BBBBBB CCCCC.CCCCCC D EEEEEEEEEEEEEE`:
    /// barcode positions 1–4 and 20–24 with their mod-10 digit, 25–34 with theirs, 35–44 with
    /// theirs, the general check digit, and the factor with the amount.
    public static func digitableLine(barcode: String) throws(Problem) -> String {
        guard barcode.count == 44, isDigits(barcode) else { throw .badPart("barcode") }
        let b = Array(barcode)
        func part(_ r: Range<Int>) -> String { String(b[r]) }
        let f1 = part(0..<4) + part(19..<24), f2 = part(24..<34), f3 = part(34..<44)
        let c1 = f1 + String(mod10(f1)), c2 = f2 + String(mod10(f2)), c3 = f3 + String(mod10(f3))
        func dotted(_ s: String, _ at: Int) -> String { String(s.prefix(at)) + "." + String(s.dropFirst(at)) }
        return [dotted(c1, 5), dotted(c2, 5), dotted(c3, 5), part(4..<5), part(5..<19)].joined(separator: " ")
    }

    /// Mod 10 of the digitable line: weights 2, 1, 2, 1… from the right; a product over 9 adds
    /// its digits; the digit is (10 − sum mod 10) mod 10.
    public static func mod10(_ digits: String) -> Int {
        var sum = 0
        for (i, c) in digits.reversed().enumerated() {
            var p = (c.wholeNumberValue ?? 0) * (i % 2 == 0 ? 2 : 1)
            if p > 9 { p = p / 10 + p % 10 }
            sum += p
        }
        return (10 - sum % 10) % 10
    }

    /// Mod 11 over the 43 other digits, weights 2 to 9 repeating from the right: 11 − (sum mod
    /// 11), where 0, 10 and 11 become 1.
    public static func generalCheckDigit(_ digits: String) -> Int {
        let d = 11 - weightedSum(digits) % 11
        return (d == 0 || d == 10 || d == 11) ? 1 : d
    }

    /// The sum of the digits weighted 2…9, repeating, from the right (the banks' "módulo 11").
    static func weightedSum(_ digits: String) -> Int {
        var sum = 0
        for (i, c) in digits.reversed().enumerated() { sum += (c.wholeNumberValue ?? 0) * (2 + i % 8) }
        return sum
    }

    static func isDigits(_ s: String) -> Bool { s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }

    static func padded(_ s: String, _ n: Int) throws(Problem) -> String {
        guard s.count <= n, isDigits(s) else { throw .badPart(s) }
        return String(repeating: "0", count: n - s.count) + s
    }

    /// The banks' free fields.
    public enum FreeField {
        /// Bradesco: agency (4), wallet (2), nosso número (11), account (7), `0`.
        public static func bradesco(agency: String, wallet: String, ourNumber: String, account: String) throws(Problem) -> String {
            try padded(agency, 4) + padded(wallet, 2) + padded(ourNumber, 11) + padded(account, 7) + "0"
        }
    }
}
