import EsteiraCore
import Testing

@Suite("Row validation")
struct ValidationTests {
    let validator = DebtValidator(receivedOn: Day(year: 2026, month: 11, day: 22)!)

    func row(id: String = "D1", name: String = "Maria", doc: String = "248.438.034-80", amount: String = "10,00",
             due: String = "01/02/2024", email: String = "", structure: ParsedRow.Structure = .ok) -> ParsedRow {
        ParsedRow(line: 7, structure: structure, externalID: id, name: name, document: TaxID.normalize(doc[...]),
                   amount: amount, dueDate: due, email: email)
    }

    func codes(_ r: ParsedRow) -> [String] {
        guard case .invalid(let issues) = validator.validate(r) else { return [] }
        return issues.map { "\($0.field?.rawValue ?? "-"):\($0.code.rawValue)" }
    }

    @Test("a good row becomes a debt with exact cents")
    func good() throws {
        guard case .valid(let debt) = validator.validate(row(email: "Maria@Example.COM.br")) else {
            Issue.record("expected valid"); return
        }
        #expect(debt.amountCents == 1_000)
        #expect(debt.dueDate == Day(year: 2024, month: 2, day: 1))
        #expect(debt.document.value == "24843803480")
        #expect(debt.email == "maria@example.com.br")
        // The day of receipt itself is accepted.
        guard case .valid = validator.validate(row(due: "22/11/2026")) else { Issue.record("same day refused"); return }
    }

    @Test("each rule names its field and code", arguments: [
        (["id": ""], ["external_id:R001"]),
        (["name": ""], ["name:R001"]),
        (["doc": ""], ["document:R001"]),
        (["doc": "123"], ["document:R002"]),
        (["doc": "248.438.034-70"], ["document:R003"]),
        (["amount": "abc"], ["amount:R004"]),
        (["amount": "0,00"], ["amount:R005"]),
        (["amount": "-3"], ["amount:R005"]),
        (["due": "31/02/2024"], ["due_date:R006"]),
        (["due": "23/11/2026"], ["due_date:R007"]),
        (["email": "a@b"], ["email:R008"]),
        (["id": String(repeating: "x", count: 101)], ["external_id:R011"]),
        (["doc": "", "amount": "", "due": ""], ["document:R001", "amount:R001", "due_date:R001"]),
    ])
    func rules(changes: [String: String], expected: [String]) {
        let r = row(id: changes["id"] ?? "D1", name: changes["name"] ?? "Maria", doc: changes["doc"] ?? "248.438.034-80",
                    amount: changes["amount"] ?? "10,00", due: changes["due"] ?? "01/02/2024", email: changes["email"] ?? "")
        #expect(codes(r) == expected)
    }

    @Test("rows that could not be read are rejected whole")
    func structure() {
        #expect(codes(row(structure: .columnCount(expected: 6, found: 4))) == ["-:R010"])
        #expect(codes(row(structure: .unclosedQuote)) == ["-:R012"])
    }

    @Test("e-mail shapes", arguments: [
        ("maria@example.com", true), ("a.b+c@sub.example.com.br", true), ("a@b", false), ("a@@b.com", false),
        ("a b@c.com", false), (".a@b.com", false), ("a@-b.com", false), ("a@b.c", false), ("a@1.23", false), ("@b.com", false),
    ])
    func email(text: String, ok: Bool) {
        #expect(EmailAddress.isWellFormed(text) == ok)
    }

