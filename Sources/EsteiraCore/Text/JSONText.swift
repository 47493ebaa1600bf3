import Foundation

/// JSON written the one way Esteira stores what it publishes: keys sorted, slashes as they are.
/// The same value always gives the same text.
public enum JSONText {
    /// A string as JSON writes it, as `encoded` writes it: in quotes, with `"` and `\` escaped,
    /// the control characters as `\n`, `\t`, … or `\u00XX`, everything else as it is. For the
    /// few documents written by hand where a million of them are written at once (a file's
    /// changes to the history); a test holds it to `encoded`.
    public static func quoted(_ text: String) -> String {
        // Most strings (ids, names, reasons) need no escape: copied whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"
            case "\u{c}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    public static func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
