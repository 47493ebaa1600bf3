import EsteiraCore
@testable import EsteiraStore
import Foundation
import Testing

@Suite("A ledger request's result and webhook, as published")
struct LedgerRequestPayloadTests {
    /// Written by hand from docs/ledger.md's webhook: the event, then the request's id, state and
    /// entries (or issues), keys sorted.
    @Test("posted: the entry's amount in reais and cents, its side, day and the balance after it")
    func posted() throws {
        let draft = LedgerEntryDraft(branch: "0001", account: "1-2", amountCents: 4_000, side: .credit, eventCode: "PAGAMENTO",
                                     description: "Pagamento", traceKey: "7e57ab1e-0000-4000-8000-000000000001", details: nil,
                                     referenceDate: Day(year: 2026, month: 3, day: 2)!)
        let entry = PostedEntry(id: 7, entry: draft, createdAt: Date(), balanceAfterCents: 4_250)
        let event = LedgerRequestEvent(event: "ledger.posted", id: "req-1", state: "posted", outcome: .posted([entry]))
        #expect(try JSONText.encoded(event) == #"{"event":"ledger.posted","request":{"entries":[{"account":"1-2","amount":"40.00","amount_cents":4000,"balance_after":"42.50","branch":"0001","event_code":"PAGAMENTO","id":7,"reference_date":"2026-03-02","side":"C","trace_key":"7e57ab1e-0000-4000-8000-000000000001"}],"id":"req-1","state":"posted"}}"#)
    }

    @Test("rejected: each refusal with its index, field and code")
    func rejected() throws {
        let issue = LedgerIssue(index: 1, field: "trace_key", rule: .traceKeyReused, message: "m")
        let event = LedgerRequestEvent(event: "ledger.rejected", id: "req-2", state: "rejected", outcome: .rejected([issue]))
        #expect(try JSONText.encoded(event) == #"{"event":"ledger.rejected","request":{"id":"req-2","issues":[{"code":"L008","field":"trace_key","index":1,"message":"m"}],"state":"rejected"}}"#)
    }

    @Test("stored entries round-trip; entries that do not read, or an unknown side, are an error naming the request")
    func stored() throws {
        let draft = LedgerEntryDraft(branch: "0001", account: "1-2", amountCents: 1, side: .debit, eventCode: "E", description: "d",
                                     traceKey: "t", details: #"{"n":1}"#, referenceDate: Day(year: 2026, month: 1, day: 31)!)
        #expect(try LedgerRequests.decode(LedgerRequests.encode([draft])) == [draft])
        let unknownSide = try LedgerRequests.encode([draft]).replacingOccurrences(of: #""side":"D""#, with: #""side":"X""#)
        for text in ["ilegível", unknownSide] {
            #expect(throws: SQLError.self) { try LedgerRequests.decode(text, request: "req-3") }
            do { _ = try LedgerRequests.decode(text, request: "req-3") } catch { #expect("\(error)".contains("req-3"), "\(error)") }
        }
    }
}
