/// The risk analysis of one debt or transaction, as pure rules over facts gathered beforehand
/// (the blacklist entry, the external service's answer, how often the document was seen): the
/// adapters look the facts up within the deadline; this decides, with no I/O and no clock.
public enum RiskOutcome: String, Codable, Sendable, Comparable, CaseIterable {
    case approve, review, reject

    var severity: Int {
        switch self {
        case .approve: return 0
        case .review: return 1
        case .reject: return 2
        }
    }

    public static func < (a: RiskOutcome, b: RiskOutcome) -> Bool { a.severity < b.severity }
}

/// The rules, each with a documented code (docs/risk.md).
public enum RiskRule: String, Codable, Sendable, CaseIterable {
    /// The CPF/CNPJ is malformed or its check digits fail.
    case documentInvalid = "K001"
    /// The document is on the agency's blacklist (kept by operators).
    case blacklisted = "K002"
    /// The external validation service says the document is restricted.
    case externalRestricted = "K003"
    /// The external validation service could not answer in time; the configured fallback applies.
    case externalUnavailable = "K004"
    /// The amount is above the client's limit.
    case amountAboveLimit = "K005"
    /// The same document was seen more than the allowed number of times in the window.
    case velocity = "K006"
    /// The due date is more than five years old: the debt is likely time-barred (Código Civil,
    /// art. 206, § 5º, I), and collecting it needs a person's look.
    case timeBarred = "K007"
    /// The amount is below the smallest worth collecting.
    case amountBelowMinimum = "K008"

    /// The debt field a reject names when the rule rejects a row.
    public var field: DebtField {
        switch self {
        case .documentInvalid, .blacklisted, .externalRestricted, .externalUnavailable, .velocity: return .document
        case .amountAboveLimit, .amountBelowMinimum: return .amount
        case .timeBarred: return .dueDate
        }
    }
}

/// What the external validation service answered, or why it did not.
public enum ExternalAnswer: Sendable, Equatable, Codable {
    case clear
    case restricted(reason: String)
    /// No answer within the deadline: a timeout, errors, or the circuit breaker open.
    case unavailable(reason: String)
    /// No external service is configured.
    case notConfigured
}

/// The facts about one transaction, looked up before the rules run.
public struct RiskFacts: Sendable, Equatable {
    public var blacklistReason: String?
    public var external: ExternalAnswer
    /// Times the document was seen in the velocity window, this one included.
    public var recentCount: Int

    public init(blacklistReason: String? = nil, external: ExternalAnswer = .notConfigured, recentCount: Int = 1) {
        self.blacklistReason = blacklistReason
        self.external = external
        self.recentCount = recentCount
    }
}

/// What the rules are judged against; per client where it says so.
public struct RiskPolicy: Sendable, Equatable, Codable {
    /// Above this amount a debt goes to review (nil: no limit).
    public var maxAmountCents: Int64?
    /// Below this amount a debt goes to review (nil: no minimum).
    public var minAmountCents: Int64?
    /// More than this many sightings of one document in the window go to review.
    public var velocityLimit: Int
    public var velocityWindowSeconds: Int
    /// What an unanswered external validation means.
    public var externalFallback: RiskOutcome
    /// What a restricted answer from the external service means.
    public var externalRestrictedOutcome: RiskOutcome
    /// Years after which a due date makes the debt likely time-barred.
    public var timeBarYears: Int

    public init(maxAmountCents: Int64? = nil, minAmountCents: Int64? = nil, velocityLimit: Int = 20,
                velocityWindowSeconds: Int = 3600, externalFallback: RiskOutcome = .review,
                externalRestrictedOutcome: RiskOutcome = .review, timeBarYears: Int = 5) {
        self.maxAmountCents = maxAmountCents
        self.minAmountCents = minAmountCents
        self.velocityLimit = velocityLimit
        self.velocityWindowSeconds = velocityWindowSeconds
        self.externalFallback = externalFallback
        self.externalRestrictedOutcome = externalRestrictedOutcome
        self.timeBarYears = timeBarYears
    }
}

/// What is judged: a debt, or a transaction sent to `POST /v1/risk/analyze`.
public struct RiskInput: Sendable, Equatable {
    /// As received; normalized and checked by the engine.
    public var document: String
    public var amountCents: Int64
    public var dueDate: Day?
    /// The day the analysis is for (São Paulo), against which dates are judged.
    public var today: Day

