import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// A debtor's rights under LGPD art. 18, asked by document (CPF or CNPJ) across every client:
/// to know every place Esteira holds them (`report`, art. 18 I–II), and to have it erased
/// (`erase`, art. 18 VI) once none of their debts is open and the hold after the last change has
/// passed (art. 16 I: a debt's data is kept while it may still be disputed).
///
/// Erasure pseudonymizes rather than deletes: the debts keep their amounts, days, statuses and
/// history, since the client's ledger and reports rest on them, but lose the name, e-mail, phone
/// and description, and their document becomes a pseudonym (`TaxID.pseudonym`). docs/security.md
/// lists what each table keeps.
public struct DebtorPrivacy: Sendable {
    let db: any SQLDatabase
    let blobs: any BlobStore
    let holdDays: Int

    public init(db: any SQLDatabase, blobs: any BlobStore, holdDays: Int) {
        self.db = db
        self.blobs = blobs
        self.holdDays = holdDays
    }

    // MARK: - The access report

    public struct AccessReport: Encodable, Sendable {
        /// Masked: the report is read by an operator, who knows whose it is.
        public var document: String
        public var debts: [DebtEntry]
        public var rejects: [RejectEntry]
        public var riskDecisions: [RiskEntry]
        public var notifications: [NotificationEntry]
        public var submissionLines: [SubmissionEntry]
        /// Files of batches that may hold the document, still kept.
        public var files: [FileEntry]
        /// On the blacklist, with the reason: erasure keeps it (docs/security.md).
        public var blacklist: BlacklistEntry?

        public var isEmpty: Bool {
            debts.isEmpty && rejects.isEmpty && riskDecisions.isEmpty && notifications.isEmpty && submissionLines.isEmpty
                && files.isEmpty && blacklist == nil
        }

        enum CodingKeys: String, CodingKey {
            case document, debts, rejects, riskDecisions = "risk_decisions", notifications, submissionLines = "submission_lines", files
            case blacklist
        }
    }

    public struct DebtEntry: Encodable, Sendable {
        public var clientID: String
        public var clientName: String
        public var externalID: String
        public var status: String
        @Nullable public var name: String?
        @Nullable public var email: String?
        @Nullable public var phone: String?
        @Nullable public var description: String?
        public var amount: String
        public var paid: String
        public var dueDate: String
        public var registeredAt: String
        public var lastChangeAt: String
        /// Events of its history after the registration, payments recorded, slips issued.
        public var events: Int
        public var payments: Int
        public var slips: Int
        /// Addresses its slips were e-mailed to.
        public var slipEmails: [String]

        enum CodingKeys: String, CodingKey {
            case clientID = "client_id", clientName = "client_name", externalID = "external_id", status, name, email, phone, description
            case amount, paid, dueDate = "due_date", registeredAt = "registered_at", lastChangeAt = "last_change_at", events, payments, slips
            case slipEmails = "slip_emails"
        }
    }

    public struct RejectEntry: Encodable, Sendable {
        public var clientID: String
        public var batchID: String
        public var line: Int
        public var field: String
        public var code: String
        public var raw: String
        public var createdAt: String
        enum CodingKeys: String, CodingKey {
            case clientID = "client_id", batchID = "batch_id", line, field, code, raw, createdAt = "created_at"
        }
    }

    public struct RiskEntry: Encodable, Sendable {
        public var clientID: String
        public var traceKey: String
        public var outcome: String
        public var score: Int
        public var createdAt: String
        enum CodingKeys: String, CodingKey { case clientID = "client_id", traceKey = "trace_key", outcome, score, createdAt = "created_at" }
    }

    public struct NotificationEntry: Encodable, Sendable {
        public var id: Int
        public var clientID: String
        public var event: String
        public var state: String
        public var createdAt: String
        enum CodingKeys: String, CodingKey { case id, clientID = "client_id", event, state, createdAt = "created_at" }
    }

    public struct SubmissionEntry: Encodable, Sendable {
        public var clientID: String
        public var submissionID: String
        public var seq: Int
        enum CodingKeys: String, CodingKey { case clientID = "client_id", submissionID = "submission_id", seq }
    }

    public struct FileEntry: Encodable, Sendable {
        public var clientID: String
        public var batchID: String
        @Nullable public var fileName: String?
        @Nullable public var finishedAt: String?
        enum CodingKeys: String, CodingKey { case clientID = "client_id", batchID = "batch_id", fileName = "file_name", finishedAt = "finished_at" }
    }

    public struct BlacklistEntry: Encodable, Sendable, Equatable {
        public var reason: String
        public var since: String
    }

