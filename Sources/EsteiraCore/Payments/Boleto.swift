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
        guard bank.utf8.count == 3, isDigits(bank) else { throw .badPart("bank") }
        guard freeField.utf8.count == 25, isDigits(freeField) else { throw .badPart("free field") }
        guard (1000...9999).contains(dueFactor) else { throw .badPart("due factor") }
        guard (0...9_999_999_999).contains(amountCents) else { throw .amountOutOfRange }
        // Digits as bytes ('0'...'9'): this runs for every debt of a batch.
        var body: [UInt8] = []
        body.reserveCapacity(44)
        body += bank.utf8
        body.append(0x39)
        appendDigits(&body, Int64(dueFactor), width: 4)
        appendDigits(&body, amountCents, width: 10)
        body += freeField.utf8
        body.insert(0x30 + UInt8(generalCheckDigit(body)), at: 4)
        return String(decoding: body, as: UTF8.self)
    }

    static func appendDigits(_ out: inout [UInt8], _ value: Int64, width: Int) {
        var digits = [UInt8](repeating: 0x30, count: width)
        var v = value
        for i in stride(from: width - 1, through: 0, by: -1) {
            digits[i] = 0x30 + UInt8(v % 10)
            v /= 10
        }
        out += digits
    }

    /// The digitable line, printed `AAAAA.AAAAA BBBBB.BBBBBB CCCCC.CCCCCC D EEEEEEEEEEEEEE`:
    /// barcode positions 1–4 and 20–24 with their mod-10 digit, 25–34 with theirs, 35–44 with
    /// theirs, the general check digit, and the factor with the amount.
    public static func digitableLine(barcode: String) throws(Problem) -> String {
        let b = Array(barcode.utf8)
        guard b.count == 44, isDigits(barcode) else { throw .badPart("barcode") }
        var out: [UInt8] = []
        out.reserveCapacity(54)
        func field(_ digits: [UInt8], dotAt: Int) {
            let all = digits + [0x30 + UInt8(mod10(digits))]
            out += all[0..<dotAt]
            out.append(0x2E)
            out += all[dotAt...]
            out.append(0x20)
        }
        field(Array(b[0..<4] + b[19..<24]), dotAt: 5)
        field(Array(b[24..<34]), dotAt: 5)
        field(Array(b[34..<44]), dotAt: 5)
        out.append(b[4])
        out.append(0x20)
        out += b[5..<19]
        return String(decoding: out, as: UTF8.self)
    }

    /// Mod 10 of the digitable line: weights 2, 1, 2, 1… from the right; a product over 9 adds
    /// its digits; the digit is (10 − sum mod 10) mod 10.
    static func mod10(_ digits: [UInt8]) -> Int {
        var sum = 0
        var weight = 2
        for c in digits.reversed() {
            var p = Int(c &- 0x30) * weight
            if p > 9 { p = p / 10 + p % 10 }
            sum += p
            weight = 3 - weight
        }
        return (10 - sum % 10) % 10
    }

    /// Mod 11 over the 43 other digits, weights 2 to 9 repeating from the right: 11 − (sum mod
    /// 11), where 0, 10 and 11 become 1.
    public static func generalCheckDigit(_ digits: String) -> Int { generalCheckDigit(Array(digits.utf8)) }

    static func generalCheckDigit(_ digits: [UInt8]) -> Int {
        var sum = 0
        for (i, c) in digits.reversed().enumerated() { sum += Int(c &- 0x30) * (2 + i % 8) }
        let d = 11 - sum % 11
        return (d == 0 || d == 10 || d == 11) ? 1 : d
    }

    static func isDigits(_ s: String) -> Bool { s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }

    static func padded(_ s: String, _ n: Int) throws(Problem) -> String {
        guard s.utf8.count <= n, isDigits(s) else { throw .badPart(s) }
        return String(repeating: "0", count: n - s.count) + s
    }

    /// The banks' free fields.
    public enum FreeField {
        /// Bradesco: agency (4), wallet (2), nosso número (11), account (7), `0`.
        public static func bradesco(agency: String, wallet: String, ourNumber: String, account: String) throws(Problem) -> String {
            try padded(agency, 4) + padded(wallet, 2) + padded(ourNumber, 11) + padded(account, 7) + "0"
        }

        /// Itaú, for the wallets with an 8-digit nosso número (109, 112, 175, …): wallet (3),
        /// nosso número (8), its check digit (mod 10 of agency, account, wallet and nosso número),
        /// agency (4), account (5), the account's check digit (mod 10 of agency and account), `000`.
        public static func itau(agency: String, wallet: String, ourNumber: String, account: String) throws(Problem) -> String {
            let agency = try padded(agency, 4), account = try padded(account, 5), wallet = try padded(wallet, 3)
            let ourNumber = try padded(ourNumber, 8)
            let ourDigit = mod10(Array((agency + account + wallet + ourNumber).utf8))
            let accountDigit = mod10(Array((agency + account).utf8))
            return wallet + ourNumber + String(ourDigit) + agency + account + String(accountDigit) + "000"
        }
    }
}
