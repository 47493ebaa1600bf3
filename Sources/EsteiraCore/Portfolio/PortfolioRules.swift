/// A registered debt as the portfolio's rules see it: its content, where it stands, what was paid.
public struct RegisteredDebt: Sendable, Equatable {
    public var debt: Debt
    public var status: DebtStatus
    public var paidCents: Int64

    public init(debt: Debt, status: DebtStatus, paidCents: Int64) {
        self.debt = debt
        self.status = status
        self.paidCents = paidCents
    }
}

/// Why a correction was refused, beyond the validation every debt goes through.
public enum CorrectionRefusal: Error, Sendable, Equatable {
    /// The debt is withdrawn or rejected in review (R021).
    case outOfCollection(DebtStatus)
    /// Another document than the registered debt's (R016).
    case documentChanged
    /// An amount below what was already paid (R017), with the paid total.
    case amountBelowPaid(Int64)

    /// Whether `debt` may replace `current`; the refusal when it may not. The one statement of the
    /// rule, for the API's correction, a file's row and the preview of a file.
    public init?(correcting current: RegisteredDebt, to debt: Debt) {
        if current.status.isOutOfCollection {
            self = .outOfCollection(current.status)
        } else if current.debt.document != debt.document {
            self = .documentChanged
        } else if debt.amountCents < current.paidCents {
            self = .amountBelowPaid(current.paidCents)
        } else {
            return nil
        }
    }

    /// The reject code, the field and the Portuguese sentence a file's row or the API's answer
    /// gives for refusing `debt`.
    public func reject(of debt: Debt) -> (code: RejectCode, field: DebtField, message: String) {
        switch self {
        case .outOfCollection(let status):
            return (.debtClosed, .operation,
                    "A dívida \(debt.externalID) está \(status == .withdrawn ? "baixada" : "rejeitada na análise") e não aceita alteração.")
        case .documentChanged:
            return (.documentChanged, .document, "A dívida \(debt.externalID) é de outro CPF/CNPJ; um documento diferente é outra dívida.")
        case .amountBelowPaid(let paid):
            return (.amountBelowPaid, .amount,
                    "O valor corrigido, \(Money.brazilian(cents: debt.amountCents)), é menor que o já pago, \(Money.brazilian(cents: paid)).")
        }
    }
}

/// What a row of a file does to the registry, as a preview reports it.
public enum RowEffect: String, Sendable, Codable, CaseIterable {
    /// An inclusion that registers a new debt.
    case new
    /// A correction that changes a debt.
    case corrected
    /// A withdrawal that takes a debt out of collection.
    case withdrawn
    /// An inclusion, correction or withdrawal of what already stands: a duplicate.
    case unchanged
    /// An inclusion of an external id registered with other content (R009).
    case conflict
    /// Refused: by validation, or by the portfolio's rules (R016, R017, R020, R021).
    case rejected
}

/// A file's rows replayed, in file order, over the registry as it stands, without writing: what
/// each would do (the preview of `POST /v1/batches?dry_run=true`). Each row sees what the rows
/// before it did, as the register stage's file order makes them: an inclusion and then its
/// withdrawal end withdrawn. The registry's debts come from `registered`, read before.
public struct PortfolioReplay: Sendable {
    /// What stands under each external id the file names: read from the registry, then as the
    /// rows so far left it; absent for a debt that does not exist.
    var standing: [String: RegisteredDebt]

    public init(registered: [String: RegisteredDebt]) {
        standing = registered
    }

    /// An inclusion, on line `line`.
    public mutating func include(_ debt: Debt, line: Int) -> (RowEffect, RowIssue?) {
        guard let current = standing[debt.externalID] else {
            standing[debt.externalID] = RegisteredDebt(debt: debt, status: .registered, paidCents: 0)
            return (.new, nil)
        }
        return current.debt.hasSameContent(as: debt) ? (.unchanged, nil) : (.conflict, Self.conflict(debt.externalID, line: line))
    }

    /// R009, for an inclusion of an external id registered with other content.
    public static func conflict(_ externalID: String, line: Int) -> RowIssue {
        RowIssue(line: line, field: .externalID, code: .conflict,
                 message: "A dívida \(externalID) já está registrada com outro conteúdo; o registro existente foi mantido.")
    }

    /// A correction, on line `line`.
    public mutating func correct(_ debt: Debt, line: Int) -> (RowEffect, RowIssue?) {
        guard var current = standing[debt.externalID] else { return (.rejected, Self.notRegistered(debt.externalID, line: line)) }
        if let refusal = CorrectionRefusal(correcting: current, to: debt) {
            let refused = refusal.reject(of: debt)
            return (.rejected, RowIssue(line: line, field: refused.field, code: refused.code, message: refused.message))
        }
        if current.debt.hasSameContent(as: debt) { return (.unchanged, nil) }
        current.debt = debt
        standing[debt.externalID] = current
        return (.corrected, nil)
    }

    /// A withdrawal, on line `line`.
    public mutating func withdraw(_ externalID: String, line: Int) -> (RowEffect, RowIssue?) {
        guard var current = standing[externalID] else { return (.rejected, Self.notRegistered(externalID, line: line, withdrawal: true)) }
        if current.status == .withdrawn { return (.unchanged, nil) }
        current.status = .withdrawn
        standing[externalID] = current
        return (.withdrawn, nil)
    }

    /// R020, for a correction or a withdrawal of a debt never registered.
    public static func notRegistered(_ externalID: String, line: Int, withdrawal: Bool = false) -> RowIssue {
        RowIssue(line: line, field: .externalID, code: .debtNotRegistered,
                 message: "A dívida \(externalID) não está registrada; \(withdrawal ? "a baixa (B)" : "a alteração (A)") só vale para uma dívida "
                     + "já registrada (inclua-a com a operação I).")
    }
}
