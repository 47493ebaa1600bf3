/// A client's saved way of reading its files: which of the file's columns holds each field, and
/// how dates and amounts are written. Saved under a name (a preset); one may be the client's
/// default, used by the drop folder and by uploads that name none.
public struct ClientFormat: Codable, Sendable, Equatable {
    /// The header of the file's column for each field it maps, keyed by `DebtField.rawValue`.
    /// Headers compare as `DebtField.headerKey` does: case, accents, spaces and punctuation aside.
    public var columns: [String: String]
    public var dateFormat: DateFormat
    public var decimalFormat: DecimalFormat
    /// For a positional file (a CNAB-shaped TXT): where each field sits on the line. A format
    /// with these reads lines, not a header and columns.
    public var fixedWidth: [FixedWidthField]?
    /// Lines a positional file starts and ends with that are not records (header and trailer).
    public var skipFirstLines: Int?
    public var skipLastLines: Int?
    /// Every file read with this format is the client's whole open portfolio (`portfolio=full`).
    public var fullPortfolio: Bool?

    /// A positional file's format.
    public init(fixedWidth: [FixedWidthField], skipFirstLines: Int = 0, skipLastLines: Int = 0,
                dateFormat: DateFormat = .auto, decimalFormat: DecimalFormat = .auto) {
        self.columns = [:]
        self.fixedWidth = fixedWidth
        self.skipFirstLines = skipFirstLines
        self.skipLastLines = skipLastLines
        self.dateFormat = dateFormat
        self.decimalFormat = decimalFormat
    }

    public init(columns: [DebtField: String], dateFormat: DateFormat = .auto, decimalFormat: DecimalFormat = .auto) {
        self.columns = Dictionary(uniqueKeysWithValues: columns.map { ($0.key.rawValue, $0.value) })
        self.dateFormat = dateFormat
        self.decimalFormat = decimalFormat
    }

    public func column(of field: DebtField) -> String? { columns[field.rawValue] }

    /// What is wrong with the format itself, before any file: a required field unmapped, two
    /// fields on one column, or a field name that does not exist.
    public var problems: [String] {
        if let fixedWidth { return FixedWidthField.problems(fixedWidth, skipFirstLines: skipFirstLines ?? 0,
                                                            skipLastLines: skipLastLines ?? 0) }
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

    /// The layout of a positional file (nil for a column mapping).
    public var fixedWidthLayout: StandardLayout? {
        fixedWidth.map { StandardLayout(columns: [:], columnCount: 0, dateFormat: dateFormat, decimalFormat: decimalFormat,
                                        fixedWidth: $0) }
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
    /// field's known names, else one whose name contains it or a word creditors use for it
    /// (`Valor Original` → amount, `CPF do devedor` → document, `Contrato` → external_id, `Saldo
    /// (R$)` → amount), else one a typo away from a known name (`Vencimeto`). Each column goes to
    /// one field at most. Only a guess for a person to confirm: a file read without a format
    /// matches its header against the known names alone (`StandardLayout.fromHeader`).
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
            let names = field.aliases + field.synonyms
            for (i, key) in keys.enumerated() where !taken.contains(i) {
                let contained = names.filter { $0.count >= 3 && key.contains($0) }
                    .map { $0.count + (key.hasPrefix($0) ? 100 : 0) + (key == $0 ? 100 : 0) }.max()
                let typo = key.count >= 6 && names.contains { $0.count >= 6 && Self.withinOneEdit(key, $0) } ? 1 : nil
                if let score = contained ?? typo { pairs.append((score, field, i)) }
            }
        }
        for pair in pairs.sorted(by: { ($0.score, -$0.column) > ($1.score, -$1.column) })
        where out[pair.field] == nil && !taken.contains(pair.column) {
            out[pair.field] = pair.column
            taken.insert(pair.column)
        }
        return out
    }

    /// Whether `a` becomes `b` by one character inserted, removed or replaced (ASCII keys).
    static func withinOneEdit(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard abs(x.count - y.count) <= 1, x != y else { return false }
        var i = 0
        while i < min(x.count, y.count), x[i] == y[i] { i += 1 }
        // After the first difference the rest must match, skipping one character of the longer.
        if x.count == y.count { return x[(i + 1)...] == y[(i + 1)...] }
        return x.count > y.count ? x[(i + 1)...] == y[i...] : x[i...] == y[(i + 1)...]
    }
}

/// Where a field sits on the line of a positional file: from character `start` (the first is 1),
/// `length` characters, spaces around the value ignored.
public struct FixedWidthField: Codable, Sendable, Equatable {
    public var field: String
    public var start: Int
    public var length: Int

    public init(_ field: DebtField, start: Int, length: Int) {
        self.field = field.rawValue
        self.start = start
        self.length = length
    }

    /// The longest line a positional format may describe.
    public static let maxLineLength = 10_000

    static func problems(_ fields: [FixedWidthField], skipFirstLines: Int, skipLastLines: Int) -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        for f in fields {
            guard let field = DebtField(rawValue: f.field) else { out.append("O campo \(f.field) não existe."); continue }
            if !seen.insert(f.field).inserted { out.append("O campo \(field.portugueseName) aparece mais de uma vez.") }
            if f.start < 1 || f.length < 1 || f.start + f.length - 1 > maxLineLength {
                out.append("O campo \(field.portugueseName) deve começar na posição 1 ou depois e ter ao menos 1 caractere (até a posição \(maxLineLength)).")
            }
        }
        for field in DebtField.allCases where field.isRequired && !seen.contains(field.rawValue) {
            out.append("Informe a posição do campo \(field.portugueseName).")
        }
        let sorted = fields.filter { DebtField(rawValue: $0.field) != nil }.sorted { $0.start < $1.start }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.start < a.start + a.length {
            out.append("Os campos \(a.field) e \(b.field) se sobrepõem (posições \(a.start)–\(a.start + a.length - 1) e \(b.start)–\(b.start + b.length - 1)).")
        }
        if skipFirstLines < 0 || skipLastLines < 0 { out.append("As linhas a ignorar não podem ser negativas.") }
        return out
    }

    /// The values of one line (without its line break), by field.
    public static func values(of line: String, _ fields: [FixedWidthField]) -> [DebtField: String] {
        let scalars = Array(line.unicodeScalars)
        var out: [DebtField: String] = [:]
        for f in fields {
            guard let field = DebtField(rawValue: f.field) else { continue }
            let start = f.start - 1
            guard start < scalars.count else { out[field] = ""; continue }
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars[start..<min(start + f.length, scalars.count)])
            out[field] = String(text)
        }
        return out
    }
}
