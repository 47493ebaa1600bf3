import EsteiraCore
import Foundation
import Testing

@Suite("Text encodings: UTF-8 with a stray byte, Windows-1252, UTF-16")
struct TextEncodingTests {
    static func encoding(_ bytes: [UInt8]) -> TextEncoding {
        var v = UTF8Validator()
        _ = bytes.withUnsafeBufferPointer { v.feed($0) }
        return TextEncoding.of(v)
    }

    @Test("a UTF-8 file stays UTF-8 with one bad byte; a Windows-1252 file is read as one")
    func wholeFile() {
        let utf8 = Array("João Conceição;Ângela\n".utf8)
        #expect(Self.encoding(utf8) == .utf8)
        #expect(Self.encoding(utf8 + [0xFF] + Array("x\n".utf8)) == .utf8WithInvalidBytes)
        // "João Conceição" in Windows-1252: ã = E3, ç = E7 — no valid UTF-8 sequence at all.
        let cp1252: [UInt8] = [0x4A, 0x6F, 0xE3, 0x6F, 0x20, 0x43, 0x6F, 0x6E, 0x63, 0x65, 0x69, 0xE7, 0xE3, 0x6F, 0x0A]
        #expect(Self.encoding(cp1252) == .windows1252)
        #expect(TextEncoding.windows1252.decode(cp1252) == "João Conceição\n")
    }

    @Test("the columns whose bytes are not UTF-8 are named")
    func undecodableColumns() {
        let record: [UInt8] = Array("a;b".utf8) + [0xC3] + Array(";c".utf8)
        let fields = CSVRecordParser.fields(record, delimiter: 59, encoding: .utf8WithInvalidBytes)
        #expect(fields.undecodable == [1] && fields.values == ["a", "b\u{FFFD}", "c"])
    }

    @Test("UTF-16 in both byte orders, in chunks cut anywhere, against Foundation's encoder")
    func utf16() {
        let text = "id\tnome\r\nW1\tJoão 😀 Ω\r\n"
        for (order, encoding, bom) in [(UTF16Decoder.ByteOrder.littleEndian, String.Encoding.utf16LittleEndian, [UInt8]([0xFF, 0xFE])),
                                       (.bigEndian, .utf16BigEndian, [0xFE, 0xFF])] {
            let bytes = bom + Array(text.data(using: encoding)!)
            #expect(UTF16Decoder.byteOrder(of: bytes) == order)
            for cut in 1..<bytes.count {
                var d = UTF16Decoder(order)
                let out = d.decode(Array(bytes[..<cut])) + d.decode(Array(bytes[cut...])) + d.finish()
                #expect(String(decoding: out, as: UTF8.self) == text, "cut at \(cut)")
            }
        }
        // A high surrogate with no pair, then an ASCII letter: U+FFFD, and the letter kept.
        var d = UTF16Decoder(.littleEndian)
        #expect(String(decoding: d.decode([0x3D, 0xD8, 0x41, 0x00]) + d.finish(), as: UTF8.self) == "\u{FFFD}A")
    }
}
