import EsteiraCore
@testable import EsteiraStore
import Testing

@Suite("PostgreSQL's COPY text, as the store writes rows other than a batch's new debts")
struct CopyTextTests {
    /// Written by `write` into a buffer of `room` bytes, as a String.
    static func written(room: Int, _ write: (inout UnsafeMutablePointer<UInt8>) -> Void) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: room) { buffer in
            var p = buffer.baseAddress!
            write(&p)
            return String(decoding: UnsafeBufferPointer(start: buffer.baseAddress, count: p - buffer.baseAddress!), as: UTF8.self)
        }
    }

    static func escaped(_ text: String) -> String {
        var s = text
        return s.withUTF8 { bytes in written(room: 2 * bytes.count) { CopyText.putEscaped(bytes, &$0) } }
    }

    @Test("which text needs escaping, wherever the byte falls in an eight-byte word or the tail", arguments: [
        ("", false), ("abcdefghijklmnop", false), ("José da Silva — ção €", false), ("~\u{7F} !/[]{}", false),
        ("abcdefgh\\", true), ("abcdefghi\tjklmnop", true), ("\nabcdefghijklmnop", true), ("abc\r", true),
        ("abcdefghijklmno\u{1F}", true), ("abcdefg\u{01}", true),
    ])
    func needsEscaping(text: String, expected: Bool) {
        var s = text
        #expect(s.withUTF8 { CopyText.needsEscaping($0) } == expected)
    }

    @Test("escapes are PostgreSQL's: backslash, tab, newline and carriage return")
    func escapes() {
        // By hand, from the COPY documentation's list: \\ for a backslash, \t, \n and \r.
        #expect(Self.escaped("a\tb\\c\nd\re \\N") == #"a\tb\\c\nd\re \\N"#)
        #expect(Self.escaped("sem nada") == "sem nada")
    }

    @Test("integers and days as PostgreSQL reads them")
    func numbersAndDays() {
        #expect(Self.written(room: 20) { CopyText.putDecimal(Int64.min, &$0) } == "-9223372036854775808")
        #expect(Self.written(room: 20) { CopyText.putDecimal(Int64.max, &$0) } == "9223372036854775807")
        #expect(Self.written(room: 20) { CopyText.putDecimal(0, &$0) } == "0")
        #expect(Self.written(room: 10) { p in
            CopyText.putDay(Day(year: 7, month: 3, day: 9)!, p)
            p += 10
        } == "0007-03-09")
    }
}
