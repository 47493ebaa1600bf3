import EsteiraCore
import EsteiraDocuments
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Sends the e-mails of the outbox over SMTP: the clients' batch notifications (channel `email`
/// of `notifications`) and the debtors' slips (the slips whose `email_state` is pending).
///
/// The server's 250 to the message delivers it; a 5xx reply gives it up at once (sending again
/// would get the same answer); anything else (4xx, no connection, no answer in time) tries again
/// as the `DeliveryPolicy` says. Each message's `Message-ID` is the same on every attempt.
/// Addresses appear in logs masked (`a***@example.com`).
public struct MailSender: Service {
    public struct Settings: Sendable {
        public var smtp: SMTPSettings
        /// The `From` display name of client e-mails (a debtor's slip comes in the beneficiary's name).
        public var fromName = "Esteira"
        /// Where a client's browser reaches Esteira, for the links in batch e-mails.
        public var publicURL: String?
        public var policy = DeliveryPolicy()

        public init(smtp: SMTPSettings) { self.smtp = smtp }
    }

    let notifications: NotificationStore
    let slips: BankslipStore
    let settings: Settings
    let client: SMTPClient
    let logger: Logger

    public init(db: any SQLDatabase, settings: Settings, logger: Logger) throws {
        notifications = NotificationStore(db: db)
        slips = BankslipStore(db: db)
        self.settings = settings
        client = try SMTPClient(settings: settings.smtp)
        self.logger = logger
    }

    var lease: TimeInterval { settings.smtp.timeout.seconds + 30 }

    public func run() async throws {
        await settings.policy.loop(limit: lease, onOverrun: { [logger] overran in
            logger.error("e-mail: a round did not end within its lease; the next one begins", metadata: ["error": "\(overran)"])
        }) {
            let batchMails = await claim("notifications") { try await notifications.claimDueEmails(limit: settings.policy.batch, lease: lease) }
            let slipMails = await claim("slips") { try await slips.claimDueEmails(limit: settings.policy.batch, lease: lease) }
            await withTaskGroup(of: Void.self) { group in
                for n in batchMails { group.addTask { await self.send(n) } }
                for s in slipMails { group.addTask { await self.send(s) } }
            }
            return max(batchMails.count, slipMails.count)
        }
    }

    func claim<T>(_ what: String, _ body: () async throws -> [T]) async -> [T] {
        do {
            return try await body()
        } catch {
            logger.warning("e-mail: cannot read the outbox", metadata: ["outbox": "\(what)", "error": "\(error)"])
            return []
        }
    }

    /// The domain of the sender's address, for Message-IDs.
    var domain: String { settings.smtp.from.split(separator: "@").last.map(String.init) ?? "esteira.localdomain" }

    func send(_ n: PendingEmailNotification) async {
        let outcome = await attempt(to: n.address, kind: n.event) {
            let event = NotificationEvent(rawValue: n.event)
            let content = event?.isAlert == true ? try AlertEmail.compose(payload: n.payload)
                : event?.isDebtChange == true ? try DebtEmail.compose(payload: n.payload)
                : try BatchEmail.compose(payload: n.payload, publicURL: settings.publicURL)
            return MailMessage(fromName: settings.fromName, fromAddress: settings.smtp.from, to: n.address, subject: content.subject,
                               text: content.text, html: content.html, messageID: "notification.\(n.id)@\(domain)",
                               headers: [("X-Esteira-Event", n.event), ("X-Esteira-Delivery", String(n.id))])
        }
        let retryAt = outcome.sent || outcome.permanent ? nil : settings.policy.retryAt(afterAttempt: n.attempts + 1)
        Counter(label: MetricName.notificationAttempts,
                dimensions: [("channel", "email"), ("result", outcome.sent ? "delivered" : retryAt == nil ? "dead" : "retry")]).increment()
        do {
            try await notifications.recordAttempt(id: n.id, statusCode: outcome.code, error: outcome.error, durationMs: outcome.ms,
                                                  delivered: outcome.sent, retryAt: retryAt)
        } catch {
            logger.warning("e-mail: cannot record an attempt", metadata: ["notification": "\(n.id)", "error": "\(error)"])
        }
    }

    func send(_ s: PendingSlipEmail) async {
        let outcome = await attempt(to: s.address, kind: "bankslip") {
            let (content, page) = try SlipEmail.compose(s.slip, .init(externalID: s.externalID, payer: s.payer, settings: s.settings))
            let safeID = String(s.externalID.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
            return MailMessage(fromName: s.settings.beneficiaryName, fromAddress: settings.smtp.from, to: s.address,
                               subject: content.subject, text: content.text, html: content.html,
                               attachments: [.init(fileName: "boleto-\(safeID).html", contentType: "text/html; charset=utf-8", data: Data(page.utf8))],
                               messageID: "bankslip.\(s.clientNum).\(s.ourNumber)@\(domain)")
        }
        let retryAt = outcome.sent || outcome.permanent ? nil : settings.policy.retryAt(afterAttempt: s.attempts + 1)
        do {
            try await slips.recordEmail(clientNum: s.clientNum, ourNumber: s.ourNumber, sent: outcome.sent, error: outcome.error, retryAt: retryAt)
        } catch {
            logger.warning("e-mail: cannot record an attempt", metadata: ["slip": "\(s.ourNumber)", "error": "\(error)"])
        }
    }

    struct Outcome {
        var sent: Bool
        var permanent: Bool
        var code: Int?
        var error: String?
        var ms: Int
    }

    /// Builds the message and sends it, and says how it went.
    func attempt(to address: String, kind: String, _ make: () throws -> MailMessage) async -> Outcome {
        let started = ContinuousClock.now
        var outcome = Outcome(sent: false, permanent: false, code: nil, error: nil, ms: 0)
        do {
            try await client.send(try make())
            outcome.sent = true
            outcome.code = 250
        } catch let error as SMTPError {
            outcome.permanent = error.permanent
            outcome.code = error.code
            outcome.error = String(error.description.prefix(500))
        } catch {
            outcome.error = String("\(error)".prefix(500))
        }
        outcome.ms = Int((ContinuousClock.now - started) / .milliseconds(1))
        logger.info("e-mail attempt", metadata: [
            "kind": "\(kind)", "to": "\(MailMessage.masked(address))", "sent": "\(outcome.sent)",
            "code": "\(outcome.code.map(String.init) ?? "none")", "error": "\(outcome.error ?? "")",
        ])
        return outcome
    }
}
