/// A client's saved way of reading its files: which of the file's columns holds each field, and
/// how dates and amounts are written. Saved under a name (a preset); one may be the client's
/// default, used by the drop folder and by uploads that name none.
public struct ClientFormat: Codable, Sendable, Equatable {
    /// The header of the file's column for each field it maps, keyed by `DebtField.rawValue`.
    /// Headers compare as `DebtField.headerKey` does: case, accents, spaces and punctuation aside.
    public var columns: [String: String]
    public var dateFormat: DateFormat
    public var decimalFormat: DecimalFormat

    public init(columns: [DebtField: String], dateFormat: DateFormat = .auto, decimalFormat: DecimalFormat = .auto) {
        self.columns = Dictionary(uniqueKeysWithValues: columns.map { ($0.key.rawValue, $0.value) })
        self.dateFormat = dateFormat
        self.decimalFormat = decimalFormat
    }

    public func column(of field: DebtField) -> String? { columns[field.rawValue] }

    /// What is wrong with the format itself, before any file: a required field unmapped, two
    /// fields on one column, or a field name that does not exist.
    public var problems: [String] {
        var out: [String] = []
        for key in columns.keys.sorted() where DebtField(rawValue: key) == nil {
            out.append("O campo \(key) não existe.")
        }
        for field in DebtField.allCases where field.isRequired && (column(of: field) ?? "").trimmedSpaces.isEmpty {
            out.append("Escolha a coluna do campo \(field.portugueseName).")
        }
        var seen: [String: DebtField] = [:]
        for field in DebtField.allCases {
            guard let header = column(of: field), !header.trimmedSpaces.isEmpty else { continue }
            let key = DebtField.headerKey(header)
            if let other = seen[key] {
                out.append("A coluna \(header) foi escolhida para \(other.portugueseName) e para \(field.portugueseName).")
            }
            seen[key] = field
        }
        return out
    }

    /// The layout of a file with this header, or which mapped column it lacks.
    public func layout(header: [String]) -> Result<StandardLayout, StandardLayout.Problem> {
        let keys = header.map { DebtField.headerKey($0) }
        var columns: [DebtField: Int] = [:]
        for field in DebtField.allCases {
            guard let wanted = column(of: field), !wanted.trimmedSpaces.isEmpty else { continue }
            let key = DebtField.headerKey(wanted)
            guard let index = keys.firstIndex(of: key) else { return .failure(.columnNotFound(field, header: wanted)) }
            guard keys[(index + 1)...].firstIndex(of: key) == nil else { return .failure(.duplicateColumn(field)) }
            columns[field] = index
        }
        let missing = DebtField.allCases.filter { $0.isRequired && columns[$0] == nil }
        if !missing.isEmpty { return .failure(.missingColumns(missing)) }
        return .success(StandardLayout(columns: columns, columnCount: header.count,
                                       dateFormat: dateFormat, decimalFormat: decimalFormat))
    }

    /// A first guess at the mapping from a header's names: a column whose name is one of the
    /// field's known names, else one whose name contains it (`Valor Original` → amount,
    /// `CPF do devedor` → document). Each column goes to one field at most.
    public static func suggestion(header: [String]) -> [DebtField: Int] {
        let keys = header.map { DebtField.headerKey($0) }
        var taken = Set<Int>()
        var out: [DebtField: Int] = [:]
        for field in DebtField.allCases {
            if let i = keys.indices.first(where: { !taken.contains($0) && field.aliases.contains(keys[$0]) }) {
                out[field] = i
                taken.insert(i)
            }
        }
        // Containment is weaker evidence, so the pairs are ranked: a known name at the start of
        // the column's name beats one inside it (`CPF do devedor` is the document, not the name),
        // and a longer known name beats a shorter one.
        var pairs: [(score: Int, field: DebtField, column: Int)] = []
        for field in DebtField.allCases where out[field] == nil {
            for (i, key) in keys.enumerated() where !taken.contains(i) {
                let score = field.aliases.filter { $0.count >= 3 && key.contains($0) }
                    .map { $0.count + (key.hasPrefix($0) ? 100 : 0) }.max()
                if let score { pairs.append((score, field, i)) }
            }
        }
        for pair in pairs.sorted(by: { ($0.score, -$0.column) > ($1.score, -$1.column) })
        where out[pair.field] == nil && !taken.contains(pair.column) {
            out[pair.field] = pair.column
            taken.insert(pair.column)
        }
        return out
    }
}
