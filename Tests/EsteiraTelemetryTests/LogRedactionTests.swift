import EsteiraCore
import Testing

@Suite("Logs: whole CPFs and CNPJs are masked, trace ids are not")
struct LogRedactionTests {
    @Test("documents keep two characters at each end; the middle is starred (11 → 2 + 7 + 2, 14 → 2 + 10 + 2)")
    func documents() {
        #expect(TaxID.redactingDocuments(in: "52998224725") == "52*******25")
        #expect(TaxID.redactingDocuments(in: "cpf 529.982.247-25 recusado") == "cpf 52*******25 recusado")
        #expect(TaxID.redactingDocuments(in: "11.222.333/0001-81") == "11**********81")
        // The alphanumeric CNPJ of 2026 (shared/BRAZIL.md).
        #expect(TaxID.redactingDocuments(in: "12ABC34501DE35") == "12**********35")
        #expect(TaxID.redactingDocuments(in: "52998224725@example.com") == "52*******25@example.com")
    }

    @Test("a trace id whose digits include a run of exactly 11 stays whole")
    func traceIDs() {
        // 32 lowercase hex digits; "93141592687" is a run of 11 decimal digits between letters,
        // which was starred before.
        let trace = "c0912dd93141592687d05eac7428c4ab"
        #expect(TaxID.redactingDocuments(in: trace) == trace)
        #expect(TaxID.redactingDocuments(in: "trace \(trace) done") == "trace \(trace) done")
        let span = "ab93141592687cde"
        #expect(TaxID.redactingDocuments(in: span) == span)
        // The same run of digits standing alone is a CPF's shape, and is masked.
        #expect(TaxID.redactingDocuments(in: "x 93141592687 y") == "x 93*******87 y")
    }

    @Test("a batch id (a UUID) whose digits make a CPF's shape across its groups stays whole")
    func uuids() {
        // In "f481-2345-6712" the tokens 481, 2345 and 6712 (the f is no token) are 11 digits
        // joined by single hyphens: a CPF's shape. A benchmark's debug log showed this batch id as
        // 013b9038-f48*******12-d6b3e9207819, and no line of the batch could be found by its id.
        let id = "013b9038-f481-2345-6712-d6b3e9207819"
        #expect(TaxID.redactingDocuments(in: id) == id)
        #expect(TaxID.redactingDocuments(in: "lote \(id) concluído") == "lote \(id) concluído")
        #expect(TaxID.redactingDocuments(in: "/v1/batches/\(id)/rejects") == "/v1/batches/\(id)/rejects")
        let upper = id.uppercased()
        #expect(TaxID.redactingDocuments(in: upper) == upper)
        // A document beside it is still masked, and one glued to it is no UUID's shape.
        #expect(TaxID.redactingDocuments(in: "\(id) 529.982.247-25") == "\(id) 52*******25")
        #expect(TaxID.redactingDocuments(in: "9038-f481-2345-6712") == "9038-f48*******12")
    }

    @Test("the hostile tester's bypasses: percent-encoded separators, spaces, a document inside a file name")
    func bypasses() {
        #expect(TaxID.redactingDocuments(in: "document=248.438.034%2D80") == "document=24*******80")
        #expect(TaxID.redactingDocuments(in: "document=248%2E438%2E034-80&page=1") == "document=24*******80&page=1")
        #expect(TaxID.redactingDocuments(in: "document=248 438 034 80") == "document=24*******80")
        #expect(TaxID.redactingDocuments(in: "document=248+438+034+80") == "document=24*******80")
        #expect(TaxID.redactingDocuments(in: "file_name=cobranca-20241201-24843803480.csv") == "file_name=cobranca-20241201-24*******80.csv")
        #expect(TaxID.redactingDocuments(in: "/v1/debts?document=11.222.333%2F0001-81") == "/v1/debts?document=11**********81")
        #expect(TaxID.redactingDocuments(in: "lote_24843803480_final") == "lote_24*******80_final")
        // What is not a document stays: a date, a time, an amount, a batch id.
        let plain = "2026-12-06 10:20:30 R$ 1.234,56 id 6f0c1234-aaaa-4bbb-8ccc-1234567890ab"
        #expect(TaxID.redactingDocuments(in: plain) == plain)
    }
}
