import EsteiraCore
import EsteiraTestSupport
import Testing

/// `InPlaceRecord` must stage exactly what the general way stages (`CSVRecordParser`, `ParsedRow`,
/// `DebtValidator`, `StagingCodec.Encoder.debt(line:raw:_:)`), which the other suites test against
/// published vectors and hand-computed values: the general way is the independent reference here.
@Suite("Records staged in place")
struct InPlaceRecordTests {
    static let receivedOn = Day(year: 2026, month: 11, day: 22)!

    /// What each way makes of one record: the staging bytes, and whether the in-place way took it.
    struct Outcome {
        var inPlace: Bool
        var inPlaceBytes: [UInt8]
        var generalValid: Bool
        var generalBytes: [UInt8]
    }

    static func outcome(_ record: String, header: [String], delimiter: UInt8 = UInt8(ascii: ";"),
                        validator: DebtValidator = DebtValidator(receivedOn: receivedOn)) throws -> Outcome {
        let positions = try StandardLayout.fromHeader(header).get().positions
        var fast = StagingCodec.Encoder(capacity: 256), general = StagingCodec.Encoder(capacity: 256)
        var raw = record
        return raw.withUTF8 { bytes in
            let taken = InPlaceRecord.stageDebt(bytes, line: 42, delimiter: delimiter, positions: positions,
                                                validator: validator, into: &fast)
            let row = ParsedRow(line: 42, fields: CSVRecordParser.fields(bytes, delimiter: delimiter, encoding: .utf8),
                                layout: positions)
            var valid = false
            switch validator.validate(row) {
            case .valid(let debt):
                valid = true
                general.debt(line: 42, raw: bytes, debt)
            case .correction(let debt):
                valid = true
                general.debt(line: 42, raw: bytes, debt, correction: true)
            case .withdrawal(let id, let reason):
                valid = true
                general.withdrawal(line: 42, raw: bytes, externalID: id, reason: reason)
            case .invalid: break
            }
            return Outcome(inPlace: taken, inPlaceBytes: fast.bytes, generalValid: valid, generalBytes: general.bytes)
        }
    }

    static let standard = ["id_divida", "nome", "cpf", "valor", "vencimento", "email"]

    @Test("a plain valid record is staged in place, byte for byte as the general way stages it", arguments: [
        "D1;Maria;248.438.034-80;10,00;01/02/2024;maria@example.com",
        "DEBT-00000007;Devedor Número 7;24843803480;1.234,56;2024-02-01;",
        // Spaces around fields, a lower-case alphanumeric CNPJ (normalized to 12ABC34501DE35).
        "  D2\t; José da Silva ;12.abc.345/01de-35; R$ 99,90 ; 22/11/2026 ;jose.silva+x@sub.example.com.br ",
        "D3;Empresa;11.222.333/0001-81;5;31/12/2025;",
    ])
    func plain(record: String) throws {
        let o = try Self.outcome(record, header: Self.standard)
        #expect(o.inPlace)
        #expect(o.generalValid)
        #expect(o.inPlaceBytes == o.generalBytes)
    }