    @Test("staged records survive the intermediate store unchanged")
    func stagingRoundTrip() throws {
        let cpf = try TaxID.parse("529.982.247-25").get(), cnpj = try TaxID.parse("12.ABC.345/01DE-35").get()
        let records: [StagedRecord] = [
            .debt(line: 2, raw: "D1;Zé;529.982.247-25;10,00;01/02/2024", Debt(
                externalID: "D1", name: "Zé \"Aspas\"\nSilva", document: cpf, amountCents: 1000,
                dueDate: Day(year: 2024, month: 2, day: 1)!, email: nil, phone: "", description: "ç€")),
            .debt(line: 1_000_000, raw: "", Debt(
                externalID: "ç€", name: "Empresa", document: cnpj, amountCents: 9_223_372_036_854_775_807,
                dueDate: Day(year: 1900, month: 1, day: 1)!, email: "a@b.com", phone: nil, description: nil)),
            // Text the registry row escapes: tab, backslash, carriage return, and a literal \N.
            .debt(line: 5, raw: "E\t", Debt(
                externalID: "E\\1\t", name: "\tA\r\nB\\", document: cpf, amountCents: -5,
                dueDate: Day(year: 9999, month: 12, day: 31)!, email: "\\N", phone: "\\\\N", description: "")),
            .rejected(line: 3, raw: "x;y", issues: [
                RowIssue(line: 3, field: nil, code: .columnCount, message: "A linha tem 2 colunas; o cabeçalho tem 5."),
                RowIssue(line: 3, field: .description, code: .tooLong, message: "ç"),
            ]),
            .rejected(line: 4, raw: "", issues: []),
            .correction(line: 6, raw: "A;D1", Debt(
                externalID: "D1", name: "Zé", document: cnpj, amountCents: 1200,
                dueDate: Day(year: 2024, month: 2, day: 1)!, email: nil, phone: nil, description: nil)),
            .withdrawal(line: 7, raw: "B;D1;;;;obito", externalID: "D1", reason: .death),
            .debt(line: 8, raw: "", Debt(
                externalID: "D9", name: "Ana", document: cpf, amountCents: 1,
                dueDate: Day(year: 2024, month: 2, day: 1)!, email: nil, phone: nil, description: nil)),
        ]
        #expect(try StagingCodec.decode(StagingCodec.encode(records)) == records)
        #expect(throws: StagingCodec.DecodeError.self) { try StagingCodec.decode(Array("nope".utf8)) }
        // A file cut short is an error, not a shorter list.
        let whole = StagingCodec.encode(records)
        #expect(throws: StagingCodec.DecodeError.self) { try StagingCodec.decode(Array(whole.dropLast(3))) }
    }

    @Test("operations: I, A, B (or their words, in any case; empty is I); a withdrawal reads only its id and reason")
    func operations() throws {
        let validator = DebtValidator(receivedOn: Day(year: 2026, month: 12, day: 6)!)
        func row(_ operation: String, _ reason: String = "", name: String = "Ana") -> ParsedRow {
            var row = ParsedRow(line: 2, externalID: "D1", name: name, document: "24843803480", amount: "10,00", dueDate: "2026-11-06")
            row.operation = operation
            row.withdrawalReason = reason
            return row
        }
        let debt = Debt(externalID: "D1", name: "Ana", document: try TaxID.parse("248.438.034-80").get(), amountCents: 1000,
                        dueDate: Day(year: 2026, month: 11, day: 6)!, email: nil, phone: nil, description: nil)
        for inclusion in ["", "I", "i", "Inclusão"] { #expect(validator.validate(row(inclusion)) == .valid(debt)) }
        for correction in ["A", "a", "ALTERAÇÃO", "correcao"] { #expect(validator.validate(row(correction)) == .correction(debt)) }
        // A withdrawal ignores the other fields, even an empty name; the reason as a person writes it.
        #expect(validator.validate(row("B", "Pago ao credor", name: "")) == .withdrawal(externalID: "D1", reason: .paidToCreditor))
        #expect(validator.validate(row("baixa", "ÓBITO")) == .withdrawal(externalID: "D1", reason: .death))
        func codes(_ r: ParsedRow) -> [String] {
            guard case .invalid(let issues) = validator.validate(r) else { return [] }
            return issues.map { "\($0.field?.rawValue ?? ""):\($0.code.rawValue)" }
        }
        #expect(codes(row("X")) == ["operation:R018"])
        #expect(codes(row("B")) == ["withdrawal_reason:R019"])
        #expect(codes(row("B", "cansei")) == ["withdrawal_reason:R019"])
        // A correction is a whole debt: its required fields are required.
        #expect(codes(row("A", name: "")) == ["name:R001"])
    }

    @Test("retry waits grow exponentially up to the cap")
    func retry() {
        let p = RetryPolicy(maxAttempts: 5, baseSeconds: 1, capSeconds: 10)
        #expect([1, 2, 3, 4, 5].map { p.ceiling(afterAttempt: $0) } == [1, 2, 4, 8, 10])
        #expect(p.delay(afterAttempt: 3, unit: 0.5) == 2)
    }
}
