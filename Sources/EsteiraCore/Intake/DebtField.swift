import Foundation

/// The fields of a debt in the standard format.
public enum DebtField: String, CaseIterable, Sendable, Codable {
    case externalID = "external_id"
    case name
    case document
    case amount
    case dueDate = "due_date"
    case email
    case phone
    case description
    /// What the row does to the registry (`DebtOperation`): absent or empty is an inclusion.
    case operation
    /// Why a withdrawal (operation B) takes the debt out of collection (`WithdrawalReason`).
    case withdrawalReason = "withdrawal_reason"

    /// The field's place in `allCases`, for tables indexed by field.
    public var ordinal: Int {
        switch self {
        case .externalID: return 0
        case .name: return 1
        case .document: return 2
        case .amount: return 3
        case .dueDate: return 4
        case .email: return 5
        case .phone: return 6
        case .description: return 7
        case .operation: return 8
        case .withdrawalReason: return 9
        }
    }

    public var isRequired: Bool {
        switch self {
        case .externalID, .name, .document, .amount, .dueDate: return true
        case .email, .phone, .description, .operation, .withdrawalReason: return false
        }
    }

    /// Header names accepted for the field, already in `DebtField.headerKey` form.
    /// The bankslip seed's header (`name,governmentId,email,debtAmount,debtDueDate,debtId`) is covered.
    public var aliases: [String] {
        switch self {
        case .externalID: return ["externalid", "iddivida", "debtid"]
        case .name: return ["name", "nome", "devedor"]
        case .document: return ["document", "documento", "cpfcnpj", "cpf", "cnpj", "governmentid"]
        case .amount: return ["amount", "valor", "debtamount"]
        case .dueDate: return ["duedate", "vencimento", "datavencimento", "datadevencimento", "debtduedate"]
        case .email: return ["email"]
        case .phone: return ["phone", "telefone"]
        case .description: return ["description", "descricao"]
        case .operation: return ["operation", "operacao", "acao", "movimento"]
        case .withdrawalReason: return ["withdrawalreason", "motivobaixa", "motivodabaixa"]
        }
    }

    /// Words creditors write in their own headers for the field, already in `headerKey` form: the
    /// mapping page suggests a column from them (`ClientFormat.suggestion`), but a file read
    /// without a format never takes them as the field (`Contrato` could be anything).
    public var synonyms: [String] {
        switch self {
        case .externalID: return ["contrato", "codigo", "titulo", "fatura", "identificador", "referencia"]
        case .name: return ["cliente", "devedor", "sacado", "pagador", "razaosocial", "consumidor"]
        case .document: return ["doc"]
        case .amount: return ["saldo", "debito", "divida", "montante", "total"]
        case .dueDate: return ["venc", "vencto", "datavenc"]
        case .email: return ["mail", "correio"]
        case .phone: return ["fone", "celular", "whatsapp", "tel"]
        case .description: return ["observacao", "obs", "historico", "produto"]
        case .operation: return ["movimentacao", "tipooperacao"]
        case .withdrawalReason: return ["motivo"]
        }
    }

    /// The field's name as a Brazilian client reads it in messages.
    public var portugueseName: String {
        switch self {
        case .externalID: return "identificador da dívida (external_id)"
        case .name: return "nome"
        case .document: return "CPF/CNPJ"
        case .amount: return "valor"
        case .dueDate: return "data de vencimento"
        case .email: return "e-mail"
        case .phone: return "telefone"
        case .description: return "descrição"
        case .operation: return "operação (I, A ou B)"
        case .withdrawalReason: return "motivo da baixa"
        }
    }

    /// Longest value accepted, in characters.
    public var maxLength: Int {
        switch self {
        case .externalID: return 100
        case .name: return 200
        case .document: return 18
        case .amount: return 40
        case .dueDate: return 10
        case .email: return 254
        case .phone: return 30
        case .description: return 1000
        case .operation: return 20
        case .withdrawalReason: return 40
        }
    }

    /// A header cell reduced to what is compared: lowercase, no accents, letters and digits only.
    /// `Data de Vencimento` → `datadevencimento`; `CPF/CNPJ` → `cpfcnpj`; `E-mail` → `email`.
    public static func headerKey(_ header: String) -> String {
        let folded = header.folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: nil)
        return String(folded.unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) }.map(Character.init))
    }

    public static func matching(header: String) -> DebtField? {
        let key = headerKey(header)
        return allCases.first { $0.aliases.contains(key) }
    }
}

/// Where each field sits in a file, found from its header row.
public struct StandardLayout: Sendable, Codable, Equatable {
    public var columns: [DebtField: Int]
    public var columnCount: Int
    public var dateFormat: DateFormat
    public var decimalFormat: DecimalFormat
    /// For a positional file: where each field sits on the line (then `columns` is empty).
    public var fixedWidth: [FixedWidthField]?

    public enum Problem: Error, Equatable, Sendable {
        case missingColumns([DebtField])
        case duplicateColumn(DebtField)
        /// A column the client's mapping names is not in the file's header.
        case columnNotFound(DebtField, header: String)
    }

    public init(columns: [DebtField: Int], columnCount: Int, dateFormat: DateFormat = .auto,
                decimalFormat: DecimalFormat = .auto, fixedWidth: [FixedWidthField]? = nil) {
        self.columns = columns
        self.columnCount = columnCount
        self.dateFormat = dateFormat
        self.decimalFormat = decimalFormat
        self.fixedWidth = fixedWidth
    }

    enum CodingKeys: String, CodingKey { case columns, columnCount, dateFormat, decimalFormat, fixedWidth }

    /// Layouts recorded before formats existed read as `auto`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        columns = try c.decode([DebtField: Int].self, forKey: .columns)
        columnCount = try c.decode(Int.self, forKey: .columnCount)
        dateFormat = try c.decodeIfPresent(DateFormat.self, forKey: .dateFormat) ?? .auto
        decimalFormat = try c.decodeIfPresent(DecimalFormat.self, forKey: .decimalFormat) ?? .auto
        fixedWidth = try c.decodeIfPresent([FixedWidthField].self, forKey: .fixedWidth)
    }

    /// The layout as a flat table for the per-row path: the column of each field by
    /// `DebtField.ordinal`, -1 where the file has none. Built once per sub-batch, not per row.
    public struct Positions: Sendable {
        public let column: [Int]
        public let columnCount: Int
    }

    public var positions: Positions {
        Positions(column: DebtField.allCases.map { columns[$0] ?? -1 }, columnCount: columnCount)
    }

    public static func fromHeader(_ header: [String]) -> Result<StandardLayout, Problem> {
        var columns: [DebtField: Int] = [:]
        for (index, cell) in header.enumerated() {
            guard let field = DebtField.matching(header: cell) else { continue }
            if columns[field] != nil { return .failure(.duplicateColumn(field)) }
            columns[field] = index
        }
        let missing = DebtField.allCases.filter { $0.isRequired && columns[$0] == nil }
        if !missing.isEmpty { return .failure(.missingColumns(missing)) }
        return .success(StandardLayout(columns: columns, columnCount: header.count))
    }
}
