import EsteiraCore
import Testing

/// A staging file is Esteira's own, but one changed on disk (or cut, or from another version)
/// must be refused when read, never trap later in the worker that reads it.
@Suite("Staging codec: a changed file is refused when read")
struct StagingCodecTests {
    /// Found by the fuzzer (scripts/fuzz, target staging): a document that is no CPF read back as
    /// one, and its index key overflowed, stopping the process, when the record was used.
    @Test("a document changed in the file: DecodeError, not a document that traps later")
    func changedDocument() throws {
        guard case .success(let cpf) = TaxID.parse("248.438.034-80"), let due = Day(year: 2026, month: 12, day: 7) else {
            Issue.record("seed values")
            return
        }
        let debt = Debt(externalID: "D1", name: "Ana", document: cpf, amountCents: 100, dueDate: due, email: nil, phone: nil, description: nil)
        var bytes = StagingCodec.encode([.debt(line: 2, raw: "D1;Ana", debt)])
        #expect(try StagingCodec.decode(bytes) == [.debt(line: 2, raw: "D1;Ana", debt)])
        // The document's eleven digits replaced, in place, by eleven letters.
        let digits = Array("24843803480".utf8)
        let at = try #require((0...(bytes.count - digits.count)).first { Array(bytes[$0..<$0 + digits.count]) == digits })
        for i in 0..<digits.count { bytes[at + i] = UInt8(ascii: "Z") }
        #expect(throws: StagingCodec.DecodeError.self) { try StagingCodec.decode(bytes) }
        #expect(throws: StagingCodec.DecodeError.self) { try StagingCodec.decodeSubBatch(bytes) }
    }

    /// Found by the fuzzer too: a length near Int.max overflowed `offset + length` and trapped.
    @Test("a length past the file's end, however large: DecodeError")
    func hugeLength() throws {
        let magic = Array(StagingCodec.encode([]).prefix(6))
        // Line 2, an inclusion (tag 0), then its raw text's length: Int.max as a varint (by hand:
        // eight bytes of 0xFF, seven bits each, then 0x7F, 63 bits in all).
        let bytes = magic + [2, 0] + [UInt8](repeating: 0xFF, count: 8) + [0x7F]
        #expect(throws: StagingCodec.DecodeError.self) { try StagingCodec.decode(bytes) }
        // The same length for a string read whole (a withdrawal's external id, tag 3).
        #expect(throws: StagingCodec.DecodeError.self) { try StagingCodec.decode(magic + [2, 3, 0] + [UInt8](repeating: 0xFF, count: 8) + [0x7F]) }
    }
}
