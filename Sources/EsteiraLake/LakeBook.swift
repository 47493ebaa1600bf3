import EsteiraBlobs
import EsteiraCore
import EsteiraParquet
import Foundation

/// The refined layer: the book of invoice variables as of a reference date R, computed from the
/// curated months that can hold its invoices and payments (the 13 months up to R's), written as
/// `lake/refined/book_faturas/dt_base=AAAA-MM-DD/part-00000.parquet` (one row per customer and
/// window) and `lake/refined/book_resumo/dt_base=AAAA-MM-DD/part-00000.parquet` (the portfolio per
/// window). Each file is replaced whole.
public struct LakeBook: Sendable {
    let blobs: any BlobStore

    public init(blobs: any BlobStore) { self.blobs = blobs }

    public struct Summary: Sendable, Codable, Equatable {
        public var reference: String
        public var monthsRead: [String]
        public var invoices: Int
        public var payments: Int
        public var customerRows: Int
        public var bytes: Int
        public var seconds: Double

        enum CodingKeys: String, CodingKey {
            case reference = "dt_base", monthsRead = "months_read", invoices, payments, customerRows = "customer_rows", bytes, seconds
        }
    }

    public func build(reference: Day) async throws -> Summary {
        let started = ContinuousClock.now
        var invoices: [InvoiceBook.Invoice] = []
        var payments: [InvoiceBook.Payment] = []
        var months: [String] = []
        for back in 0...13 {
            let month = LakeMonth(reference).adding(months: -back)
            let part = month.partition
            var found = false
            if let c = try await curated("lake/curated/faturas/\(part)/part-00000.parquet") {
                found = true
                invoices.reserveCapacity(invoices.count + c[0].count)
                for r in c[0].indices {
                    guard case .string(let id) = c[0][r], case .string(let customer) = c[1][r], case .int(let due) = c[3][r],
                          case .int(let cents) = c[4][r] else { continue }
                    invoices.append(.init(id: id, customer: customer, due: Day(daysSinceEpoch: Int(due)), amountCents: cents))
                }
            }
            if let c = try await curated("lake/curated/pagamentos/\(part)/part-00000.parquet") {
                found = true
                payments.reserveCapacity(payments.count + c[0].count)
                for r in c[0].indices {
                    guard case .string(let invoice) = c[1][r], case .int(let date) = c[3][r], case .int(let cents) = c[4][r] else { continue }
                    payments.append(.init(invoiceID: invoice, date: Day(daysSinceEpoch: Int(date)), amountCents: cents))
                }
            }
            if found { months.append(month.description) }
        }
        let book = InvoiceBook.compute(invoices: invoices, payments: payments, reference: reference)
        let base = "dt_base=\(reference.iso)"

        let customerColumns = [ParquetColumn("id_cliente", .string), ParquetColumn("periodo", .string)] + Self.variableColumns
            + [ParquetColumn("dt_base", .date)]
        var customers = ParquetWriter(columns: customerColumns, compression: LakeCurator.compression)
        for row in book.customers {
            try customers.append([.string(row.customer), .string(row.window.label)] + Self.values(row.variables) + [.int(Int64(reference.daysSinceEpoch))])
        }
        let customerBytes = try customers.finish()
        try await blobs.put(key: "lake/refined/book_faturas/\(base)/part-00000.parquet", bytes: customerBytes)

        let summaryColumns = [ParquetColumn("periodo", .string)] + Self.variableColumns + [
            ParquetColumn("total_clientes", .int64), ParquetColumn("media_fatura_por_cliente", .decimal(precision: 15, scale: 2), optional: true),
            ParquetColumn("media_pagamento_por_cliente", .decimal(precision: 15, scale: 2), optional: true), ParquetColumn("dt_base", .date),
        ]
        var summary = ParquetWriter(columns: summaryColumns, compression: LakeCurator.compression)
        for row in book.portfolio {
            try summary.append([.string(row.window.label)] + Self.values(row.variables) + [
                .int(Int64(row.totalClientes)), Self.optional(row.mediaFaturaPorCliente), Self.optional(row.mediaPagamentoPorCliente),
                .int(Int64(reference.daysSinceEpoch)),
            ])
        }
        let summaryBytes = try summary.finish()
        try await blobs.put(key: "lake/refined/book_resumo/\(base)/part-00000.parquet", bytes: summaryBytes)
        return Summary(reference: reference.iso, monthsRead: months.sorted(), invoices: invoices.count, payments: payments.count,
                       customerRows: book.customers.count, bytes: customerBytes.count + summaryBytes.count,
                       seconds: (ContinuousClock.now - started).seconds)
    }

    /// A curated month's columns, or nil when that month was never curated.
    func curated(_ key: String) async throws -> [[ParquetValue]]? {
        do {
            let columns = try ParquetReader(try await blobs.readAll(key: key)).columnValues()
            guard columns.count == 5 else { throw LakeRunError(description: "\(key): \(columns.count) columns, not 5") }
            return columns
        } catch let e as BlobError where e.code == .notFound {
            return nil
        }
    }

    static let money = ParquetColumn.Kind.decimal(precision: 15, scale: 2)
    static let fraction = ParquetColumn.Kind.decimal(precision: 9, scale: 4)

    /// The variables' columns, shared by both files (docs/lake.md).
    static let variableColumns = [
        ParquetColumn("total_faturas", .int64), ParquetColumn("valor_total_faturas", money),
        ParquetColumn("valor_medio_faturas", money, optional: true), ParquetColumn("total_pagamentos", .int64),
        ParquetColumn("valor_total_pagamentos", money), ParquetColumn("valor_medio_pagamentos", money, optional: true),
        ParquetColumn("percentual_pagamento_prazo", fraction, optional: true), ParquetColumn("total_atrasos", .int64),
        ParquetColumn("percentual_atrasos", fraction, optional: true), ParquetColumn("percentual_inadimplencia", fraction, optional: true),
        ParquetColumn("media_dias_atraso", .decimal(precision: 9, scale: 2), optional: true), ParquetColumn("max_dias_atraso", .int64, optional: true),
        ParquetColumn("valor_inadimplente", money), ParquetColumn("percentual_valor_pago", fraction, optional: true),
    ]

    static func optional(_ v: Int64?) -> ParquetValue { v.map { .int($0) } ?? .null }

    static func values(_ v: InvoiceBook.Variables) -> [ParquetValue] {
        [.int(Int64(v.totalFaturas)), .int(v.valorTotalFaturas), optional(v.valorMedioFaturas), .int(Int64(v.totalPagamentos)),
         .int(v.valorTotalPagamentos), optional(v.valorMedioPagamentos), optional(v.percentualPagamentoPrazo), .int(Int64(v.totalAtrasos)),
         optional(v.percentualAtrasos), optional(v.percentualInadimplencia), optional(v.mediaDiasAtraso), optional(v.maxDiasAtraso.map(Int64.init)),
         .int(v.valorInadimplente), optional(v.percentualValorPago)]
    }
}
