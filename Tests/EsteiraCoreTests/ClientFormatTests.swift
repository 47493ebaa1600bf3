@testable import EsteiraCore
import Testing

@Suite("Client formats: column mappings, date and decimal formats")
struct ClientFormatTests {
    @Test("explicit decimal formats settle what auto cannot")
    func decimals() {
        func cents(_ s: String, _ f: DecimalFormat) -> Int64? { try? Money.parseCents(s[...], format: f).get() }
        // comma: 1.234 is one thousand two hundred and thirty-four reais, 1.234,5 adds fifty cents.
        #expect(cents("1.234", .comma) == 123_400)
        #expect(cents("1.234,5", .comma) == 123_450)
        #expect(cents("R$ 1.234.567,89", .comma) == 123_456_789)
        #expect(cents("-0,01", .comma) == -1)
        #expect(cents("1234.56", .comma) == nil)    // a dot must group three digits
        #expect(cents("1,234", .comma) == nil)      // three decimals
        // dot: the mirror image.
        #expect(cents("1,234.56", .dot) == 123_456)
        #expect(cents("1,234", .dot) == 123_400)
        #expect(cents("1.234", .dot) == nil)
        #expect(cents("12,34", .dot) == nil)
        // implied cents: digits only, the last two are cents.
        #expect(cents("000000123456", .impliedCents) == 123_456)
        #expect(cents("5", .impliedCents) == 5)
        #expect(cents("12.34", .impliedCents) == nil)
        #expect(cents("9999999999999999", .impliedCents) == nil) // past Money.maxCents
        #expect(Money.parseCents("1,234"[...], format: .dot) == .success(123_400))
        #expect(Money.parseCents("1,234"[...], format: .comma) == .failure(.tooManyDecimals))
    }

    @Test("date formats read only their own shape")
    func dates() {
        let day = Day(year: 2024, month: 3, day: 5)
        #expect(DateFormat.dayMonthYear.parse("05/03/2024") == day)
        #expect(DateFormat.dayMonthYear.parse("2024-03-05") == nil)
        #expect(DateFormat.yearMonthDay.parse(" 2024-03-05 ") == day)
        #expect(DateFormat.dayMonthYearCompact.parse("05032024") == day)
        #expect(DateFormat.yearMonthDayCompact.parse("20240305") == day)
        #expect(DateFormat.yearMonthDayCompact.parse("20240230") == nil)
        #expect(DateFormat.auto.parse("05/03/2024") == day)
    }

    @Test("a mapping finds its columns by name, whatever the case and accents")
    func layout() throws {
        let format = ClientFormat(columns: [.externalID: "Código", .name: "Cliente", .document: "CPF do devedor",
                                            .amount: "Valor Original", .dueDate: "Vencimento"],
                                  dateFormat: .dayMonthYear, decimalFormat: .comma)
        #expect(format.problems.isEmpty)
        let header = ["E-mail", "VENCIMENTO", "valor original", "cpf do devedor", "cliente", "codigo"]
        let layout = try format.layout(header: header).get()
        #expect(layout.columns == [.externalID: 5, .name: 4, .document: 3, .amount: 2, .dueDate: 1])
        #expect(layout.dateFormat == .dayMonthYear && layout.decimalFormat == .comma)
        #expect(format.layout(header: ["Código", "Cliente"]) == .failure(.columnNotFound(.document, header: "CPF do devedor")))
        let twice = ClientFormat(columns: [.externalID: "A", .name: "A", .document: "B", .amount: "C", .dueDate: "D"])
        #expect(twice.problems == ["A coluna A foi escolhida para identificador da dívida (external_id) e para nome."])
        #expect(ClientFormat(columns: [.externalID: "A"]).problems.count == 4)
    }

