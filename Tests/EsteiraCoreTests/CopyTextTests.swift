import EsteiraCore
import Testing

@Suite("PostgreSQL's COPY text, as the staging file and the registry's rows write it")
struct CopyTextTests {
    /// Escaped by `CopyText.appendEscaped`, as a String.
    static func escaped(_ text: String) -> String {
        var out: [UInt8] = []
        var s = text
        s.withUTF8 { CopyText.appendEscaped($0, to: &out) }
        return String(decoding: out, as: UTF8.self)
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

    @Test("escapes are PostgreSQL's: backslash, tab, newline and carriage return; and they come undone")
    func escapes() {
        // By hand, from the COPY documentation's list: \\ for a backslash, \t, \n and \r.
        let text = "a\tb\\c\nd\re \\N"
        #expect(Self.escaped(text) == #"a\tb\\c\nd\re \\N"#)
        #expect(Self.escaped("sem nada") == "sem nada")
        for sample in [text, "sem nada", "\\", "\\\\t", "ç€\t"] {
            var bytes = Array(Self.escaped(sample).utf8)
            #expect(bytes.withUnsafeMutableBufferPointer { CopyText.unescaped(UnsafeBufferPointer($0)) } == sample)
        }
    }

    @Test("integers and days read back as written, and nothing else reads")
    func numbersAndDays() {
        func integer(_ text: String) -> Int64? {
            var s = text
            return s.withUTF8 { CopyText.integer($0) }
        }
        func day(_ text: String) -> Day? {
            var s = text
            return s.withUTF8 { CopyText.day($0) }
        }
        var out: [UInt8] = []
        CopyText.appendDecimal(Int64.min, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "-9223372036854775808")
        out = []
        CopyText.appendDecimal(0, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "0")
        out = []
        CopyText.appendDay(Day(year: 7, month: 3, day: 9)!, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "0007-03-09")
        #expect(integer("-9223372036854775808") == Int64.min)
        #expect(integer("9223372036854775807") == Int64.max)
        #expect(integer("9223372036854775808") == nil)
        #expect(integer("") == nil)
        #expect(integer("-") == nil)
        #expect(integer("12a") == nil)
        #expect(day("2024-02-29") == Day(year: 2024, month: 2, day: 29))
        #expect(day("2026-02-29") == nil)
        #expect(day("2026-2-28") == nil)
        #expect(day("2026/02/28") == nil)
    }

    @Test("a staged debt's registry row: the columns in order, escaped, an absent field a null apart from an empty one")
    func stagedRow() throws {
        let cpf = try TaxID.parse("248.438.034-80").get()
        let debt = Debt(externalID: "E-1", name: "Ana\tMaria", document: cpf, amountCents: 123_456,
                        dueDate: Day(year: 2026, month: 3, day: 5)!, email: nil, phone: "", description: "x\\y")
        #expect(StagingCodec.rowColumns == ["external_id", "name", "document", "amount_cents", "due_date", "email", "phone",
                                            "description", "doc_key"])
        let staged = try StagingCodec.decodeSubBatch(StagingCodec.encode([.debt(line: 9, raw: "cru", debt)]))
        // By hand: the fields of `rowColumns`, tab-separated; the CPF's key is its digits as a number.
        let row = staged.withRowText(0) { String(decoding: $0, as: UTF8.self) }
        #expect(row == "E-1\tAna\\tMaria\t24843803480\t123456\t2026-03-05\t\\N\t\tx\\\\y\t24843803480")
        #expect(staged.summaries == [DebtSummary(debt)])
        #expect(staged.debt(0) == debt)
        #expect(staged.debtLines == [9])
        #expect(staged.debtRaw(0) == "cru")
    }
}
