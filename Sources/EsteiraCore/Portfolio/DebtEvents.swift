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

    /// The reason a file's cell names: the value itself, in any case, with or without accents
    /// and with spaces or hyphens for the underscores (`Pago ao credor`, `ÓBITO`).
    public init?(cell: String) {
        let key = DebtField.headerKey(cell)
        guard let reason = Self.allCases.first(where: { DebtField.headerKey($0.rawValue) == key }) else { return nil }
        self = reason
    }

    /// The reasons as a client reads them in an error message.
    public static var listed: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// What a row of a file (column `operation`, `operacao`, ...) does to the registry. Written `I`,
/// `A` or `B`, in either case, or as the word (`inclusao`, `alteracao` or `correcao`, `baixa`);
/// an absent or empty value is an inclusion, so files without the column mean what they always did.
public enum DebtOperation: String, Sendable, CaseIterable, Codable {
    case inclusion = "I"
    case correction = "A"
    case withdrawal = "B"

    /// The operation a cell names; nil when it names none.
    public init?(cell: String) {
        switch DebtField.headerKey(cell) {
        case "", "i", "inclusao", "inclusion": self = .inclusion
        case "a", "alteracao", "correcao", "correction": self = .correction
        case "b", "baixa", "withdrawal": self = .withdrawal
        default: return nil
        }
    }
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
    /// Its debtor's data erased (LGPD art. 18 VI): name, e-mail, phone and description gone, the
    /// document replaced by a pseudonym.
    case erased
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

    /// As `JSONText.encoded` writes it (keys sorted, no line when there is none), written by hand.
    public var json: String { Self.json(head: jsonHead, line: line) }

    /// The JSON up to the line, the same for every row of a file.
    public var jsonHead: String { "{\"id\":\(JSONText.quoted(id)),\"kind\":\(JSONText.quoted(kind.rawValue))" }

    public static func json(head: String, line: Int?) -> String { head + (line.map { ",\"line\":\($0)}" } ?? "}") }
}

/// Where a registered debt stands. `review`: flagged by the risk rules, waiting for an
/// operator's decision; `withdrawn` and `rejected` (by the creditor, or by an operator's review)
/// are out of collection: no payment, no slip.
public enum DebtStatus: String, Sendable, CaseIterable, Codable {
    case registered, review
    case partiallyPaid = "partially_paid"
    case paid, withdrawn, rejected

    public var isOutOfCollection: Bool { self == .withdrawn || self == .rejected }

    /// The status as a Brazilian client reads it (an export, an e-mail).
    public var portugueseName: String {
        switch self {
        case .registered: "registrada"
        case .review: "em revisão"
        case .partiallyPaid: "paga em parte"
        case .paid: "paga"
        case .withdrawn: "baixada"
        case .rejected: "rejeitada"
        }
    }
}

/// An operator's decision on a debt flagged for review.
public enum ReviewDecision: String, Sendable, CaseIterable, Codable {
    case approve, reject

    /// The debt's status once decided.
    public var status: DebtStatus { self == .approve ? .registered : .rejected }
}
