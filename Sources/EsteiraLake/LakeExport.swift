import Crypto
import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// Esteira's own registry as one month of the lake's input: the debts registered in the month as
/// `tb_faturas_AAAAMM.csv` and the payments made in it as `tb_pagamentos_AAAAMM.csv`, written to
/// the lake inbox (`lake/inbox/` in the blob store), where `esteira lake run --month` takes them.
///
/// `id_fatura` is `<client number>-<external id>` (unique across clients). `id_cliente` is not the
/// debtor's CPF/CNPJ but a pseudonym: the first 16 hex digits of SHA-256 of the client's number and
/// the document, the same for a debtor across months, and not the document (LGPD: the lake is for
/// analysis, and needs to tell debtors apart, not to know who they are).
public struct LakeExport: Sendable {
    let db: any SQLDatabase
    let blobs: any BlobStore

    public init(db: any SQLDatabase, blobs: any BlobStore) {
        self.db = db
        self.blobs = blobs
    }

    public struct Summary: Sendable {
        public var invoices: Int
        public var payments: Int
        public var keys: [String]
    }

    public static func pseudonym(clientNum: Int, document: String) -> String {
        Hex.encode(Array(SHA256.hash(data: Data("\(clientNum):\(document)".utf8))).prefix(8))
    }

    public func export(month: LakeMonth) async throws -> Summary {
        let first = month.first
        let next = month.adding(months: 1).first
        let (from, to) = (Self.startOfDay(first), Self.startOfDay(next))

        var invoices = "id_fatura;id_cliente;dt_emissao;dt_vencimento;vl_fatura\n"
        var invoiceCount = 0
        for r in try await db.query("""
            SELECT client_num, external_id, document, created_at, due_date, amount_cents FROM debts
            WHERE created_at >= \(from) AND created_at < \(to) ORDER BY client_num, external_id
            """) {
            let num = try r.int("client_num")
            let issued = Day(try r.date("created_at"), in: Day.saoPaulo)
            invoices += "\(LakeCurator.csvField("\(num)-\(try r.string("external_id"))"));\(Self.pseudonym(clientNum: num, document: try r.string("document")));"
                + "\(issued.iso);\(try r.day("due_date").iso);\(Money.decimalString(cents: Int64(try r.int("amount_cents"))))\n"
            invoiceCount += 1
        }
        var payments = "id_pagamento;id_fatura;id_cliente;dt_pagamento;vl_pagamento\n"
        var paymentCount = 0
        for r in try await db.query("""
            SELECT p.id, p.client_num, p.external_id, d.document, p.paid_on, p.amount_cents FROM debt_payments p
            JOIN debts d ON d.client_num = p.client_num AND d.external_id = p.external_id
            WHERE p.paid_on >= \(first) AND p.paid_on < \(next) ORDER BY p.id
            """) {
            let num = try r.int("client_num")
            payments += "\(num)-P\(try r.int("id"));\(LakeCurator.csvField("\(num)-\(try r.string("external_id"))"));"
                + "\(Self.pseudonym(clientNum: num, document: try r.string("document")));\(try r.day("paid_on").iso);"
                + "\(Money.decimalString(cents: Int64(try r.int("amount_cents"))))\n"
            paymentCount += 1
        }
        let keys = [month.inboxKey(.faturas), month.inboxKey(.pagamentos)]
        try await blobs.put(key: keys[0], bytes: Array(invoices.utf8))
        try await blobs.put(key: keys[1], bytes: Array(payments.utf8))
        return Summary(invoices: invoiceCount, payments: paymentCount, keys: keys)
    }

    /// Midnight in São Paulo, where the month's days are counted.
    static func startOfDay(_ d: Day) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "America/Sao_Paulo")!
        return calendar.date(from: DateComponents(year: d.year, month: d.month, day: d.day))!
    }
}
