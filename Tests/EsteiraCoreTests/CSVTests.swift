import EsteiraCore
import Testing

@Suite("CSV scanning and parsing")
struct CSVTests {
    func records(_ text: String, delimiter: UInt8 = 59, chunk: Int = 3) -> [CSVScanner.Record] {
        var scanner = CSVScanner(delimiter: delimiter)
        var out: [CSVScanner.Record] = []
        let bytes = Array(text.utf8)
        var i = 0
        // Feed in small chunks so that quotes and CRLF pairs straddle chunk edges.
        while i < bytes.count {
            scanner.feed(Array(bytes[i..<min(i + chunk, bytes.count)])) { out.append($0) }
            i += chunk
        }
        scanner.finish { out.append($0) }
        return out
    }

    @Test("records end at LF or CRLF, not inside quotes; lines are counted from 1")
    func boundaries() {
        let text = "a;b\r\n1;\"x\r\ny\"\r\n\r\n2;z"
        let r = records(text)
        // Offsets by hand: "a;b\r\n" is 0..<5; "1;\"x\r\ny\"\r\n" is 5..<15; "\r\n" is 15..<17; "2;z" is 17..<20.
        #expect(r.map(\.start) == [0, 5, 15, 17])
        #expect(r.map(\.end) == [5, 15, 17, 20])
        #expect(r.map(\.line) == [1, 2, 4, 5])
        #expect(r.map(\.isBlank) == [false, false, true, false])
        #expect(r.allSatisfy { !$0.unclosedQuote })
    }

    @Test("an unclosed quote runs to the end of the stream")
    func unclosed() {
        let r = records("h\n\"abc\nmore\n", delimiter: 44)
        #expect(r.count == 2)
        #expect(r[1].line == 2)
        #expect(r[1].unclosedQuote)
    }

    @Test("a quote in the middle of a field is data")
    func innerQuote() {
        let r = records("5\"2;x\ny\n")
        #expect(r.count == 2)
        #expect(CSVRecordParser.fields(Array("5\"2;x".utf8), delimiter: 59).values == ["5\"2", "x"])
    }

    @Test("fields: RFC 4180 quoting, doubled quotes, empty fields, trailing CRLF", arguments: [
        ("a,b,c\r\n", UInt8(44), ["a", "b", "c"]),
        ("\"a,1\",\"say \"\"hi\"\"\",", 44, ["a,1", "say \"hi\"", ""]),
        (";;", 59, ["", "", ""]),
        ("\"multi\nline\";x", 59, ["multi\nline", "x"]),
        ("\"\"", 59, [""]),
        ("x\ty", 9, ["x", "y"]),
    ])
    func fields(text: String, delimiter: UInt8, expected: [String]) {
        let f = CSVRecordParser.fields(Array(text.utf8), delimiter: delimiter)
        #expect(f.values == expected)
        #expect(!f.unclosedQuote)
    }

    @Test("delimiter detection", arguments: [
        ("id;nome;valor", UInt8(59)), ("id,nome,valor", 44), ("\"a;b\",c,d", 44), ("a\tb\tc", 9), ("solo", 59),
    ])
    func delimiter(header: String, expected: UInt8) {
        #expect(CSVRecordParser.detectDelimiter(headerLine: Array(header.utf8)) == expected)
    }
}

@Suite("Text encodings")
struct EncodingTests {
    @Test("Windows-1252 bytes decode to the characters of the CP1252 table")
    func windows1252() {
        // From Unicode's CP1252.TXT: 0x80 → U+20AC, 0x93/0x94 → U+201C/U+201D, 0xE7 → ç, 0xE3 → ã, 0xC9 → É.
        #expect(TextEncoding.windows1252.decode([0x80]) == "€")
        #expect(TextEncoding.windows1252.decode([0x93, 0x6F, 0x94]) == "“o”")
        #expect(TextEncoding.windows1252.decode([0x61, 0xE7, 0xE3, 0x6F]) == "ação")
        #expect(TextEncoding.windows1252.decode([0xC9]) == "É")
    }

    func validate(_ bytes: [UInt8]) -> Bool {
        var v = UTF8Validator()
        for b in bytes { v.feed(b) }
        return v.isCompleteAndValid
    }

    @Test("UTF-8 validation (cases from Markus Kuhn's UTF-8 decoder stress test)")
    func utf8() {
        #expect(validate(Array("ação €".utf8)))
        #expect(validate([0xF0, 0x9F, 0x98, 0x80])) // U+1F600
        #expect(!validate([0xC0, 0xAF]))             // overlong "/"
        #expect(!validate([0xE0, 0x80, 0xAF]))       // overlong "/"
        #expect(!validate([0xED, 0xA0, 0x80]))       // UTF-16 surrogate U+D800
        #expect(!validate([0xF4, 0x90, 0x80, 0x80])) // above U+10FFFF
        #expect(!validate([0xE2, 0x82]))             // sequence cut short
        #expect(!validate([0x61, 0xE7, 0xE3, 0x6F])) // "ação" in Windows-1252
        #expect(!validate([0xFF]))
    }
}

@Suite("Header names")
struct HeaderTests {
    @Test("aliases match ignoring case, accents, spaces and punctuation", arguments: [
        ("external_id", DebtField.externalID), ("ID Dívida", .externalID), ("debtId", .externalID), ("debt_id", .externalID),
        ("Nome", .name), ("DEVEDOR", .name), ("CPF/CNPJ", .document), ("cpf", .document), ("governmentId", .document),
        ("Valor", .amount), ("debtAmount", .amount), ("Data de Vencimento", .dueDate), ("data_vencimento", .dueDate),
        ("vencimento", .dueDate), ("debtDueDate", .dueDate), ("E-mail", .email), ("Telefone", .phone),
        ("Descrição", .description),
    ])
    func alias(header: String, field: DebtField) {
        #expect(DebtField.matching(header: header) == field)
    }

    @Test("the bankslip seed's header is accepted as it is")
    func bankslipHeader() throws {
        let layout = try StandardLayout.fromHeader(["name", "governmentId", "email", "debtAmount", "debtDueDate", "debtId"]).get()
        #expect(layout.columns == [.name: 0, .document: 1, .email: 2, .amount: 3, .dueDate: 4, .externalID: 5])
    }

    @Test("missing and duplicate columns")
    func problems() {
        #expect(StandardLayout.fromHeader(["nome", "cpf", "valor"]) == .failure(.missingColumns([.externalID, .dueDate])))
        #expect(StandardLayout.fromHeader(["id_divida", "nome", "cpf", "cnpj", "valor", "vencimento"])
            == .failure(.duplicateColumn(.document)))
    }
}
