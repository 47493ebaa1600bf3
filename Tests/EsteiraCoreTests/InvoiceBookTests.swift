import EsteiraCore
import Testing

/// The book as of R = 2026-11-01, worked by hand. Windows: U1M takes due dates after 2026-10-01,
/// U3M after 2026-08-01, U6M after 2026-05-01, U12M after 2025-11-01; none after R.
///
/// | invoice | customer | due | amount | payments (those after R do not count) | by R |
/// | --- | --- | --- | --- | --- | --- |
/// | A1 | C1 | 10-10 | 100.00 | 10-09 100.00 | on time |
/// | A2 | C1 | 10-20 | 200.00 | 10-15 50.00, 10-25 150.00 | paid 10-25: 5 days late |
/// | A3 | C2 | 10-05 |  80.00 | 10-30 30.00, (11-05 50.00) | delinquent, 50.00 open, 27 days (10-05 → 11-01) |
/// | A4 | C2 | 09-15 |  40.00 | — | delinquent, 40.00 open, 47 days (09-15 → 11-01) |
/// | A5 | C1 | 11-02 | 999.00 | — | after R: in no window |
/// | A6 | C3 | 10-01 |  10.00 | 09-30 10.00 | on time; 10-01 is not after R − 1 month: U3M on |
/// | A7 | C3 | 03-15 |  20.00 | 03-10 20.00 | on time; U12M only |
@Suite("The invoice book, by hand")
struct InvoiceBookTests {
    static func day(_ m: Int, _ d: Int) -> Day { Day(year: 2026, month: m, day: d)! }
    static let invoices = [
        InvoiceBook.Invoice(id: "A1", customer: "C1", due: day(10, 10), amountCents: 10_000),
        .init(id: "A2", customer: "C1", due: day(10, 20), amountCents: 20_000),
        .init(id: "A3", customer: "C2", due: day(10, 5), amountCents: 8_000),
        .init(id: "A4", customer: "C2", due: day(9, 15), amountCents: 4_000),
        .init(id: "A5", customer: "C1", due: day(11, 2), amountCents: 99_900),
        .init(id: "A6", customer: "C3", due: day(10, 1), amountCents: 1_000),
        .init(id: "A7", customer: "C3", due: day(3, 15), amountCents: 2_000),
    ]
    static let payments = [
        InvoiceBook.Payment(invoiceID: "A1", date: day(10, 9), amountCents: 10_000),
        .init(invoiceID: "A2", date: day(10, 25), amountCents: 15_000),
        .init(invoiceID: "A2", date: day(10, 15), amountCents: 5_000),
        .init(invoiceID: "A3", date: day(10, 30), amountCents: 3_000),
        .init(invoiceID: "A3", date: day(11, 5), amountCents: 5_000),
        .init(invoiceID: "A6", date: day(9, 30), amountCents: 1_000),
        .init(invoiceID: "A7", date: day(3, 10), amountCents: 2_000),
    ]
    static let book = InvoiceBook.compute(invoices: invoices, payments: payments, reference: day(11, 1))

    static func portfolio(_ w: InvoiceBook.Window) -> InvoiceBook.PortfolioRow { book.portfolio.first { $0.window == w }! }

    @Test("U1M, the portfolio: A1, A2, A3")
    func u1m() {
        let p = Self.portfolio(.u1m)
        var v = InvoiceBook.Variables()
        v.totalFaturas = 3
        v.valorTotalFaturas = 38_000            // 100 + 200 + 80
        v.valorMedioFaturas = 12_667            // 380 / 3 = 126.666… → 126.67
        v.totalPagamentos = 4                   // A1 one, A2 two, A3 one (the 11-05 one is after R)
        v.valorTotalPagamentos = 33_000         // 100 + 50 + 150 + 30
        v.valorMedioPagamentos = 8_250          // 330 / 4
        v.percentualPagamentoPrazo = 3_333      // A1: 1/3
        v.totalAtrasos = 1                      // A2
        v.percentualAtrasos = 3_333
        v.percentualInadimplencia = 3_333       // A3
        v.mediaDiasAtraso = 1_600               // (5 + 27) / 2 = 16.00
        v.maxDiasAtraso = 27
        v.valorInadimplente = 5_000             // 80 − 30
        v.percentualValorPago = 8_684           // 330 / 380 = 0.86842… → 0.8684
        #expect(p.variables == v)
        #expect(p.totalClientes == 2 && p.mediaFaturaPorCliente == 19_000 && p.mediaPagamentoPorCliente == 16_500) // C1, C2: 380/2, 330/2
    }