    /// Every place the document appears.
    public func report(document: TaxID) async throws -> AccessReport {
        let lines = try await rawLines(document)
        return try await db.read { c in
            var debts: [DebtEntry] = []
            var notifications: [NotificationEntry] = []
            var batchIDs = Set(lines.batchIDs)
            for d in try await Self.debts(c, document, lock: false) {
                let counts = try await c.query("""
                    SELECT (SELECT COUNT(*) FROM debt_events WHERE client_num = \(d.clientNum) AND external_id = \(d.externalID)) AS events,
                           (SELECT COUNT(*) FROM debt_payments WHERE client_num = \(d.clientNum) AND external_id = \(d.externalID)) AS payments,
                           (SELECT COUNT(*) FROM bankslips WHERE client_num = \(d.clientNum) AND external_id = \(d.externalID)) AS slips
                    """)[0]
                let emails = try await c.query("""
                    SELECT DISTINCT email_to FROM bankslips WHERE client_num = \(d.clientNum) AND external_id = \(d.externalID)
                    AND email_to IS NOT NULL ORDER BY email_to
                    """).map { try $0.string("email_to") }
                debts.append(DebtEntry(
                    clientID: d.clientID, clientName: d.clientName, externalID: d.externalID, status: d.status.rawValue,
                    name: d.name, email: d.email, phone: d.phone, description: d.description,
                    amount: Money.decimalString(cents: d.amountCents), paid: Money.decimalString(cents: d.paidCents),
                    dueDate: d.dueDate.iso, registeredAt: Timestamp.iso(d.registeredAt), lastChangeAt: Timestamp.iso(d.lastChange),
                    events: try counts.int("events"), payments: try counts.int("payments"), slips: try counts.int("slips"), slipEmails: emails))
                for n in try await Self.notices(c, of: d) {
                    notifications.append(NotificationEntry(id: n.id, clientID: d.clientID, event: try n.row.string("event"),
                                                           state: try n.row.string("state"), createdAt: Timestamp.iso(try n.row.date("created_at"))))
                }
                batchIDs.formUnion(try await Self.batches(c, of: d))
            }
            let risk = try await c.query("""
                SELECT client_id, trace_key, outcome, score, created_at FROM risk_decisions WHERE document = \(document.value) ORDER BY created_at
                """).map { r in
                RiskEntry(clientID: try r.string("client_id"), traceKey: try r.string("trace_key"), outcome: try r.string("outcome"),
                          score: try r.int("score"), createdAt: Timestamp.iso(try r.date("created_at")))
            }
            let files = try await Self.keptFiles(c, batchIDs: batchIDs).map { f in
                FileEntry(clientID: f.clientID, batchID: f.batchID, fileName: f.fileName, finishedAt: f.finishedAt.map(Timestamp.iso))
            }
            let blacklist = try await c.query("SELECT reason, created_at FROM blacklist WHERE document = \(document.value)").first.map { r in
                BlacklistEntry(reason: try r.string("reason"), since: Timestamp.iso(try r.date("created_at")))
            }
            return AccessReport(document: document.masked, debts: debts, rejects: lines.rejects.map(\.entry), riskDecisions: risk,
                                notifications: notifications, submissionLines: lines.submissions.map(\.entry), files: files,
                                blacklist: blacklist)
        }
    }

    // MARK: - Erasure

    /// Why a debtor cannot be erased yet: a debt still open, or closed within the hold.
    public struct Refusal: Encodable, Sendable, Equatable {
        /// `open`: a debt still in collection; `held`: closed within the hold; `pending`: an open
        /// submission (its id in `external_id`) holds a line with the document, about to register it.
        public enum Reason: String, Encodable, Sendable { case open, held, pending }
        public var clientID: String
        public var externalID: String
        public var status: String
        public var reason: Reason
        /// For `held`: when the hold ends.
        @Nullable public var until: String?
        enum CodingKeys: String, CodingKey { case clientID = "client_id", externalID = "external_id", status, reason, until }
    }

    /// What an erasure touched, table by table (rows changed, files removed), and what it kept.
    public struct Touched: Encodable, Sendable, Equatable {
        public var debts = 0
        public var debtEvents = 0
        public var bankslips = 0
        public var notifications = 0
        public var rejects = 0
        public var riskDecisions = 0
        public var files = 0
        enum CodingKeys: String, CodingKey {
            case debts, debtEvents = "debt_events", bankslips, notifications, rejects, riskDecisions = "risk_decisions", files
        }
    }

