import EsteiraCore
import Testing

@Suite("CPF and CNPJ")
struct TaxIDTests {
    @Test("valid CPFs, masked or not, keep their leading zeros", arguments: [
        // BRAZIL.md's example.
        ("248.438.034-80", "24843803480"),
        // By hand: 1,1,1,4,4,4,7,7,7 × 10..2 = 162; 162 mod 11 = 8 → DV1 = 3.
        //          1,1,1,4,4,4,7,7,7,3 × 11..2 = 204; 204 mod 11 = 6 → DV2 = 5.
        ("111.444.777-35", "11144477735"),
        // By hand: 0,1,2,3,4,5,6,7,8 × 10..2 = 156; mod 11 = 2 → DV1 = 9.
        //          0,1,2,3,4,5,6,7,8,9 × 11..2 = 210; mod 11 = 1 (< 2) → DV2 = 0.
        ("012.345.678-90", "01234567890"),
        ("01234567890", "01234567890"),
    ])
    func validCPF(input: String, normalized: String) throws {
        let id = try TaxID.parse(input).get()
        #expect(id.kind == .cpf)
        #expect(id.value == normalized)
    }

    @Test("valid CNPJs, numeric and alphanumeric", arguments: [
        // BRAZIL.md: a classic valid numeric CNPJ.
        ("11.222.333/0001-81", "11222333000181"),
        // IN RFB 2.229/2024's official example. By hand: values 1,2,17,18,19,3,4,5,0,1,20,21
        // × 5,4,3,2,9,8,7,6,5,4,3,2 = 459; 459 mod 11 = 8 → DV1 = 3; with DV1,
        // × 6,5,4,3,2,9,8,7,6,5,4,3,2 = 424; 424 mod 11 = 6 → DV2 = 5.
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),
        ("12abc34501de35", "12ABC34501DE35"),
    ])
    func validCNPJ(input: String, normalized: String) throws {
        let id = try TaxID.parse(input).get()
        #expect(id.kind == .cnpj)
        #expect(id.value == normalized)
    }

    @Test("wrong check digits are refused", arguments: [
        "248.438.034-70", "111.444.777-36", "11.222.333/0001-82", "12.ABC.345/01DE-36",
        // All-equal numbers pass the arithmetic and are refused by convention.
        "111.111.111-11", "000.000.000-00", "00.000.000/0000-00",
    ])
    func checkDigits(input: String) {
        #expect(TaxID.parse(input) == .failure(.checkDigits))
    }

    @Test("shapes that are neither CPF nor CNPJ are malformed", arguments: [
        "", "2484380348", "248438034800", "12.ABC.345/01DE-3X", "1234567890123A", "248.438.034-8O", "12ÁBC34501DE35",
    ])
    func malformed(input: String) {
        #expect(TaxID.parse(input) == .failure(.malformed))
    }

    @Test("index keys: a CPF's digits as a number; a CNPJ's first twelve characters in base 36, above every CPF", arguments: [
        // By hand: the CPF's eleven digits read as a decimal number (leading zeros drop).
        ("248.438.034-80", Int64(24_843_803_480)),
        ("012.345.678-90", Int64(1_234_567_890)),
        // Python: 10**11 + int("112223330001", 36) and 10**11 + int("12ABC34501DE", 36).
        ("11.222.333/0001-81", Int64(135_486_887_860_594_433)),
        ("12.ABC.345/01DE-35", Int64(139_981_699_648_639_986)),
    ])
    func indexKey(input: String, key: Int64) throws {
        #expect(try TaxID.parse(input).get().indexKey == key)
    }

    @Test("masking hides the middle")
    func masking() throws {
        #expect(try TaxID.parse("248.438.034-80").get().masked == "248.***.***-80")
        #expect(try TaxID.parse("11.222.333/0001-81").get().masked == "11.***.***/****-81")
    }
}