    public init(document: String, amountCents: Int64, dueDate: Day? = nil, today: Day) {
        self.document = document
        self.amountCents = amountCents
        self.dueDate = dueDate
        self.today = today
    }
}

/// One rule that fired.
public struct RiskReason: Sendable, Equatable, Codable {
    public var rule: RiskRule
    public var outcome: RiskOutcome
    /// Points added to the score.
    public var points: Int
    /// Portuguese, for the client.
    public var message: String
}

public struct RiskDecision: Sendable, Equatable, Codable {
    public var outcome: RiskOutcome
    /// 0 (no risk seen) to 100: the sum of the fired rules' points, capped.
    public var score: Int
    public var reasons: [RiskReason]
    /// The external answer could not be had and the fallback decided.
    public var usedFallback: Bool

    /// The reasons whose own outcome is the decision's: why it is what it is.
    public var deciding: [RiskReason] { reasons.filter { $0.outcome == outcome } }

    public init(outcome: RiskOutcome, score: Int, reasons: [RiskReason], usedFallback: Bool) {
        self.outcome = outcome
        self.score = score
        self.reasons = reasons
        self.usedFallback = usedFallback
    }
}

public enum RiskEngine {
    /// Judges the input: the outcome is the most severe of the fired rules' (approve when none
    /// fires); the score adds their points.
    public static func decide(_ input: RiskInput, facts: RiskFacts, policy: RiskPolicy) -> RiskDecision {
        var reasons: [RiskReason] = []
        func fire(_ rule: RiskRule, _ outcome: RiskOutcome, _ points: Int, _ message: String) {
            reasons.append(RiskReason(rule: rule, outcome: outcome, points: points, message: message))
        }

        if case .failure = TaxID.validate(normalized: TaxID.normalize(input.document[...])) {
            fire(.documentInvalid, .reject, 100, "O CPF/CNPJ é inválido.")
        }
        if let reason = facts.blacklistReason {
            fire(.blacklisted, .reject, 100, "O CPF/CNPJ está na lista de bloqueio: \(reason).")
        }
        var usedFallback = false
        switch facts.external {
        case .clear, .notConfigured:
            break
        case .restricted(let reason):
            fire(.externalRestricted, policy.externalRestrictedOutcome, 60, "A validação externa restringe o documento: \(reason).")
        case .unavailable(let reason):
            usedFallback = true
            fire(.externalUnavailable, policy.externalFallback, policy.externalFallback == .approve ? 0 : 20,
                 "A validação externa não respondeu (\(reason)); aplicada a regra de contingência: \(policy.externalFallback.rawValue).")
        }
        if let max = policy.maxAmountCents, input.amountCents > max {
            fire(.amountAboveLimit, .review, 30,
                 "O valor \(Money.brazilian(cents: input.amountCents)) passa do limite do cliente (\(Money.brazilian(cents: max))).")
        }
        if let min = policy.minAmountCents, input.amountCents < min {
            fire(.amountBelowMinimum, .review, 10,
                 "O valor \(Money.brazilian(cents: input.amountCents)) fica abaixo do mínimo de cobrança (\(Money.brazilian(cents: min))).")
        }
        if facts.recentCount > policy.velocityLimit {
            fire(.velocity, .review, 40,
                 "O documento apareceu \(facts.recentCount) vezes na última janela de \(policy.velocityWindowSeconds / 60) minutos (limite \(policy.velocityLimit)).")
        }
        if let due = input.dueDate, let barred = Day(year: input.today.year - policy.timeBarYears, month: input.today.month,
                                                      day: min(input.today.day, Day.daysIn(month: input.today.month, year: input.today.year - policy.timeBarYears))),
           due < barred {
            fire(.timeBarred, .review, 30, "O vencimento \(due.iso) tem mais de \(policy.timeBarYears) anos: a dívida pode estar prescrita.")
        }

        let outcome = reasons.map(\.outcome).max() ?? .approve
        return RiskDecision(outcome: outcome, score: min(100, reasons.reduce(0) { $0 + $1.points }),
                            reasons: reasons, usedFallback: usedFallback)
    }
}
