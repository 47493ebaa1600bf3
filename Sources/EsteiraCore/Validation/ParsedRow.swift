/// A record of a file as the parser reads it: fields found by the layout, trimmed and normalized,
/// waiting for `DebtValidator`. Nothing here has been judged yet, except what could not even be
/// read (`structure`).
public struct ParsedRow: Sendable, Equatable {
    public enum Structure: Sendable, Equatable {
        case ok
        case columnCount(expected: Int, found: Int)
        case unclosedQuote
    }

    public var line: Int
    public var structure: Structure
    /// Trimmed values; an absent optional field is the empty string.
    public var externalID: String
    public var name: String
    /// Mask removed and uppercased (see `TaxID.normalize`).
    public var document: String
    /// The amount as written (trimmed); parsed by the validator.
    public var amount: String
    /// The due date as written (trimmed); parsed by the validator.
    public var dueDate: String
    public var email: String
    public var phone: String
    public var description: String
    /// The operation as written (trimmed); read by the validator (`DebtOperation`).
    public var operation: String = ""
    /// The withdrawal's reason as written (trimmed).
    public var withdrawalReason: String = ""
    /// Fields whose bytes in the file were not UTF-8 (a file read as `utf8WithInvalidBytes`).
    public var undecodable: [DebtField] = []

    public init(line: Int, structure: Structure = .ok, externalID: String = "", name: String = "",
                document: String = "", amount: String = "", dueDate: String = "", email: String = "",
                phone: String = "", description: String = "") {
        self.line = line
        self.structure = structure
        self.externalID = externalID
        self.name = name
        self.document = document
        self.amount = amount
        self.dueDate = dueDate
        self.email = email
        self.phone = phone
        self.description = description
    }

    public func value(of field: DebtField) -> String {
        switch field {
        case .externalID: return externalID
        case .name: return name
        case .document: return document
        case .amount: return amount
        case .dueDate: return dueDate
        case .email: return email
        case .phone: return phone
        case .description: return description
        case .operation: return operation
        case .withdrawalReason: return withdrawalReason
        }
    }

    /// A record given field by field (a debt sent as JSON): trimmed and normalized as a file's
    /// fields are; a field not given is empty.
    public init(line: Int, values: [DebtField: String]) {
        func get(_ f: DebtField) -> String { values[f]?.trimmedSpaces ?? "" }
        self.init(line: line, externalID: get(.externalID), name: get(.name),
                  document: TaxID.normalize(get(.document)[...]), amount: get(.amount), dueDate: get(.dueDate),
                  email: get(.email), phone: get(.phone), description: get(.description))
        operation = get(.operation)
        withdrawalReason = get(.withdrawalReason)
    }

    /// Builds the staging row of one parsed record.
    public init(line: Int, fields: CSVRecordParser.Fields, layout: StandardLayout.Positions) {
        var values = fields.values
        var structure = Structure.ok
        if fields.unclosedQuote {
            structure = .unclosedQuote
        } else if values.count != layout.columnCount {
            // A trailing delimiter (empty extra cells) is harmless; anything else is not.
            let extraAreEmpty = values.count > layout.columnCount
                && values[layout.columnCount...].allSatisfy { $0.trimmedSpaces.isEmpty }
            if extraAreEmpty { values.removeLast(values.count - layout.columnCount) }
            else { structure = .columnCount(expected: layout.columnCount, found: values.count) }
        }
        func get(_ f: DebtField) -> String {
            let i = layout.column[f.ordinal]
            guard i >= 0, i < values.count else { return "" }
            return values[i].trimmedSpaces
        }
        self.init(line: line, structure: structure,
                  externalID: get(.externalID), name: get(.name),
                  document: TaxID.normalize(get(.document)[...]),
                  amount: get(.amount), dueDate: get(.dueDate), email: get(.email),
                  phone: get(.phone), description: get(.description))
        operation = get(.operation)
        withdrawalReason = get(.withdrawalReason)
        if !fields.undecodable.isEmpty {
            undecodable = DebtField.allCases.filter { fields.undecodable.contains(layout.column[$0.ordinal]) }
        }
    }
}
