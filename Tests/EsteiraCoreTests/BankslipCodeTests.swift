import EsteiraCore
import Testing

@Suite("Boleto: barcode, digitable line, due-date factor")
struct BoletoTests {
    @Test("the due-date factor, across its restart on 2025-02-22 (FEBRABAN, shared/BRAZIL.md)")
    func dueFactor() throws {
        #expect(try Boleto.dueFactor(Day(year: 2000, month: 7, day: 3)!) == 1000)
        #expect(try Boleto.dueFactor(Day(year: 2025, month: 2, day: 21)!) == 9999)
        #expect(try Boleto.dueFactor(Day(year: 2025, month: 2, day: 22)!) == 1000)
        #expect(try Boleto.dueFactor(Day(year: 2025, month: 2, day: 23)!) == 1001)
        // From the vectors below: 2006-06-10 (caelum-stella) and 2011-02-05 (pyboleto).
        #expect(try Boleto.dueFactor(Day(year: 2006, month: 6, day: 10)!) == 3168)
        #expect(try Boleto.dueFactor(Day(year: 2011, month: 2, day: 5)!) == 4869)
        #expect(throws: Boleto.Problem.dueDateTooEarly) { try Boleto.dueFactor(Day(year: 2000, month: 7, day: 2)!) }
    }

    /// caelum-stella's BradescoTest: agency 2949, wallet 6, nosso número 3, account 6580, due
    /// 2006-06-10, R$ 1,00.
    @Test("Bradesco: barcode and digitable line of caelum-stella's test")
    func bradesco() throws {
        let free = try Boleto.FreeField.bradesco(agency: "2949", wallet: "6", ourNumber: "3", account: "6580")
        let barcode = try Boleto.barcode(bank: "237", dueFactor: try Boleto.dueFactor(Day(year: 2006, month: 6, day: 10)!),
                                         amountCents: 100, freeField: free)
        #expect(barcode == "23796316800000001002949060000000000300065800")
        #expect(try Boleto.digitableLine(barcode: barcode) == "23792.94909 60000.000004 03000.658009 6 31680000000100")
    }

    /// pyboleto's Itaú test: wallet 175, agency 1565, account 13877, nosso número 12345678, due
    /// 2011-03-09, R$ 2.952,95, published as the line `34191.75124 34567.861561 51387.710000 3
    /// 49010000295295`. Read off its fields: the free field is 175 12345678 6 1565 13877 1 000.
    @Test("Itaú: free field, barcode and digitable line of pyboleto's test")
    func itau() throws {
        let free = try Boleto.FreeField.itau(agency: "1565", wallet: "175", ourNumber: "12345678", account: "13877")
        #expect(free == "1751234567861565138771000")
        let barcode = try Boleto.barcode(bank: "341", dueFactor: try Boleto.dueFactor(Day(year: 2011, month: 3, day: 9)!),
                                         amountCents: 295_295, freeField: free)
        #expect(try Boleto.digitableLine(barcode: barcode) == "34191.75124 34567.861561 51387.710000 3 49010000295295")
        #expect(barcode.hasPrefix("34193"))
    }

    /// pyboleto's Caixa test publishes only the line `10498.01952 25086.156509 00000.004143 7
    /// 48690000035500`; its barcode, read off the line's fields by hand, is bank 104, currency 9,
    /// check digit 7, factor 4869, amount 0000035500, free field 80195 2508615650 0000000414.
    @Test("Caixa: the general check digit and the digitable line of pyboleto's test")
    func caixa() throws {
        let barcode = "1049" + "7" + "4869" + "0000035500" + "80195" + "2508615650" + "0000000414"
        #expect(Boleto.generalCheckDigit(String(barcode.prefix(4)) + String(barcode.dropFirst(5))) == 7)
        #expect(try Boleto.digitableLine(barcode: barcode) == "10498.01952 25086.156509 00000.004143 7 48690000035500")
        #expect(try Boleto.barcode(bank: "104", dueFactor: 4869, amountCents: 35500, freeField: "8019525086156500000000414") == barcode)
    }

    @Test("bad parts are refused, each named")
    func problems() {
        #expect(throws: Boleto.Problem.badPart("bank")) { try Boleto.barcode(bank: "23", dueFactor: 1000, amountCents: 1, freeField: String(repeating: "0", count: 25)) }
        #expect(throws: Boleto.Problem.badPart("free field")) { try Boleto.barcode(bank: "237", dueFactor: 1000, amountCents: 1, freeField: "12") }
        #expect(throws: Boleto.Problem.amountOutOfRange) {
            try Boleto.barcode(bank: "237", dueFactor: 1000, amountCents: 10_000_000_000, freeField: String(repeating: "0", count: 25))
        }
        #expect(throws: Boleto.Problem.badPart("barcode")) { try Boleto.digitableLine(barcode: "123") }
        #expect(throws: (any Error).self) { try Boleto.FreeField.bradesco(agency: "29491", wallet: "6", ourNumber: "3", account: "6580") }
    }
}

@Suite("PIX BR Code: static charges and their CRC")
struct PixBRCodeTests {
    @Test("CRC-16/CCITT-FALSE check value: 123456789 → 29B1")
    func crc() {
        #expect(PixBRCode.crc16(Array("123456789".utf8)) == 0x29B1)
    }

    /// Banco Central's static example, as ex-pix-brcode decodes it in its tests.
    @Test("Banco Central's static example, without amount")
    func centralBankExample() throws {
        let payload = try PixBRCode.payload(key: "123e4567-e12b-12d1-a456-426655440000", amountCents: nil,
                                            name: "Fulano de Tal", city: "BRASILIA")
        #expect(payload == "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D")
    }

    /// With an amount, a txid, and accents to strip. Expected payload built by hand field by field;
    /// its CRC from Python's `binascii.crc_hqx(payload, 0xFFFF)` (CRC-16/CCITT-FALSE), a second tool.
    @Test("with amount, txid and accents stripped")
    func withAmount() throws {
        let payload = try PixBRCode.payload(key: "11222333000181", amountCents: 123_456, name: "Cobrança Esteira Ltda",
                                            city: "São Paulo", txid: "D1b2C3")
        #expect(payload == "00020126360014br.gov.bcb.pix01141122233300018152040000530398654071234.565802BR5921Cobranca Esteira Ltda6009Sao Paulo62100506D1b2C363046A49")
    }

    @Test("bad fields are refused, each named")
    func problems() {
        #expect(throws: PixBRCode.Problem.badField("key")) { try PixBRCode.payload(key: "", amountCents: nil, name: "A", city: "B") }
        #expect(throws: PixBRCode.Problem.badField("txid")) { try PixBRCode.payload(key: "k", amountCents: nil, name: "A", city: "B", txid: "tem espaço") }
        #expect(throws: PixBRCode.Problem.badField("amount")) { try PixBRCode.payload(key: "k", amountCents: 0, name: "A", city: "B") }
        #expect(throws: PixBRCode.Problem.badField("name")) { try PixBRCode.payload(key: "k", amountCents: nil, name: "  ", city: "B") }
    }
}