    @Test("with an operation column: an inclusion, a correction or a withdrawal with a listed reason, by its letter, is staged in place as the general way stages it; a word or another spelling is left to it",
          arguments: [("I;D1;Maria;248.438.034-80;10,00;01/02/2024;", true), ("a;D1;Maria;248.438.034-80;10,00;01/02/2024;", true),
                      (";D1;Maria;248.438.034-80;10,00;01/02/2024;", true), ("B;D1;;;;;obito", true),
                      ("b; D1 ;Maria;;;; pago_ao_credor ", true), ("B;D1;;;;;Óbito", false), ("B;D1;;;;;", false), ("B;;;;;;obito", false),
                      ("alteracao;D1;Maria;248.438.034-80;10,00;01/02/2024;", false)])
    func operations(record: String, inPlace: Bool) throws {
        let o = try Self.outcome(record, header: ["operacao", "id_divida", "nome", "cpf", "valor", "vencimento", "motivo_baixa"])
        #expect(o.inPlace == inPlace)
        if inPlace { #expect(o.inPlaceBytes == o.generalBytes) }
    }

    @Test("anything else is left to the general way, whatever it makes of it", arguments: [
        // Valid, but not plain: a quote, a capital in the e-mail, a trailing delimiter, a name of
        // 150 two-byte characters (300 bytes against a maximum of 200 characters).
        ("D1;\"Maria\";248.438.034-80;10,00;01/02/2024;", true),
        ("D1;Zé \"Aspas\";248.438.034-80;10,00;01/02/2024;", true),
        ("D1;Maria;248.438.034-80;10,00;01/02/2024;Maria@Example.com", true),
        ("D1;Maria;248.438.034-80;10,00;01/02/2024;;", true),
        ("D1;\(String(repeating: "é", count: 150));248.438.034-80;10,00;01/02/2024;", true),
        // Invalid: check digit, amount, day after receipt, impossible day, e-mail, missing column.
        ("D1;Maria;248.438.034-70;10,00;01/02/2024;", false),
        ("D1;Maria;248.438.034-80;0,00;01/02/2024;", false),
        ("D1;Maria;248.438.034-80;10,00;23/11/2026;", false),
        ("D1;Maria;248.438.034-80;10,00;31/02/2024;", false),
        ("D1;Maria;248.438.034-80;10,00;01/02/2024;a@b", false),
        ("D1;Maria;248.438.034-80;10,00;01/02/2024", false),
        (";Maria;248.438.034-80;10,00;01/02/2024;", false),
    ])
    func declined(record: String, generalValid: Bool) throws {
        let o = try Self.outcome(record, header: Self.standard)
        #expect(!o.inPlace)
        #expect(o.inPlaceBytes == StagingCodec.Encoder(capacity: 0).bytes, "nothing written when declined")
        #expect(o.generalValid == generalValid)
    }

    /// Thousands of records built from pieces that are each plain or not, valid or not, under
    /// layouts, delimiters and value formats: whenever the in-place way takes a record, the general
    /// way finds it valid and stages the same bytes.
    @Test("random records: the in-place way never disagrees with the general way")
    func random() throws {
        let ids = ["D1", " D2 ", "DEBT-00000001", "", String(repeating: "x", count: 101), "ç-1", "a\rb"]
        let names = ["Maria", "Devedor Número 7", "  José da Silva\t", "", String(repeating: "é", count: 150), "O'Brien"]
        let documents = ["248.438.034-80", "24843803480", "248.438.034-70", "12.ABC.345/01DE-35", "12abc34501de35",
                         "11.222.333/0001-81", "123", "", " 529.982.247-25 ", "111.111.111-11", "5299822472500000000"]
        let amounts = ["10,00", "1.234,56", "1,234.56", "R$ 10,50", "-3", "0", "12.345", "1,5", "abc", "", " 99 ",
                       "1234.567", "+7", "1.234.567,89"]
        let dueDates = ["01/02/2024", "2024-02-01", "31/02/2024", "23/11/2026", "22/11/2026", "", " 2024-12-31 ", "20240201"]
        let emails = ["", "maria@example.com", "Maria@Example.com", "a@b", "jose.silva+x@sub.example.com.br", "é@example.com"]
        let phones = ["", "+55 11 99999-0000", " 11 3333-4444 "]
        let descriptions = ["", "Parcela 1/3", "ç€", "\t"]
        let layouts: [([String], [KeyPath<Pieces, String>])] = [
            (Self.standard, [\.id, \.name, \.document, \.amount, \.dueDate, \.email]),
            (["descricao", "valor", "external_id", "telefone", "vencimento", "documento", "nome", "email"],
             [\.description, \.amount, \.id, \.phone, \.dueDate, \.document, \.name, \.email]),
        ]
        let validators = [
            DebtValidator(receivedOn: Self.receivedOn),
            DebtValidator(receivedOn: Self.receivedOn, dateFormat: .dayMonthYear, decimalFormat: .comma),
            DebtValidator(receivedOn: Self.receivedOn, dateFormat: .yearMonthDay, decimalFormat: .dot),
        ]
        var random = SplitMix(seed: 20_261_124)
        var taken = 0, valid = 0
        for _ in 0..<10_000 {
            // Each list starts with a plain valid piece, taken half the time: else every record
            // would have some fault, and the in-place way would have nothing to take.
            func pick(_ pieces: [String]) -> String {
                Bool.random(using: &random) ? pieces[0] : pieces.randomElement(using: &random)!
            }
            let pieces = Pieces(id: pick(ids), name: pick(names), document: pick(documents), amount: pick(amounts),
                                dueDate: pick(dueDates), email: pick(emails), phone: pick(phones),
                                description: pick(descriptions))
            let (header, order) = layouts.randomElement(using: &random)!
            let delimiter = [";", ",", "\t"].randomElement(using: &random)!
            var record = order.map { pieces[keyPath: $0] }.joined(separator: delimiter)
            switch Int.random(in: 0..<12, using: &random) {
            case 0: record += delimiter
            case 1: record = "\"" + record
            default: break
            }
            let o = try Self.outcome(record, header: header, delimiter: UInt8(ascii: delimiter.unicodeScalars.first!),
                                     validator: validators.randomElement(using: &random)!)
            if o.generalValid { valid += 1 }
            guard o.inPlace else {
                #expect(o.inPlaceBytes == StagingCodec.Encoder(capacity: 0).bytes, "\(record)")
                continue
            }
            taken += 1
            #expect(o.generalValid, "\(record)")
            #expect(o.inPlaceBytes == o.generalBytes, "\(record)")
        }
        // Not vacuous: a good share of the records are valid, and most of those are plain.
        #expect(valid > 1_000, "valid: \(valid), taken: \(taken)")
        #expect(taken > valid / 3)
    }

    struct Pieces {
        var id, name, document, amount, dueDate, email, phone, description: String
    }
}
