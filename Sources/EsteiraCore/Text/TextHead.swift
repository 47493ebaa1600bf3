/// What the first bytes of a text file say about it, the same for every reader of such files
/// (the pick stage, the upload preview, the blacklist import).
public enum TextHead {
    /// 3 when the bytes start with UTF-8's byte order mark, else 0.
    public static func bomLength(_ head: [UInt8]) -> Int {
        head.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    /// A NUL byte, or control characters (other than tab, line breaks and form feed) in more than
    /// 1% of the bytes: not a text file.
    public static func looksBinary(_ head: [UInt8]) -> Bool {
        let controls = head.reduce(0) { $0 + (($1 < 32 && $1 != 9 && $1 != 10 && $1 != 13 && $1 != 12) ? 1 : 0) }
        return head.contains(0) || controls * 100 > head.count
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
        let sawNUL = bytes.withUnsafeBufferPointer { validator.feed($0) }
        let valid = complete ? validator.isCompleteAndValid : validator.isValid
        return !sawNUL && valid ? .utf8 : .windows1252
    }
}
