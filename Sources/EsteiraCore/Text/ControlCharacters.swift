/// Control characters that no field of a debt may hold: C0 controls other than tab and line
/// breaks, DEL, and the C1 controls. No client types one on purpose; they come from a broken
/// export or an attack, PostgreSQL cannot store NUL in text, and a spreadsheet or an e-mail that
/// shows one is garbled. A field holding one is refused (R014), never cleaned silently.
public enum ControlCharacters {
    public static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return (v < 0x20 && v != 9 && v != 10 && v != 13) || (0x7F...0x9F).contains(v)
    }

    /// The first forbidden control character of `text`, if any.
    public static func first(in text: String) -> Unicode.Scalar? {
        text.unicodeScalars.first(where: isForbidden)
    }

    /// Whether a byte of UTF-8 text may start a forbidden character: a C0 control other than tab
    /// and line breaks, DEL, or 0xC2, the lead byte of U+0080...U+00BF (the C1 controls among
    /// them). A quick test for the transform's fast path, which leaves such records to the
    /// general one.
    public static func mayStartForbidden(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 9 && byte != 10 && byte != 13) || byte == 0x7F || byte == 0xC2
    }

    /// `U+0000`, as a message names the character.
    public static func name(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// The Portuguese message of R014 for `field`.
    public static func message(field: DebtField, _ scalar: Unicode.Scalar) -> String {
        "O campo \(field.portugueseName) contém um caractere de controle (\(name(scalar))), que não é texto; remova-o e envie de novo."
    }
}

extension ControlCharacters {
    /// A record's raw text as it can be stored and shown: every character as it was, but NUL
    /// (which PostgreSQL cannot keep in text) and bytes that are not UTF-8 become U+FFFD. Nil
    /// when nothing needs to change, the common case.
    public static func storableRaw(_ raw: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard raw.contains(0) || !UTF8Validator.isValid(raw) else { return nil }
        var scalars = String.UnicodeScalarView()
        for s in String(decoding: raw, as: UTF8.self).unicodeScalars {
            scalars.append(s.value == 0 ? "\u{FFFD}" : s)
        }
        return Array(String(scalars).utf8)
    }
}
