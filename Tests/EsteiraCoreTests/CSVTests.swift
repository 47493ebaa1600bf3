import EsteiraTestSupport
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

    /// The scanner's rules, byte by byte as its documentation states them: the reference that the
    /// word-at-a-time scanner must match.
    static func referenceRecords(_ bytes: [UInt8], delimiter: UInt8) -> [CSVScanner.Record] {
        var out: [CSVScanner.Record] = []
        var inQuotes = false, atFieldStart = true, afterQuote = false
        var start = 0, line = 1, startLine = 1, hasBytes = false
        for (i, c) in bytes.enumerated() {
            if c == 10 && inQuotes && !afterQuote { line += 1; continue }
            if c == 10 {
                out.append(.init(start: start, end: i + 1, line: startLine, isBlank: !hasBytes, unclosedQuote: false))
                line += 1; start = i + 1; startLine = line; hasBytes = false
                inQuotes = false; afterQuote = false; atFieldStart = true
                continue
            }
            if c == 13 { continue }
            hasBytes = true
            if inQuotes && !afterQuote {
                if c == 34 { afterQuote = true }
            } else if inQuotes && afterQuote {
                // `""` inside quotes is one quote; anything else closes the quoted field.
                if c == 34 { afterQuote = false } else { inQuotes = false; afterQuote = false; atFieldStart = c == delimiter }
            } else if atFieldStart {
                if c == 34 { inQuotes = true } else if c != delimiter { atFieldStart = false }
            } else if c == delimiter {
                atFieldStart = true
            }
        }
        if bytes.count > start {
            out.append(.init(start: start, end: bytes.count, line: startLine, isBlank: !hasBytes,
                             unclosedQuote: inQuotes && !afterQuote))
        }
        return out
    }

    @Test("the scanner finds the same records as a byte-by-byte reading of its rules, on random text in any chunks")
    func scannerMatchesReference() {
        var rng = SplitMix(seed: 42)
        // Heavy in the bytes that matter, with runs of plain text long enough for the fast path.
        let pieces: [[UInt8]] = [Array("abcdefghijkl".utf8), Array("x".utf8), [59], [44], [34], [10], [13, 10], [13],
                                 Array("Número".utf8), Array("\"\"".utf8)]
        for round in 0..<400 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(rng.next() % 60) { bytes += pieces[Int(rng.next() % UInt64(pieces.count))] }
            let delimiter: UInt8 = round % 2 == 0 ? 59 : 44
            let expected = Self.referenceRecords(bytes, delimiter: delimiter)
            for size in [1, 5, 8, 9, 64, 100_000] {
                var scanner = CSVScanner(delimiter: delimiter)
                var got: [CSVScanner.Record] = []
                var i = 0
                while i < bytes.count {
                    scanner.feed(Array(bytes[i..<min(i + size, bytes.count)])) { got.append($0) }
                    i += size
                }
                scanner.finish { got.append($0) }
                #expect(got == expected, "chunk \(size): \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            }
        }
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

    /// The same, through the chunk reader (eight bytes at a time where it can), in chunks of `size`.
    func validateInChunks(_ bytes: [UInt8], size: Int) -> (valid: Bool, sawNUL: Bool) {
        var v = UTF8Validator()
        var nul = false
        var i = 0
        while i < bytes.count {
            let part = Array(bytes[i..<min(i + size, bytes.count)])
            if part.withUnsafeBufferPointer({ v.feed($0) }) { nul = true }
            i += size
        }
        return (v.isCompleteAndValid, nul)
    }

    @Test("UTF-8 validation read eight bytes at a time agrees with the standard library on random bytes")
    func utf8InChunks() {
        var rng = SplitMix(seed: 7)
        // Mostly ASCII with some multi-byte characters, and now and then a byte that breaks them.
        let pieces: [[UInt8]] = [Array("Devedor Número ".utf8), Array("ação".utf8), Array("€".utf8), Array("😀".utf8),
                                 [0xE2, 0x82], [0xFF], [0xC3], [0x00], Array("0123456789abcdef;".utf8)]
        for _ in 0..<500 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(rng.next() % 40) {
                let k = Int(rng.next() % 100)
                bytes += k < 70 ? pieces[8] : k < 80 ? pieces[0] : k < 85 ? pieces[1] : k < 88 ? pieces[2]
                    : k < 91 ? pieces[3] : k < 94 ? pieces[4] : k < 96 ? pieces[5] : k < 98 ? pieces[6] : pieces[7]
            }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            for size in [1, 7, 8, 13, 4096] {
                let got = validateInChunks(bytes, size: size)
                #expect(got.valid == expected, "chunk \(size): \(bytes)")
                #expect(got.sawNUL == bytes.contains(0))
            }
        }
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