    @Test("U3M and U6M, the portfolio: A1, A2, A3, A4, A6; U12M adds A7")
    func wider() {
        for w in [InvoiceBook.Window.u3m, .u6m] {
            let v = Self.portfolio(w).variables
            #expect(v.totalFaturas == 5 && v.valorTotalFaturas == 43_000 && v.valorMedioFaturas == 8_600)
            #expect(v.totalPagamentos == 5 && v.valorTotalPagamentos == 34_000 && v.valorMedioPagamentos == 6_800)
            #expect(v.percentualPagamentoPrazo == 4_000 && v.totalAtrasos == 1 && v.percentualAtrasos == 2_000)   // A1, A6; A2
            #expect(v.percentualInadimplencia == 4_000)                                                        // A3, A4
            #expect(v.mediaDiasAtraso == 2_633 && v.maxDiasAtraso == 47)                                       // (5 + 27 + 47) / 3 = 26.33
            #expect(v.valorInadimplente == 9_000 && v.percentualValorPago == 7_907)                            // 50 + 40; 340 / 430 = 0.79069…
        }
        let v = Self.portfolio(.u12m).variables
        #expect(v.totalFaturas == 6 && v.valorTotalFaturas == 45_000 && v.valorMedioFaturas == 7_500)
        #expect(v.totalPagamentos == 6 && v.valorTotalPagamentos == 36_000 && v.valorMedioPagamentos == 6_000)
        #expect(v.percentualPagamentoPrazo == 5_000 && v.percentualAtrasos == 1_667 && v.percentualInadimplencia == 3_333)
        #expect(v.percentualValorPago == 8_000 && Self.portfolio(.u12m).totalClientes == 3)
    }

    @Test("per customer: C1 and C2 in U1M; C3 has no invoice in U1M, a row of zeros and nils")
    func customers() {
        func row(_ c: String, _ w: InvoiceBook.Window) -> InvoiceBook.Variables {
            Self.book.customers.first { $0.customer == c && $0.window == w }!.variables
        }
        let c1 = row("C1", .u1m)
        #expect(c1.totalFaturas == 2 && c1.valorTotalFaturas == 30_000 && c1.valorMedioFaturas == 15_000)
        #expect(c1.totalPagamentos == 3 && c1.valorTotalPagamentos == 30_000 && c1.valorMedioPagamentos == 10_000)
        #expect(c1.percentualPagamentoPrazo == 5_000 && c1.percentualAtrasos == 5_000 && c1.percentualInadimplencia == 0)
        #expect(c1.mediaDiasAtraso == 500 && c1.maxDiasAtraso == 5 && c1.valorInadimplente == 0 && c1.percentualValorPago == 10_000)
        let c2 = row("C2", .u1m)
        #expect(c2.totalFaturas == 1 && c2.valorInadimplente == 5_000 && c2.percentualInadimplencia == 10_000)
        #expect(c2.mediaDiasAtraso == 2_700 && c2.percentualValorPago == 3_750)     // 30 / 80
        #expect(row("C3", .u1m) == InvoiceBook.Variables())
        #expect(Self.book.customers.count == 3 * 4)
    }

    @Test("months are counted on the calendar, with the month's last day when it has no such day")
    func months() {
        #expect(Day(year: 2026, month: 3, day: 31)!.adding(months: -1) == Day(year: 2026, month: 2, day: 28))
        #expect(Day(year: 2024, month: 3, day: 31)!.adding(months: -1) == Day(year: 2024, month: 2, day: 29))
        #expect(Day(year: 2026, month: 1, day: 15)!.adding(months: -12) == Day(year: 2025, month: 1, day: 15))
        #expect(Day(year: 2026, month: 1, day: 15)!.adding(months: -1) == Day(year: 2025, month: 12, day: 15))
        #expect(InvoiceBook.divide(2, 3) == 1 && InvoiceBook.divide(-5, 2) == -3 && InvoiceBook.divide(1, 0) == nil)
    }
}
