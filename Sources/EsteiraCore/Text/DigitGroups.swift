/// A whole number with its thousands grouped: `1.234.567` as a Brazilian reads a count, or
/// `1,234,567` in the English of the README and the settings' report.
public enum DigitGroups {
    public static func grouped(_ n: some BinaryInteger, separator: Character) -> String {
        let digits = String(n.magnitude)
        var out = ""
        out.reserveCapacity(digits.count + digits.count / 3 + 1)
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(separator) }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }
}
