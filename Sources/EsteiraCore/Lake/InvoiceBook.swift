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

    /// What became of one invoice by R: its payments counted (made on or before R), their sum,
    /// the day they reached its amount (nil: delinquent), and its days late.
    struct Outcome {
        var payments = 0
        var paidCents: Int64 = 0
        var paidOn: Int?
        var daysLate = 0
    }

    /// A window's sums for one customer or the portfolio, from which its variables follow.
    struct Totals {
        var invoices = 0
        var amount: Int64 = 0
        var payments = 0
        var paid: Int64 = 0
        var onTime = 0
        var late = 0
        var delinquent = 0
        var lateDaysSum = 0
        var lateDaysCount = 0
        var maxLateDays = 0
        var open: Int64 = 0

        mutating func add(_ amount: Int64, due: Int, _ o: Outcome) {
            invoices += 1
            self.amount += amount
            payments += o.payments
            paid += o.paidCents
            if let day = o.paidOn {
                if day <= due { onTime += 1 } else { late += 1 }
            } else {
                delinquent += 1
                open += Swift.max(0, amount - o.paidCents)
            }
            if o.daysLate > 0 {
                lateDaysSum += o.daysLate
                lateDaysCount += 1
                maxLateDays = Swift.max(maxLateDays, o.daysLate)
            }
        }

        var variables: Variables {
            var v = Variables()
            let n = Int64(invoices)
            v.totalFaturas = invoices
            v.valorTotalFaturas = amount
            v.valorMedioFaturas = divide(amount, n)
            v.totalPagamentos = payments
            v.valorTotalPagamentos = paid
            v.valorMedioPagamentos = divide(paid, Int64(payments))
            v.percentualPagamentoPrazo = divide(Int64(onTime) * 10_000, n)
            v.totalAtrasos = late
            v.percentualAtrasos = divide(Int64(late) * 10_000, n)
            v.percentualInadimplencia = divide(Int64(delinquent) * 10_000, n)
            v.mediaDiasAtraso = divide(Int64(lateDaysSum) * 100, Int64(lateDaysCount))
            v.maxDiasAtraso = lateDaysCount > 0 ? maxLateDays : nil
            v.valorInadimplente = open
            v.percentualValorPago = divide(paid * 10_000, amount)
            return v
        }
    }

    /// Every window for every customer that has an invoice in the widest window (a window where a
    /// customer has none is a row of zeros and nils), and the portfolio per window.
    ///
    /// One pass over the payments and one per window over the invoices, with customers and
    /// invoices numbered: a million of each takes seconds, not minutes.
    public static func compute(invoices: [Invoice], payments: [Payment], reference: Day) -> (customers: [CustomerRow], portfolio: [PortfolioRow]) {
        let r = reference.daysSinceEpoch
        let oldest = reference.adding(months: -12).daysSinceEpoch
        let relevant = invoices.filter { $0.due.daysSinceEpoch <= r && $0.due.daysSinceEpoch > oldest }

        // Invoices and customers numbered; customers in their order in the book.
        var position: [String: Int] = [:]
        position.reserveCapacity(relevant.count)
        var customerNumber: [String: Int] = [:]
        var customerOf: [Int] = []
        customerOf.reserveCapacity(relevant.count)
        // The same id in two months' files: both invoices count the id's payments.
        var samePosition: [String: [Int]] = [:]
        for (i, inv) in relevant.enumerated() {
            if let earlier = position.updateValue(i, forKey: inv.id) {
                position[inv.id] = earlier
                samePosition[inv.id, default: []].append(i)
            }
            let next = customerNumber.count
            let c = customerNumber[inv.customer, default: next]
            if c == next { customerNumber[inv.customer] = c }
            customerOf.append(c)
        }
        let customers = customerNumber.keys.sorted()
        var rank = [Int](repeating: 0, count: customers.count)
        for (k, name) in customers.enumerated() { rank[customerNumber[name]!] = k }

        // The payments counted, by invoice and day.
        var counted: [(invoice: Int32, day: Int32, cents: Int64)] = []
        counted.reserveCapacity(payments.count)
        for p in payments where p.date.daysSinceEpoch <= r {
            guard let i = position[p.invoiceID] else { continue }
            counted.append((Int32(i), Int32(p.date.daysSinceEpoch), p.amountCents))
            for j in samePosition[p.invoiceID] ?? [] { counted.append((Int32(j), Int32(p.date.daysSinceEpoch), p.amountCents)) }
        }
        counted.sort { ($0.invoice, $0.day) < ($1.invoice, $1.day) }
        var outcomes = relevant.map { inv in
            Outcome(paidOn: inv.amountCents <= 0 ? inv.due.daysSinceEpoch : nil)
        }
        for p in counted {
            let i = Int(p.invoice)
            outcomes[i].payments += 1
            outcomes[i].paidCents += p.cents
            if outcomes[i].paidOn == nil && outcomes[i].paidCents >= relevant[i].amountCents { outcomes[i].paidOn = Int(p.day) }
        }
        for i in outcomes.indices {
            outcomes[i].daysLate = Swift.max(0, (outcomes[i].paidOn ?? r) - relevant[i].due.daysSinceEpoch)
        }

        var customerRows: [CustomerRow] = []
        customerRows.reserveCapacity(customers.count * Window.allCases.count)
        var portfolio: [PortfolioRow] = []
        for window in Window.allCases {
            let start = reference.adding(months: -window.rawValue).daysSinceEpoch
            var perCustomer = [Totals](repeating: Totals(), count: customers.count)
            var all = Totals()
            for (i, inv) in relevant.enumerated() where inv.due.daysSinceEpoch > start {
                let due = inv.due.daysSinceEpoch
                perCustomer[rank[customerOf[i]]].add(inv.amountCents, due: due, outcomes[i])
                all.add(inv.amountCents, due: due, outcomes[i])
            }
            var present = 0
            for (k, name) in customers.enumerated() {
                if perCustomer[k].invoices > 0 { present += 1 }
                customerRows.append(CustomerRow(customer: name, window: window, variables: perCustomer[k].variables))
            }
            let v = all.variables
            portfolio.append(PortfolioRow(window: window, variables: v, totalClientes: present,
                                          mediaFaturaPorCliente: divide(v.valorTotalFaturas, Int64(present)),
                                          mediaPagamentoPorCliente: divide(v.valorTotalPagamentos, Int64(present))))
        }
        return (customerRows, portfolio)
    }
}
