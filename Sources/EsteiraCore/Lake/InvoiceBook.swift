/// The "Book de Variáveis de Fatura" (seed 004): invoice and payment behaviour over the 1, 3, 6
/// and 12 months before a reference date R, per customer and for the whole portfolio. Pure
/// arithmetic in cents and in fixed-point fractions; the definitions are in docs/lake.md.
public enum InvoiceBook {
    public struct Invoice: Sendable, Equatable {
        public var id: String
        public var customer: String
        public var due: Day
        public var amountCents: Int64
        public init(id: String, customer: String, due: Day, amountCents: Int64) {
            self.id = id
            self.customer = customer
            self.due = due
            self.amountCents = amountCents
        }
    }

    public struct Payment: Sendable, Equatable {
        public var invoiceID: String
        public var date: Day
        public var amountCents: Int64
        public init(invoiceID: String, date: Day, amountCents: Int64) {
            self.invoiceID = invoiceID
            self.date = date
            self.amountCents = amountCents
        }
    }

    public enum Window: Int, Sendable, CaseIterable {
        case u1m = 1, u3m = 3, u6m = 6, u12m = 12
        public var label: String { "U\(rawValue)M" }
    }

    /// The variables of one window. Money in cents; fractions in ten-thousandths (`6667` is
    /// 0.6667); mean days late in hundredths. Nil where the window has nothing to divide by.
    public struct Variables: Sendable, Equatable {
        public var totalFaturas = 0
        public var valorTotalFaturas: Int64 = 0
        public var valorMedioFaturas: Int64?
        public var totalPagamentos = 0
        public var valorTotalPagamentos: Int64 = 0
        public var valorMedioPagamentos: Int64?
        public var percentualPagamentoPrazo: Int64?
        public var totalAtrasos = 0
        public var percentualAtrasos: Int64?
        public var percentualInadimplencia: Int64?
        public var mediaDiasAtraso: Int64?
        public var maxDiasAtraso: Int?
        public var valorInadimplente: Int64 = 0
        public var percentualValorPago: Int64?

        public init() {}
    }

    public struct CustomerRow: Sendable, Equatable {
        public var customer: String
        public var window: Window
        public var variables: Variables
    }

    public struct PortfolioRow: Sendable, Equatable {
        public var window: Window
        public var variables: Variables
        public var totalClientes: Int
        public var mediaFaturaPorCliente: Int64?
        public var mediaPagamentoPorCliente: Int64?
    }

    /// `a / b` rounded half away from zero; nil when `b` is 0.
    public static func divide(_ a: Int64, _ b: Int64) -> Int64? {
        guard b != 0 else { return nil }
        let q = (2 * a.magnitude + b.magnitude) / (2 * b.magnitude)
        return (a < 0) != (b < 0) ? -Int64(q) : Int64(q)
    }

    /// What became of one invoice by R.
    struct Outcome {
        var invoice: Invoice
        var payments: [Payment]
        var paidCents: Int64
        /// The day its payments reached its amount, if they did by R.
        var paidOn: Day?
        var daysLate: Int
        var onTime: Bool { paidOn.map { $0 <= invoice.due } ?? false }
        var late: Bool { paidOn.map { $0 > invoice.due } ?? false }
        var delinquent: Bool { paidOn == nil }
    }

    static func outcome(_ invoice: Invoice, _ payments: [Payment], reference: Day) -> Outcome {
        let counted = payments.filter { $0.date <= reference }.sorted { $0.date < $1.date }
        var sum: Int64 = 0
        var paidOn: Day? = invoice.amountCents <= 0 ? invoice.due : nil
        for p in counted {
            sum += p.amountCents
            if paidOn == nil && sum >= invoice.amountCents { paidOn = p.date }
        }
        let end = paidOn ?? reference
        let daysLate = Swift.max(0, end.daysSinceEpoch - invoice.due.daysSinceEpoch)
        return Outcome(invoice: invoice, payments: counted, paidCents: sum, paidOn: paidOn, daysLate: daysLate)
    }

    static func variables(_ outcomes: [Outcome]) -> Variables {
        var v = Variables()
        let n = Int64(outcomes.count)
        v.totalFaturas = outcomes.count
        v.valorTotalFaturas = outcomes.reduce(0) { $0 + $1.invoice.amountCents }
        v.valorMedioFaturas = divide(v.valorTotalFaturas, n)
        v.totalPagamentos = outcomes.reduce(0) { $0 + $1.payments.count }
        v.valorTotalPagamentos = outcomes.reduce(0) { $0 + $1.paidCents }
        v.valorMedioPagamentos = divide(v.valorTotalPagamentos, Int64(v.totalPagamentos))
        v.percentualPagamentoPrazo = divide(Int64(outcomes.filter(\.onTime).count) * 10_000, n)
        v.totalAtrasos = outcomes.filter(\.late).count
        v.percentualAtrasos = divide(Int64(v.totalAtrasos) * 10_000, n)
        v.percentualInadimplencia = divide(Int64(outcomes.filter(\.delinquent).count) * 10_000, n)
        let lateDays = outcomes.map(\.daysLate).filter { $0 > 0 }
        v.mediaDiasAtraso = divide(Int64(lateDays.reduce(0, +)) * 100, Int64(lateDays.count))
        v.maxDiasAtraso = lateDays.max()
        v.valorInadimplente = outcomes.filter(\.delinquent).reduce(0) { $0 + Swift.max(0, $1.invoice.amountCents - $1.paidCents) }
        v.percentualValorPago = divide(v.valorTotalPagamentos * 10_000, v.valorTotalFaturas)
        return v
    }

    /// Every window for every customer that has an invoice in the widest window (a window where a
    /// customer has none is a row of zeros and nils), and the portfolio per window.
    public static func compute(invoices: [Invoice], payments: [Payment], reference: Day) -> (customers: [CustomerRow], portfolio: [PortfolioRow]) {
        let paymentsByInvoice = Dictionary(grouping: payments, by: \.invoiceID)
        let relevant = invoices.filter { $0.due <= reference && $0.due > reference.adding(months: -12) }
        let outcomes = relevant.map { outcome($0, paymentsByInvoice[$0.id] ?? [], reference: reference) }
        let customers = Set(relevant.map(\.customer)).sorted()
        var customerRows: [CustomerRow] = []
        var portfolio: [PortfolioRow] = []
        for window in Window.allCases {
            let start = reference.adding(months: -window.rawValue)
            let inWindow = outcomes.filter { $0.invoice.due > start }
            let byCustomer = Dictionary(grouping: inWindow, by: \.invoice.customer)
            for c in customers {
                customerRows.append(CustomerRow(customer: c, window: window, variables: variables(byCustomer[c] ?? [])))
            }
            let v = variables(inWindow)
            let clients = Int64(byCustomer.count)
            portfolio.append(PortfolioRow(window: window, variables: v, totalClientes: byCustomer.count,
                                          mediaFaturaPorCliente: divide(v.valorTotalFaturas, clients),
                                          mediaPagamentoPorCliente: divide(v.valorTotalPagamentos, clients)))
        }
        return (customerRows, portfolio)
    }
}
