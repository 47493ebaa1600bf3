import EsteiraCore
import Testing

@Suite("PostgreSQL's binary COPY format, as the staging file and the registry's new debts write it")
struct CopyBinaryTests {
    static func written(_ write: (inout [UInt8]) -> Void) -> [UInt8] {
        var out: [UInt8] = []
        write(&out)
        return out
    }

    @Test("the header and trailer are the documented ones")
    func headerAndTrailer() {
        // PostgreSQL's documentation, COPY, "File Header": the 11-byte signature "PGCOPY\n\377\r\n\0",
        // a 32-bit flags field (0: no OIDs), a 32-bit header extension length (0). "File Trailer":
        // a 16-bit word containing -1.
        #expect(CopyBinary.header == [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00,
                                      0, 0, 0, 0, 0, 0, 0, 0])
        #expect(CopyBinary.trailer == [0xFF, 0xFF])
    }

    @Test("fields are a big-endian length and bytes; a null is length -1")
    func fields() {
        #expect(Self.written { CopyBinary.appendFieldCount(13, to: &$0) } == [0x00, 0x0D])
        #expect(Self.written { CopyBinary.appendInt64(1, to: &$0) } == [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1])
        // -2 in two's complement: seven 0xFF bytes and 0xFE.
        #expect(Self.written { CopyBinary.appendInt64(-2, to: &$0) } == [0, 0, 0, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE])
        #expect(Self.written { CopyBinary.appendNull(to: &$0) } == [0xFF, 0xFF, 0xFF, 0xFF])
        // "ção" in UTF-8: ç = c3 a7, ã = c3 a3, o = 6f, five bytes.
        var text = "ção"
        #expect(text.withUTF8 { bytes in Self.written { CopyBinary.appendText(bytes, to: &$0) } }
                == [0, 0, 0, 5, 0xC3, 0xA7, 0xC3, 0xA3, 0x6F])
    }

    @Test("a day counts from 2000-01-01", arguments: [
        // By hand: 2000-01-01 is day 0 and the day before it -1. 2026-03-05: 26 years from 2000 with
        // the leap days of 2000, 2004, …, 2024 (7) make 26 × 365 + 7 = 9,497 days to 2026-01-01, then
        // 31 (January) + 28 (February) + 4 = 63 more: 9,560 = 0x2558.
        (Day(year: 2000, month: 1, day: 1)!, [0, 0, 0, 4, 0, 0, 0, 0] as [UInt8]),
        (Day(year: 1999, month: 12, day: 31)!, [0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFF]),
        (Day(year: 2026, month: 3, day: 5)!, [0, 0, 0, 4, 0, 0, 0x25, 0x58]),
    ])
    func days(day: Day, expected: [UInt8]) {
        let bytes = Self.written { CopyBinary.appendDay(day, to: &$0) }
        #expect(bytes == expected)
        #expect(bytes.withUnsafeBufferPointer { CopyBinary.day(UnsafeBufferPointer(rebasing: $0[4...])) } == day)
    }

    @Test("reading fields: values, nulls, and a length that runs past the end")
    func reading() {
        var bytes = Self.written { out in
            CopyBinary.appendInt64(Int64.min, to: &out)
            CopyBinary.appendNull(to: &out)
            CopyBinary.appendText(UnsafeBufferPointer(start: nil, count: 0), to: &out)
        }
        bytes += [0, 0, 0, 9, 1, 2]  // says nine bytes, has two
        bytes.withUnsafeBufferPointer { b in
            var fields = CopyBinary.Fields(b)
            #expect(fields.nextValue().flatMap(CopyBinary.int64) == Int64.min)
            guard case .null? = fields.next() else { Issue.record("expected a null"); return }
            #expect(fields.nextValue()?.count == 0)
            #expect(fields.next() == nil)
        }
        #expect([UInt8]([0, 0, 0, 7]).withUnsafeBufferPointer { CopyBinary.int64($0) } == nil)
        #expect([UInt8]([0x7F, 0xFF, 0xFF, 0xFF]).withUnsafeBufferPointer { CopyBinary.day($0) } == nil)
    }

    @Test("a staged debt's registry row: the columns in order, an absent field a null apart from an empty one")
    func stagedRow() throws {
        let cpf = try TaxID.parse("248.438.034-80").get()
        let debt = Debt(externalID: "E-1", name: "Ana\tMaria", document: cpf, amountCents: 123_456,
                        dueDate: Day(year: 2026, month: 3, day: 5)!, email: nil, phone: "", description: "x\\y")
        #expect(StagingCodec.rowColumns == ["external_id", "name", "document", "amount_cents", "due_date", "email", "phone",
                                            "description", "doc_key"])
        let staged = try StagingCodec.decodeSubBatch(StagingCodec.encode([.debt(line: 9, raw: "cru", debt)]))
        // By hand: each field of `rowColumns` as its length and bytes; 2026-03-05 is 0x2558 (above).
        // The CPF's key is its digits as a number. In hexadecimal (python3 -c 'print(hex(123456),
        // hex(24843803480))'): 0x1e240 and 0x5c8ce5b58.
        let expected: [UInt8] = [0, 0, 0, 3] + Array("E-1".utf8)
            + [0, 0, 0, 9] + Array("Ana\tMaria".utf8)
            + [0, 0, 0, 11] + Array("24843803480".utf8)
            + [0, 0, 0, 8, 0, 0, 0, 0, 0, 0x01, 0xE2, 0x40]
            + [0, 0, 0, 4, 0, 0, 0x25, 0x58]
            + [0xFF, 0xFF, 0xFF, 0xFF]
            + [0, 0, 0, 0]
            + [0, 0, 0, 3] + Array("x\\y".utf8)
            + [0, 0, 0, 8, 0, 0, 0, 0x05, 0xC8, 0xCE, 0x5B, 0x58]
        #expect(staged.withRow(0) { Array($0) } == expected)
        #expect(staged.summaries == [DebtSummary(debt)])
        #expect(staged.debt(0) == debt)
        #expect(staged.debtLines == [9])
        #expect(staged.debtRaw(0) == "cru")
    }
}
