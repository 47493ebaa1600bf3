/// The encodings Esteira accepts for text files: UTF-8 (with or without BOM) and Windows-1252,
/// which is what Excel writes for "CSV" on Brazilian Windows machines.
public enum TextEncoding: String, Sendable, Codable {
    case utf8 = "utf-8"
    case windows1252 = "windows-1252"
    /// UTF-8 but for a few bytes that are not: read as UTF-8, and the records whose fields hold
    /// the bad bytes are rejected (R015) rather than the whole file read as Windows-1252.
    case utf8WithInvalidBytes = "utf-8-with-invalid-bytes"

    /// The encoding of a whole file from its validator: UTF-8 when valid; when not, UTF-8 still if
    /// it has more valid multi-byte characters than invalid bytes (one stray byte in a UTF-8
    /// export), else Windows-1252 (whose accented letters are never valid UTF-8 sequences).
    public static func of(_ validator: UTF8Validator) -> TextEncoding {
        if validator.isCompleteAndValid { return .utf8 }
        return validator.multiByteCharacters > validator.invalidSequences ? .utf8WithInvalidBytes : .windows1252
    }

    /// Decodes bytes to a String. Windows-1252's five undefined bytes map to the C1 controls of the
    /// same value, as the WHATWG encoding standard does, so nothing is dropped.
    public func decode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        decoded(bytes)
    }

    /// The same for bytes in memory: the generic form, called from another module, runs
    /// unspecialized, a witness call per byte of every record of a Windows-1252 file.
    public func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        decoded(bytes)
    }

    func decoded<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        switch self {
        case .utf8, .utf8WithInvalidBytes:
            return String(decoding: bytes, as: UTF8.self)
        case .windows1252:
            var scalars = String.UnicodeScalarView()
            for b in bytes {
                if b < 0x80 || b >= 0xA0 {
                    scalars.append(Unicode.Scalar(b))
                } else {
                    scalars.append(Unicode.Scalar(TextEncoding.cp1252High[Int(b - 0x80)])!)
                }
            }
            return String(scalars)
        }
    }

    /// Code points of bytes 0x80...0x9F in Windows-1252 (from the Unicode mapping table CP1252.TXT).
    static let cp1252High: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]
}

/// Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF),
/// fed one chunk at a time so a whole file is checked without holding it.
public struct UTF8Validator: Sendable {
    private var needed = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF
    public private(set) var isValid = true
    /// Complete, valid characters of two to four bytes seen.
    public private(set) var multiByteCharacters = 0
    /// Places where the bytes stopped being UTF-8 (each bad byte, or a sequence cut short).
    public private(set) var invalidSequences = 0

    public init() {}

    public mutating func feed(_ byte: UInt8) {
        if needed == 0 {
            if byte < 0x80 { return }
            switch byte {
            case 0xC2...0xDF: needed = 1
            case 0xE0: needed = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: needed = 2
            case 0xED: needed = 2; upper = 0x9F
            case 0xF0: needed = 3; lower = 0x90
            case 0xF1...0xF3: needed = 3
            case 0xF4: needed = 3; upper = 0x8F
            default: isValid = false; invalidSequences += 1
            }
        } else {
            if byte < lower || byte > upper {
                isValid = false
                invalidSequences += 1
                needed = 0
                lower = 0x80
                upper = 0xBF
                // The byte that broke the sequence starts afresh: it may be ASCII or a lead byte.
                feed(byte)
                return
            } else {
                needed -= 1
                if needed == 0 { multiByteCharacters += 1 }
            }
            lower = 0x80
            upper = 0xBF
        }
    }

    /// Whether `bytes` on their own are complete, valid UTF-8.
    public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var v = UTF8Validator()
        for b in bytes where b >= 0x80 || v.needed > 0 { v.feed(b) }
        return v.isCompleteAndValid
    }

    /// Feeds a chunk, eight bytes at a time where they are ASCII; returns whether it holds a NUL
    /// byte (which no text file has).
    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let start = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(start)
        var sawNUL = false
        var i = 0
        while i < bytes.count {
            if needed == 0 && i &+ 8 <= bytes.count {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if w & 0x8080_8080_8080_8080 == 0 {
                    if ByteWord.zeroBytes(w) != 0 { sawNUL = true }
                    i &+= 8
                    continue
                }
            }
            let byte = bytes[i]
            if byte == 0 { sawNUL = true }
            if byte >= 0x80 || needed > 0 { feed(byte) }
            i &+= 1
        }
        return sawNUL
    }

    /// True in the middle of a multi-byte sequence: the next byte must be fed even if it is ASCII.
    public var needsContinuation: Bool { needed > 0 }

    /// True when every byte fed so far forms complete, valid UTF-8.
    public var isCompleteAndValid: Bool { isValid && needed == 0 }
}
