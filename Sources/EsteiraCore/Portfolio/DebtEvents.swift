/// Why a creditor withdraws a debt (baixa). The words are the API's and the files' (`motivo_baixa`).
public enum WithdrawalReason: String, Sendable, CaseIterable, Codable {
    case paidToCreditor = "pago_ao_credor"
    case directAgreement = "acordo_direto"
    case sentByMistake = "enviado_por_engano"
    case timeBarred = "prescrita"
    case courtDecision = "decisao_judicial"
    case death = "obito"
    case missingFromPortfolio = "ausente_da_carteira"
    case other = "outro"

    /// The reasons as a client reads them in an error message.
    public static var listed: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// What happened to a debt after it was registered: each is an event of its history.
public enum DebtEventKind: String, Sendable, CaseIterable, Codable {
    case registered
    case corrected
    case reviewDecided = "review_decided"
    case paid
    case reversed
    case withdrawn
    case slipIssued = "slip_issued"
    case slipCancelled = "slip_cancelled"
}

/// Who made a change: a client's API key (by its hint), an operator, a batch's line, or Esteira
/// itself (a slip issued because the client collects through Esteira).
public struct DebtEventActor: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case apiKey = "api_key", `operator`, batch, esteira
    }

    public var kind: Kind
    /// The key's hint (`…a1b2`), the operator's id, the batch's id, or empty for Esteira.
    public var id: String
    /// The batch's line, for a change a file made.
    public var line: Int?

    public init(kind: Kind, id: String, line: Int? = nil) {
        self.kind = kind
        self.id = id
        self.line = line
    }
}

/// Where a registered debt stands. `review`: flagged by the risk rules, waiting for an
/// operator's decision; `withdrawn` and `rejected` (by the creditor, or by an operator's review)
/// are out of collection: no payment, no slip.
public enum DebtStatus: String, Sendable, CaseIterable, Codable {
    case registered, review
    case partiallyPaid = "partially_paid"
    case paid, withdrawn, rejected

    public var isOutOfCollection: Bool { self == .withdrawn || self == .rejected }
}

/// An operator's decision on a debt flagged for review.
public enum ReviewDecision: String, Sendable, CaseIterable, Codable {
    case approve, reject

    /// The debt's status once decided.
    public var status: DebtStatus { self == .approve ? .registered : .rejected }
}
