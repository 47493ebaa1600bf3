/// Where a batch is in the pipeline.
public enum BatchStatus: String, Sendable, Codable, CaseIterable {
    case received
    case processing
    case completed
    case completedWithRejects = "completed_with_rejects"
    case failed
    /// A preview (`dry_run`): read, validated and replayed over the registry, nothing written;
    /// it waits for the client to confirm it, and then goes on as `processing`.
    case previewed
    /// A step of the batch ran out of attempts: its job waits, dead, for an operator, and the batch
    /// waits with it (`BatchStall`). Revived, it goes back to where it stood and on from there.
    case stalled
    /// Cancelled by an operator: it registers nothing more; what it registered before stays.
    case cancelled

    public var isFinal: Bool { self == .completed || self == .completedWithRejects || self == .failed || self == .cancelled }

    /// The status as a Brazilian client reads it (the web pages, the drop folder's return files).
    public var portugueseName: String {
        switch self {
        case .received: "Recebido"
        case .processing: "Processando"
        case .completed: "Concluído"
        case .completedWithRejects: "Concluído com rejeições"
        case .failed: "Falhou"
        case .previewed: "Prévia pronta: aguardando confirmação"
        case .stalled: "Parado: aguardando a equipe de operação"
        case .cancelled: "Cancelado pela equipe de operação"
        }
    }
}

/// Why a batch is `stalled`, as its client reads it: the step that stopped, in Portuguese, and
/// what happens next. The step's own error stays with the operators (it may name the agency's
/// systems); the client learns which step and that nothing is lost.
public struct BatchStall: Sendable, Equatable, Codable {
    /// The pipeline's step whose job died: `pick`, `transform`, `register`, `finalize`, `preview`.
    public var step: String

    public init(step: String) {
        self.step = step
    }

    /// The steps of a batch whose death stalls it. (A cleanup runs after the batch is final.)
    public static let steps: Set<String> = ["pick", "transform", "register", "finalize", "preview"]

    enum CodingKeys: String, CodingKey { case step, reason }

    public init(from decoder: any Decoder) throws {
        step = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .step)
    }

    /// The step and its reason, as the API and the webhook show them.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encode(reason, forKey: .reason)
    }

    public var reason: String {
        let what = switch step {
        case "pick": "A leitura e a divisão do arquivo em partes"
        case "transform": "A leitura e a validação das linhas"
        case "register": "O registro das dívidas"
        case "finalize": "O fechamento do lote"
        case "preview": "A prévia do lote"
        default: "Uma etapa do processamento"
        }
        return "\(what) falhou em todas as tentativas. A equipe de operação foi avisada; quando a etapa for retomada, "
            + "o lote continua de onde parou, sem perder nem repetir linhas."
    }
}

/// What happened to the rows of a batch. When the batch is final,
/// `received == registered + updated + withdrawn + duplicates + rejected`.
public struct BatchCounts: Sendable, Codable, Equatable {
    public var received: Int
    /// Inclusions that registered a new debt.
    public var registered: Int
    /// Corrections that changed a debt.
    public var updated: Int
    /// Withdrawals that took a debt out of collection.
    public var withdrawn: Int
    /// Rows that changed nothing: an inclusion, correction or withdrawal of what already stood.
    public var duplicates: Int
    public var rejected: Int
    /// Of the registered, how many the risk rules flagged for review.
    public var review: Int

    public init(received: Int = 0, registered: Int = 0, updated: Int = 0, withdrawn: Int = 0, duplicates: Int = 0,
                rejected: Int = 0, review: Int = 0) {
        self.received = received
        self.registered = registered
        self.updated = updated
        self.withdrawn = withdrawn
        self.duplicates = duplicates
        self.rejected = rejected
        self.review = review
    }

    public var isBalanced: Bool { received == registered + updated + withdrawn + duplicates + rejected }
}