    public struct Kept: Encodable, Sendable, Equatable {
        /// The ledger's entries of the debts' payments and reversals, whole: amounts are the
        /// client's accounts, and name no one.
        public var ledgerEntries = 0
        /// The document stays on the blacklist, which exists to recognize it.
        public var blacklist = false
        enum CodingKeys: String, CodingKey { case ledgerEntries = "ledger_entries", blacklist }
    }

    public struct ErasureReport: Encodable, Sendable {
        public var document: String
        /// What the debts' and risk decisions' document now reads; nil when none had it.
        @Nullable public var pseudonym: String?
        public var touched: Touched
        public var kept: Kept
    }

    public enum ErasureOutcome: Sendable {
        case erased(ErasureReport)
        case refused([Refusal])
    }

    /// Erases the debtor, or refuses with each debt that holds it back. Recorded in the audit
    /// (`privacy.erase`, the document masked, with what it touched).
    public func erase(document: TaxID, actor: AuditActor, now: Date = Date()) async throws -> ErasureOutcome {
        // Raw lines are found by reading every one (they are text, not indexed), before the
        // transaction, so that it holds its locks only for the changes; they are changed by key.
        let lines = try await rawLines(document)
        // A first look, without locks: a refusal touches nothing. Then the files go, before the
        // transaction, so that its record counts them; the transaction looks again under lock,
        // and a debt reopened in between still refuses (its batches' files are gone by then, as
        // they would be at their retention).
        let (first, files): ([Refusal], [KeptFile]) = try await db.read { c in
            let debts = try await Self.debts(c, document, lock: false)
            let refusals = refusals(debts, lines, now: now)
            guard refusals.isEmpty else { return (refusals, []) }
            var batchIDs = Set(lines.batchIDs)
            for d in debts { batchIDs.formUnion(try await Self.batches(c, of: d)) }
            return ([], try await Self.keptFiles(c, batchIDs: batchIDs).filter { $0.finishedAt != nil })
        }
        if !first.isEmpty { return .refused(first) }
        let removedFiles = try await remove(files, now: now)

        return try await db.write(durable: true) { c in
            let debts = try await Self.debts(c, document, lock: true)
            let refusals = refusals(debts, lines, now: now)
            if !refusals.isEmpty { return .refused(refusals) }

            var touched = Touched(files: removedFiles)
            var kept = Kept()
            let pseudonym = TaxID.pseudonym(for: document.kind)
            let eventActor = DebtEventActor(kind: .operator, id: actor.operatorID ?? actor.name)
            for d in debts {
                for e in try await c.query("""
                    SELECT id, details FROM debt_events WHERE client_num = \(d.clientNum) AND external_id = \(d.externalID) AND kind = 'corrected'
                    """) {
                    guard let redacted = PersonalData.redactingChanges(inJSON: try e.string("details")) else { continue }
                    touched.debtEvents += try await c.execute("UPDATE debt_events SET details = \(redacted) WHERE id = \(try e.int("id"))")
                }
                for n in try await Self.notices(c, of: d) {
                    guard let redacted = PersonalData.redactingChanges(inJSON: try n.row.string("payload")) else { continue }
                    touched.notifications += try await c.execute("UPDATE notifications SET payload = \(redacted) WHERE id = \(n.id)")
                }
                touched.bankslips += try await c.execute("""
                    UPDATE bankslips SET email_to = NULL, email_error = NULL
                    WHERE client_num = \(d.clientNum) AND external_id = \(d.externalID) AND (email_to IS NOT NULL OR email_error IS NOT NULL)
                    """)
                kept.ledgerEntries += try await c.query("""
                    SELECT COUNT(*) + COUNT(reversal_entry_id) AS n FROM debt_payments WHERE client_num = \(d.clientNum) AND external_id = \(d.externalID)
                    """)[0].int("n")
            }
            if !debts.isEmpty {
                touched.debts = try await c.execute("""
                    UPDATE debts SET name = \(PersonalData.erasedName), document = \(pseudonym.value), doc_key = \(pseudonym.indexKey),
                           email = NULL, phone = NULL, description = NULL
                    WHERE doc_key = \(document.indexKey) AND document = \(document.value)
                    """)
                for d in debts {
                    try await DebtHistory.append(c, clientNum: d.clientNum, externalID: d.externalID, kind: .erased, actor: eventActor,
                                                 details: [String: String](), at: now)
                }
            }
            touched.riskDecisions = try await c.execute("""
                UPDATE risk_decisions SET document = \(pseudonym.value), metadata = NULL WHERE document = \(document.value)
                """)
            for slice in lines.rejects.map(\.id).chunked(500) {
                touched.rejects += try await c.execute("UPDATE rejects SET raw = '' WHERE id IN (\(list: slice)) AND raw <> ''")
            }
            kept.blacklist = try await !c.query("SELECT 1 AS one FROM blacklist WHERE document = \(document.value)").isEmpty
            let carried = touched.debts + touched.riskDecisions > 0
            let report = ErasureReport(document: document.masked, pseudonym: carried ? pseudonym.value : nil, touched: touched, kept: kept)
            try await AuditLog.record(c, actor, action: "privacy.erase", target: "document:\(document.masked)", before: nil,
                                      after: try JSONText.encoded(report), now: now)
            return .erased(report)
        }
    }

