/// What the first bytes of a text file say about it, the same for every reader of such files
/// (the pick stage, the upload preview, the blacklist import).
public enum TextHead {
    /// 3 when the bytes start with UTF-8's byte order mark, else 0.
    public static func bomLength(_ head: [UInt8]) -> Int {
        head.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    /// Not a text file: a PDF or gzip by its first bytes, a NUL or another control character
    /// (other than tab, line breaks and form feed) in the first line, or control characters in
    /// more than 1% of the bytes. A text file with a stray NUL in a data row is text: that row is
    /// rejected (R014) and the others are read.
    public static func looksBinary(_ head: [UInt8]) -> Bool {
        if head.starts(with: Array("%PDF".utf8)) || head.starts(with: [0x1F, 0x8B]) { return true }
        func isControl(_ c: UInt8) -> Bool { c < 32 && c != 9 && c != 10 && c != 13 && c != 12 }
        let body = head[bomLength(head)...]
        let firstLine = body.prefix { $0 != 10 }
        if firstLine.contains(where: isControl) { return true }
        let controls = head.reduce(0) { $0 + (isControl($1) ? 1 : 0) }
        return controls * 100 > head.count
    }

    /// The delimiter of the first line after the BOM that is not blank (the header).
    public static func delimiter(_ head: [UInt8]) -> UInt8 {
        let firstLine = head[bomLength(head)...].split(separator: 10, omittingEmptySubsequences: true)
            .first { $0.contains { $0 != 13 && $0 != 32 } } ?? []
        return CSVRecordParser.detectDelimiter(headerLine: Array(firstLine))
    }

    /// UTF-8 when the bytes are valid UTF-8 (with `complete` false, a character cut at the end
    /// counts as valid), else Windows-1252.
    public static func encoding(_ bytes: [UInt8], complete: Bool) -> TextEncoding {
        var validator = UTF8Validator()
        _ = bytes.withUnsafeBufferPointer { validator.feed($0) }
        if !complete && validator.isValid { return .utf8 }
        return TextEncoding.of(validator)
    }
}