/// A reason a whole file cannot be processed; the batch ends `failed` with this message.
public struct FileProblem: Error, Sendable, Equatable {
    public var code: String
    /// Portuguese, for the client.
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public static let empty = FileProblem(code: "F001", message: "O arquivo está vazio.")
    public static let notText = FileProblem(code: "F002", message: "O arquivo não é texto (parece ser binário). Envie um CSV ou uma planilha XLSX.")

    /// F002, saying what the file seems to be when its first bytes are a known signature, so the
    /// client knows what to do. (ZIP and OLE2 files never get here: they are read as spreadsheets.)
    public static func notText(head: [UInt8]) -> FileProblem {
        func starts(_ signature: [UInt8]) -> Bool { head.starts(with: signature) }
        let what: String
        if starts(Array("%PDF-".utf8)) {
            what = "O arquivo é um PDF, não um CSV. Envie os dados como CSV ou XLSX."
        } else if starts([0x1F, 0x8B]) {
            what = "O arquivo está compactado (gzip). Descompacte-o e envie o CSV."
        } else {
            return notText
        }
        return FileProblem(code: "F002", message: what)
    }
    public static let noRows = FileProblem(code: "F003", message: "O arquivo tem cabeçalho mas nenhuma linha de dados.")
    public static func missingColumns(_ fields: [DebtField]) -> FileProblem {
        let names = fields.map { "\($0.rawValue) (\($0.portugueseName))" }.joined(separator: ", ")
        return FileProblem(code: "F004", message: "Coluna obrigatória ausente no cabeçalho: \(names).")
    }
    /// No record of a debt comes near this size; one that does is a quote left open, which would
    /// swallow the rest of the file.
    public static let maxRecordBytes = 1 << 20
    public static func recordTooLarge(line: Int) -> FileProblem {
        FileProblem(code: "F006", message: "O registro que começa na linha \(line) tem mais de 1 MB: provavelmente aspas abertas e não fechadas. Corrija a linha \(line) e envie de novo.")
    }
    public static func mappedColumnNotFound(_ field: DebtField, header: String) -> FileProblem {
        FileProblem(code: "F007", message: "A coluna \(header), escolhida no formato para \(field.portugueseName), não está no cabeçalho do arquivo.")
    }
    /// F010–F014: spreadsheets. The message comes from the reader and says what is wrong.
    public static func spreadsheetCorrupt(_ message: String) -> FileProblem { FileProblem(code: "F010", message: message) }
    public static func spreadsheetEncrypted(_ message: String) -> FileProblem { FileProblem(code: "F011", message: message) }
    public static let spreadsheetWithPassword = spreadsheetEncrypted(
        "A planilha está protegida por senha (criptografada). Salve-a sem senha e envie de novo.")
    public static func spreadsheetEmpty(_ message: String) -> FileProblem { FileProblem(code: "F012", message: message) }
    public static func spreadsheetTooLarge(_ message: String) -> FileProblem { FileProblem(code: "F013", message: message) }
    public static func spreadsheetUnsupported(_ message: String) -> FileProblem { FileProblem(code: "F014", message: message) }
    /// F015: a file sent by a channel that is only counted once read (a spreadsheet, the drop
    /// folder, a submission, the web pages) that would pass the client's rows of the day.
    public static func dailyRowsExceeded(records: Int, used: Int, limit: Int) -> FileProblem {
        FileProblem(code: "F015", message: "O arquivo tem \(records) linhas e passaria da cota diária de \(limit) linhas deste cliente "
                    + "(\(used) já recebidas hoje). Envie-o amanhã ou peça à operação para aumentar a cota.")
    }
    /// The file problem of a header that does not fit a layout (F004, F005, F007).
    public init(_ problem: StandardLayout.Problem) {
        switch problem {
        case .missingColumns(let missing): self = .missingColumns(missing)
        case .duplicateColumn(let field): self = .duplicateColumn(field)
        case .columnNotFound(let field, let header): self = .mappedColumnNotFound(field, header: header)
        }
    }

    public static func duplicateColumn(_ field: DebtField) -> FileProblem {
        FileProblem(code: "F005", message: "O cabeçalho tem mais de uma coluna para \(field.rawValue) (\(field.portugueseName)).")
    }
}