    /// The debts and open submissions that hold an erasure back.
    func refusals(_ debts: [FoundDebt], _ lines: RawLines, now: Date) -> [Refusal] {
        var seen = Set<String>()
        let pending = lines.submissions.filter { $0.open && seen.insert($0.entry.submissionID).inserted }.map { s in
            Refusal(clientID: s.entry.clientID, externalID: s.entry.submissionID, status: "open", reason: .pending, until: nil)
        }
        return pending + debts.compactMap { d -> Refusal? in
            if d.status.isOpen {
                return Refusal(clientID: d.clientID, externalID: d.externalID, status: d.status.rawValue, reason: .open, until: nil)
            }
            let until = d.lastChange.addingTimeInterval(TimeInterval(holdDays) * 86_400)
            guard until > now else { return nil }
            return Refusal(clientID: d.clientID, externalID: d.externalID, status: d.status.rawValue, reason: .held, until: Timestamp.iso(until))
        }
    }

    /// Removes the batches' raw files, converted CSVs and staging leftovers, and marks the
    /// batches' files gone; answers how many files there were.
    func remove(_ files: [KeptFile], now: Date) async throws -> Int {
        var removed = 0
        for file in files {
            for key in file.keys where (try? await blobs.size(key: key)) != nil {
                try await blobs.delete(key: key)
                removed += 1
            }
            for entry in try await blobs.list(prefix: "staging/\(file.batchID)/") {
                try await blobs.delete(key: entry.key)
                removed += 1
            }
        }
        for slice in files.map(\.batchID).chunked(500) {
            try await db.write { c in try await c.execute("UPDATE batches SET files_purged_at = \(now) WHERE id IN (\(list: slice))") }
        }
        return removed
    }

    // MARK: - Where a debtor is

    struct FoundDebt: Sendable {
        var clientNum: Int
        var clientID: String
        var clientName: String
        var externalID: String
        var name: String?
        var email: String?
        var phone: String?
        var description: String?
        var status: DebtStatus
        var amountCents: Int64
        var paidCents: Int64
        var dueDate: Day
        var batchID: String
        var registeredAt: Date
        /// The registration, or the last event of its history.
        var lastChange: Date
    }

    static func debts(_ c: any SQLConnection, _ document: TaxID, lock: Bool) async throws -> [FoundDebt] {
        try await c.query("""
            SELECT d.client_num, c.id AS client_id, c.name AS client_name, d.external_id, d.name, d.email, d.phone, d.description,
                   d.status, d.amount_cents, d.paid_cents, d.due_date, d.batch_id, d.created_at,
                   (SELECT MAX(e.at) FROM debt_events e WHERE e.client_num = d.client_num AND e.external_id = d.external_id) AS last_event
            FROM debts d JOIN clients c ON c.num = d.client_num
            WHERE d.doc_key = \(document.indexKey) AND d.document = \(document.value)
            ORDER BY c.id, d.external_id\(lock ? c.forUpdate(of: "d") : "")
            """).map { r in
            let registered = try r.date("created_at")
            return FoundDebt(
                clientNum: try r.int("client_num"), clientID: try r.string("client_id"), clientName: try r.string("client_name"),
                externalID: try r.string("external_id"), name: try r.string("name"), email: try r.optionalString("email"),
                phone: try r.optionalString("phone"), description: try r.optionalString("description"), status: try r.known("status"),
                amountCents: Int64(try r.int("amount_cents")), paidCents: Int64(try r.int("paid_cents")), dueDate: try r.day("due_date"),
                batchID: try r.string("batch_id"), registeredAt: registered, lastChange: max(registered, try r.optionalDate("last_event") ?? registered))
        }
    }

    /// The client's notices about the debt (webhooks and e-mails of its changes).
    static func notices(_ c: any SQLConnection, of d: FoundDebt) async throws -> [(id: Int, row: SQLRow)] {
        try await c.query("""
            SELECT id, event, state, created_at, payload FROM notifications
            WHERE client_id = \(d.clientID) AND batch_id = \(DebtHistory.noticeSubject(d.externalID)) ORDER BY id
            """).map { (try $0.int("id"), $0) }
    }

