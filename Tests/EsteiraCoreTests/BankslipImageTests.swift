import EsteiraCore
import EsteiraTestSupport
import Foundation
import Testing

/// The drawings are read back by a real decoder: each SVG is rasterized by `rsvg-convert`
/// (librsvg) and decoded by `zbarimg` (ZBar), both from Debian (`librsvg2-bin`, `zbar-tools`,
/// installed by scripts/test), which must give back exactly what was encoded.
@Suite("Bankslip drawings read back by ZBar")
struct BankslipImageTests {
    static func decode(svg: String) throws -> String { try BarcodeReader.decode(svg: svg) }

    @Test("PIX payloads as QR codes, from version 1 to past version 7 (version information drawn)",
          arguments: [
            "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D",
            "00020126360014br.gov.bcb.pix01141122233300018152040000530398654071234.565802BR5921Cobranca Esteira Ltda6009Sao Paulo62100506D1b2C363046A49",
            "HELLO",
            // ASCII, as a PIX payload always is (accents stripped): 348 bytes, version 14, nine blocks.
            String(repeating: "Cobranca de divida n. 123; ", count: 13).prefix(348).description,
            // 624 bytes, the most version 19 holds.
            String(repeating: "0123456789abcdef", count: 39),
          ])
    func qr(_ text: String) throws {
        let code = try QRCode(bytes: Array(text.utf8))
        #expect(try Self.decode(svg: code.svg()) == text, "version \(code.version), mask \(code.mask)")
    }

    @Test("sizes: the smallest version that holds the bytes; too long is refused")
    func versions() throws {
        // Level M byte capacities (ISO/IEC 18004 table 7): version 1 holds 14 bytes, version 2 26,
        // version 19 624.
        #expect(try QRCode(bytes: Array(repeating: 65, count: 14)).version == 1)
        #expect(try QRCode(bytes: Array(repeating: 65, count: 15)).version == 2)
        #expect(try QRCode(bytes: Array(repeating: 65, count: 26)).version == 2)
        #expect(try QRCode(bytes: Array(repeating: 65, count: 27)).version == 3)
        #expect(try QRCode(bytes: Array(repeating: 65, count: 413)).version == 16)
        #expect(try QRCode(bytes: Array(repeating: 65, count: 624)).version == 19)
        #expect(throws: QRCode.Problem.tooLong(625)) { try QRCode(bytes: Array(repeating: 65, count: 625)) }
    }

    @Test("a boleto's barcode in Interleaved 2 of 5")
    func interleaved() throws {
        // caelum-stella's Bradesco barcode (BankslipCodeTests).
        let barcode = "23796316800000001002949060000000000300065800"
        let svg = try #require(InterleavedTwoOfFive.svg(barcode, narrow: 2, height: 80))
        #expect(try Self.decode(svg: svg) == barcode)
        #expect(InterleavedTwoOfFive.widths("123") == nil)
    }
}
