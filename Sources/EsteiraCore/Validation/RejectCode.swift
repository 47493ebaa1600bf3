/// Why a row was rejected. The codes are stable and documented in `docs/rejects.md`;
/// the messages are Portuguese because the client reads them.
public enum RejectCode: String, Sendable, Codable, CaseIterable {
    /// A required field is empty.
    case requiredMissing = "R001"
    /// The CPF/CNPJ does not have the shape of either (11 digits, or 14 characters).
    case documentMalformed = "R002"
    /// The CPF/CNPJ check digits do not match, or all its characters are equal.
    case documentCheckDigits = "R003"
    /// The amount cannot be read as money.
    case amountMalformed = "R004"
    /// The amount is zero or negative.
    case amountNotPositive = "R005"
    /// The date cannot be read, or names a day that does not exist.
    case dateInvalid = "R006"
    /// The due date is after the day the batch was received.
    case dateAfterReceipt = "R007"
    /// The e-mail is not well formed.
    case emailInvalid = "R008"
    /// The external_id is already registered with different content.
    case conflict = "R009"
    /// The row does not have the header's number of columns.
    case columnCount = "R010"
    /// A value is longer than the field allows.
    case tooLong = "R011"
    /// The row ends inside an unclosed quote.
    case unclosedQuote = "R012"
    /// The amount has one separator before exactly three digits, and the batch's format does
    /// not say whether it is a decimal or a thousands separator.
    case amountAmbiguous = "R013"
    /// A field holds a control character (NUL, a form feed, an escape...): no client writes one
    /// on purpose, and PostgreSQL cannot store NUL in text.
    case controlCharacter = "R014"
    /// The row holds bytes that are not UTF-8 in a file that is otherwise UTF-8.
    case invalidEncoding = "R015"
    /// A correction names another document than the registered debt's: a different document is a
    /// different debt.
    case documentChanged = "R016"
    /// A correction's amount is below what was already paid on the debt.
    case amountBelowPaid = "R017"
    /// The operation column names no known operation (I, A or B).
    case operationUnknown = "R018"
    /// A withdrawal without a reason, or with one that is not among `WithdrawalReason`'s.
    case withdrawalReasonInvalid = "R019"
    /// A correction or a withdrawal of an external_id the client never registered.
    case debtNotRegistered = "R020"
    /// A correction of a debt that is out of collection (withdrawn, or rejected in review).
    case debtClosed = "R021"

    public var summary: String {
        switch self {
        case .requiredMissing: return "campo obrigatório ausente"
        case .documentMalformed: return "CPF/CNPJ com formato inválido"
        case .documentCheckDigits: return "CPF/CNPJ com dígito verificador inválido"
        case .amountMalformed: return "valor ilegível"
        case .amountNotPositive: return "valor deve ser maior que zero"
        case .dateInvalid: return "data inválida"
        case .dateAfterReceipt: return "vencimento posterior à data de recebimento do lote"
        case .emailInvalid: return "e-mail inválido"
        case .conflict: return "dívida já registrada com conteúdo diferente"
        case .columnCount: return "número de colunas diferente do cabeçalho"
        case .tooLong: return "valor excede o tamanho máximo do campo"
        case .unclosedQuote: return "aspas não fechadas"
        case .amountAmbiguous: return "valor ambíguo (milhar ou decimal)"
        case .controlCharacter: return "caractere de controle no campo"
        case .invalidEncoding: return "bytes que não são UTF-8 na linha"
        case .documentChanged: return "correção com outro CPF/CNPJ"
        case .amountBelowPaid: return "valor corrigido abaixo do já pago"
        case .operationUnknown: return "operação desconhecida (use I, A ou B)"
        case .withdrawalReasonInvalid: return "motivo da baixa ausente ou desconhecido"
        case .debtNotRegistered: return "dívida não registrada"
        case .debtClosed: return "dívida fora de cobrança (baixada ou rejeitada)"
        }
    }
}

/// One problem found in one row of a file.
public struct RowIssue: Sendable, Equatable, Codable {
    /// The line of the file where the record starts (the header is line 1).
    public var line: Int
    /// The field concerned, or nil when the problem is the whole row.
    public var field: DebtField?
    public var code: RejectCode
    /// A sentence in Portuguese for the client.
    public var message: String

    public init(line: Int, field: DebtField?, code: RejectCode, message: String) {
        self.line = line
        self.field = field
        self.code = code
        self.message = message
    }
}