    @Test("suggestions from header names: exact names first, then names that start with a known one or a creditor's word, then typos")
    func suggestions() {
        let header = ["Código", "Nome do devedor", "CPF do devedor", "Valor Original", "Data de Vencimento", "E-mail", "Obs"]
        let s = ClientFormat.suggestion(header: header)
        #expect(s[.name] == 1)
        #expect(s[.document] == 2)        // not the name: `cpf` starts the header, `devedor` is inside it
        #expect(s[.amount] == 3)
        #expect(s[.dueDate] == 4)
        #expect(s[.email] == 5)
        #expect(s[.externalID] == 0)      // `Código`: a creditor's word for its debt's id
        #expect(s[.description] == 6)     // `Obs`
        #expect(ClientFormat.suggestion(header: ["external_id", "name", "document", "amount", "due_date"]).count == 5)

        // Written as a small creditor writes it (issue 33): every required field found.
        let creditor = ClientFormat.suggestion(header: ["Contrato", "Cliente", "CPF do devedor", "Saldo (R$)", "Data Venc."])
        #expect(creditor == [.externalID: 0, .name: 1, .document: 2, .amount: 3, .dueDate: 4])
        let other = ClientFormat.suggestion(header: ["Débito", "Devedor", "Vencimeto", "CNPJ", "Operação", "Motivo da baixa"])
        #expect(other == [.amount: 0, .name: 1, .dueDate: 2, .document: 3, .operation: 4, .withdrawalReason: 5])
        #expect(ClientFormat.withinOneEdit("vencimeto", "vencimento") && ClientFormat.withinOneEdit("vencimentos", "vencimento")
                && ClientFormat.withinOneEdit("vencimenta", "vencimento") && !ClientFormat.withinOneEdit("venc", "vencimento"))
    }
}

@Suite("Positional (fixed-width) formats")
struct FixedWidthTests {
    let fields = [FixedWidthField(.externalID, start: 2, length: 10), FixedWidthField(.name, start: 12, length: 30),
                  FixedWidthField(.document, start: 42, length: 14), FixedWidthField(.amount, start: 56, length: 13),
                  FixedWidthField(.dueDate, start: 69, length: 8)]

    @Test("a line is cut by character positions; a short line leaves the fields past its end empty")
    func slicing() {
        // Column ruler: "1" is position 1; "T-1" starts at 2; the name at 12 (accents are one character each).
        let line = "1" + "T-1".padding(toLength: 10, withPad: " ", startingAt: 0)
            + "João Conceição".padding(toLength: 30, withPad: " ", startingAt: 0) + "52998224725   " + "0000000123456" + "15032024"
        let v = FixedWidthField.values(of: line, fields)
        #expect(v[.externalID] == "T-1       ")
        #expect(v[.name]?.trimmingCharacters(in: .whitespaces) == "João Conceição")
        #expect(v[.document] == "52998224725   ")
        #expect(v[.amount] == "0000000123456")
        #expect(v[.dueDate] == "15032024")
        let short = FixedWidthField.values(of: "1T-9", fields)
        #expect(short[.externalID] == "T-9" && short[.name] == "" && short[.dueDate] == "")
    }

    @Test("a positional format lists what is wrong with it")
    func problems() {
        #expect(ClientFormat(fixedWidth: fields).problems.isEmpty)
        let overlapping = fields + [FixedWidthField(.email, start: 70, length: 5)]
        #expect(ClientFormat(fixedWidth: overlapping).problems == ["Os campos due_date e email se sobrepõem (posições 69–76 e 70–74)."])
        #expect(ClientFormat(fixedWidth: Array(fields.dropLast())).problems == ["Informe a posição do campo data de vencimento."])
        #expect(ClientFormat(fixedWidth: fields + [FixedWidthField(.phone, start: 200, length: 0)]).problems.count == 1)
    }

    @Test("in lines mode a quote is data: each line is one record")
    func linesMode() {
        var scanner = CSVScanner.lines()
        var lines: [Int] = []
        let text = Array("1\"open\n2 no close\" here\n\n3\r\n4".utf8)
        scanner.feed(text) { if !$0.isBlank { lines.append($0.line) } }
        scanner.finish { if !$0.isBlank { lines.append($0.line) } }
        #expect(lines == [1, 2, 4, 5])
    }
}