    /// The batches whose files may hold the debt: the one that registered it and those whose
    /// lines changed it.
    static func batches(_ c: any SQLConnection, of d: FoundDebt) async throws -> Set<String> {
        var ids: Set<String> = [d.batchID]
        for r in try await c.query("""
            SELECT DISTINCT actor FROM debt_events WHERE client_num = \(d.clientNum) AND external_id = \(d.externalID)
            """) {
            if let actor = try? JSONDecoder().decode(DebtEventActor.self, from: Data(try r.string("actor").utf8)), actor.kind == .batch {
                ids.insert(actor.id)
            }
        }
        return ids
    }

    struct KeptFile: Sendable {
        var clientID: String
        var batchID: String
        var fileName: String?
        var finishedAt: Date?
        var keys: [String]
    }

    static func keptFiles(_ c: any SQLConnection, batchIDs: Set<String>) async throws -> [KeptFile] {
        var files: [KeptFile] = []
        for slice in batchIDs.sorted().chunked(500) {
            files += try await c.query("""
                SELECT id, client_id, file_name, finished_at, blob_key, data_key FROM batches
                WHERE id IN (\(list: slice)) AND files_purged_at IS NULL ORDER BY id
                """).map { r in
                KeptFile(clientID: try r.string("client_id"), batchID: try r.string("id"), fileName: try r.optionalString("file_name"),
                         finishedAt: try r.optionalDate("finished_at"),
                         keys: [try r.string("blob_key"), try r.optionalString("data_key")].compactMap { $0 })
            }
        }
        return files
    }

    struct RawLines: Sendable {
        var rejects: [(id: Int, entry: RejectEntry)]
        /// Lines exist only while their submission is open or not yet swept: it has no batch yet.
        var submissions: [(open: Bool, entry: SubmissionEntry)]
        /// The batches whose files may hold the lines.
        var batchIDs: [String] { rejects.map(\.entry.batchID) }
    }

    /// Rejected lines and submitted lines whose text holds the document as files write it.
    func rawLines(_ document: TaxID) async throws -> RawLines {
        func holds(_ column: String) -> SQL {
            var sql: SQL = "1 = 0"
            for form in document.writtenForms {
                sql = "\(sql) OR LOWER(\(raw: column)) LIKE \("%" + form.lowercased() + "%")"
            }
            return sql
        }
        let inRejects = holds("r.raw"), inLines = holds("l.line")
        return try await db.read { c in
            let rejects = try await c.query("""
                SELECT r.id, r.batch_id, b.client_id, r.line, r.field, r.code, r.raw, r.created_at
                FROM rejects r JOIN batches b ON b.id = r.batch_id WHERE r.raw <> '' AND (\(inRejects)) ORDER BY r.id
                """).map { r in
                (id: try r.int("id"),
                 entry: RejectEntry(clientID: try r.string("client_id"), batchID: try r.string("batch_id"), line: try r.int("line"),
                                    field: try r.string("field"), code: try r.string("code"), raw: try r.string("raw"),
                                    createdAt: Timestamp.iso(try r.date("created_at"))))
            }
            let submissions = try await c.query("""
                SELECT l.submission_id, l.seq, s.client_id, s.status FROM submission_lines l JOIN submissions s ON s.id = l.submission_id
                WHERE l.line <> '' AND (\(inLines)) ORDER BY l.submission_id, l.seq
                """).map { r in
                (open: try r.string("status") == "open",
                 entry: SubmissionEntry(clientID: try r.string("client_id"), submissionID: try r.string("submission_id"), seq: try r.int("seq")))
            }
            return RawLines(rejects: rejects, submissions: submissions)
        }
    }
}

extension DebtorPrivacy.Refusal {
    /// What an operator (and the debtor, through them) reads.
    public var portugueseMessage: String {
        switch reason {
        case .open: "A dívida \(externalID) do cliente \(clientID) está em aberto (\(status))."
        case .held: "A dívida \(externalID) do cliente \(clientID) foi encerrada há pouco; o titular pode ser anonimizado a partir de \(until ?? "")."
        case .pending: "A submissão \(externalID) do cliente \(clientID), ainda aberta, traz o documento."
        }
    }
}

extension DebtStatus {
    /// Still in collection: erasure waits for it to close.
    var isOpen: Bool { self == .registered || self == .review || self == .partiallyPaid }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
