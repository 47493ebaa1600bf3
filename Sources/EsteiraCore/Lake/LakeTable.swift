/// The lake's input tables (seed 004): a card issuer's monthly invoices and payments.
public enum LakeTable: String, Sendable, CaseIterable {
    case faturas
    case pagamentos

    public enum FieldType: Sendable, Equatable { case text, day, money }

    public struct Field: Sendable {
        public var name: String
        public var type: FieldType
    }

    /// The columns, in the order of the curated files; the first is the row's id.
    public var fields: [Field] {
        switch self {
        case .faturas:
            return [Field(name: "id_fatura", type: .text), Field(name: "id_cliente", type: .text), Field(name: "dt_emissao", type: .day),
                    Field(name: "dt_vencimento", type: .day), Field(name: "vl_fatura", type: .money)]
        case .pagamentos:
            return [Field(name: "id_pagamento", type: .text), Field(name: "id_fatura", type: .text), Field(name: "id_cliente", type: .text),
                    Field(name: "dt_pagamento", type: .day), Field(name: "vl_pagamento", type: .money)]
        }
    }

    /// The name the client's files carry: `tb_faturas_AAAAMM.csv`.
    public var fileStem: String { "tb_\(rawValue)" }
}

/// A month of the lake: how it is written (`2026-10`), in file names (`202610`), in partitions
/// (`ano=2026/mes=10`), and where its files wait in the inbox.
public struct LakeMonth: Sendable, Hashable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    /// The month of a day.
    public init(_ day: Day) {
        year = day.year
        month = day.month
    }

    /// `AAAA-MM`, or nil.
    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let y = Int(parts[0]), let m = Int(parts[1]),
              (1...12).contains(m) else { return nil }
        year = y
        month = m
    }

    public var first: Day { Day(year: year, month: month, day: 1)! }
    public func adding(months: Int) -> LakeMonth { LakeMonth(first.adding(months: months)) }
    public var description: String { String(format: "%04d-%02d", year, month) }
    public var stamp: String { String(format: "%04d%02d", year, month) }
    public var partition: String { String(format: "ano=%04d/mes=%02d", year, month) }
    /// `tb_faturas_AAAAMM.csv`.
    public func fileName(_ table: LakeTable) -> String { "\(table.fileStem)_\(stamp).csv" }
    /// Where the month's file of `table` waits: `lake/inbox/tb_faturas_AAAAMM.csv` in the blob store.
    public func inboxKey(_ table: LakeTable) -> String { "lake/inbox/\(fileName(table))" }
}

/// A typed cell of a lake row.
public enum LakeValue: Sendable, Equatable, Hashable {
    case text(String)
    case day(Day)
    case money(Int64)
}

/// A row that passed the schema: its line in the file and its values in the table's order.
public struct LakeRow: Sendable, Equatable {
    public var line: Int
    public var values: [LakeValue]
    public var id: String { if case .text(let s) = values[0] { return s } else { return "" } }
}

/// A row kept out of the curated layer, with why (in Portuguese, for the client) and the raw line.
public struct LakeQuarantined: Sendable, Equatable {
    public var line: Int
    public var field: String
    /// LK101 empty, LK102 not a date, LK103 not an amount, LK104 an id repeated with other content.
    public var code: String
    public var reason: String
    public var raw: String
}

/// What became of a file's rows: `raw = curated + duplicates + quarantined`, exactly.
public struct LakeCounts: Sendable, Equatable, Codable {
    public var raw: Int
    public var curated: Int
    public var duplicates: Int
    public var quarantined: Int

    public init(raw: Int, curated: Int, duplicates: Int, quarantined: Int) {
        self.raw = raw
        self.curated = curated
        self.duplicates = duplicates
        self.quarantined = quarantined
    }

    public var isBalanced: Bool { raw == curated + duplicates + quarantined }
}

/// Reads a lake file with the debts' CSV machinery (encoding and delimiter detected, RFC 4180
/// quotes, headers matched ignoring case and accents, dates `AAAA-MM-DD` or `DD/MM/AAAA`, amounts
/// with a decimal comma or point), types every row, and removes repeated ids: the same id with the
/// same content is a duplicate (kept once); with different content every row of that id goes to
/// quarantine, since which one is right cannot be told.
public enum LakeFile {
    /// Why a whole file is refused (its month's layers are then left as they were).
    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case notText
        case missingColumn(String)
        case empty

        public var code: String {
            switch self {
            case .notText: return "LK001"
            case .missingColumn: return "LK002"
            case .empty: return "LK003"
            }
        }

        public var description: String {
            switch self {
            case .notText: return "LK001: o arquivo não é texto (CSV)."
            case .missingColumn(let c): return "LK002: falta a coluna obrigatória \(c)."
            case .empty: return "LK003: o arquivo está vazio."
            }
        }
    }

    public struct Curated: Sendable {
        public var rows: [LakeRow]
        public var quarantined: [LakeQuarantined]
        public var counts: LakeCounts
    }

    /// Why a row is kept out: the field, the code and the reason in Portuguese.
    struct RowProblem: Error {
        var field: String
        var code: String
        var reason: String
    }

    /// A record's values in the table's order, or why it goes to quarantine.
    static func typedRow(_ fields: [String], positions: [Int], table: LakeTable) -> Result<[LakeValue], RowProblem> {
        var values: [LakeValue] = []
        values.reserveCapacity(table.fields.count)
        for (f, i) in zip(table.fields, positions) {
            let text = i < fields.count ? fields[i].trimmedSpaces : ""
            if text.isEmpty { return .failure(RowProblem(field: f.name, code: "LK101", reason: "\(f.name) vazio")) }
            switch f.type {
            case .text:
                values.append(.text(text))
            case .day:
                guard let d = Day.parse(text) else {
                    return .failure(RowProblem(field: f.name, code: "LK102", reason: "data \(text) inválida (use AAAA-MM-DD ou DD/MM/AAAA)"))
                }
                values.append(.day(d))
            case .money:
                guard case .success(let cents) = Money.parseCents(text), cents <= 999_999_999_999_999 else {
                    return .failure(RowProblem(field: f.name, code: "LK103", reason: "valor \(text) inválido"))
                }
                values.append(.money(cents))
            }
        }
        return .success(values)
    }

    /// The data records of a CSV file, counted on their own: the records (RFC 4180 framing) that
    /// are not blank, less the header. The reconciliation counts the raw file and the quarantine
    /// this way, apart from the pass that typed and wrote them.
    public static func dataRecords(in bytes: [UInt8]) -> Int {
        let head = Array(bytes.prefix(64 * 1024))
        let bom = TextHead.bomLength(head)
        var records = 0
        bytes.withUnsafeBufferPointer { whole in
            var scanner = CSVScanner(delimiter: TextHead.delimiter(head))
            let count = { (r: CSVScanner.Record) in if !r.isBlank { records += 1 } }
            scanner.feed(UnsafeBufferPointer(rebasing: whole[bom...]), onRecord: count)
            scanner.finish(onRecord: count)
        }
        return max(0, records - 1)
    }

    public static func curate(_ bytes: [UInt8], table: LakeTable) throws(Problem) -> Curated {
        let head = Array(bytes.prefix(64 * 1024))
        if TextHead.looksBinary(head) { throw .notText }
        let bom = TextHead.bomLength(head)
        let encoding = TextHead.encoding(bytes, complete: true)
        let delimiter = TextHead.delimiter(head)
        // Each record is typed as it is scanned: only the typed rows are kept (and, for each, where
        // its bytes are, for the rare one that goes to quarantine later), not every record's text.
        var positions: [Int]?
        var problem: Problem?
        var typed: [LakeRow] = []
        var typedRange: [Range<Int>] = []
        var quarantined: [LakeQuarantined] = []
        var rawCount = 0
        /// A record's text as received, without its line break; `range` counts from after the BOM.
        func raw(_ range: Range<Int>) -> String {
            var text = encoding.decode(bytes[(bom + range.lowerBound)..<(bom + range.upperBound)])
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            return text
        }
        bytes.withUnsafeBufferPointer { whole in
            let buffer = UnsafeBufferPointer(rebasing: whole[bom...])
            var scanner = CSVScanner(delimiter: delimiter)
            let collect = { (r: CSVScanner.Record) in
                guard !r.isBlank, problem == nil else { return }
                let fields = CSVRecordParser.fields(UnsafeBufferPointer(rebasing: buffer[r.start..<r.end]), delimiter: delimiter,
                                                    encoding: encoding).values
                guard let positions else {
                    let keys = fields.map(DebtField.headerKey)
                    var found: [Int] = []
                    for f in table.fields {
                        guard let i = keys.firstIndex(of: DebtField.headerKey(f.name)) else { problem = .missingColumn(f.name); return }
                        found.append(i)
                    }
                    positions = found
                    return
                }
                rawCount += 1
                switch Self.typedRow(fields, positions: positions, table: table) {
                case .success(let values):
                    typed.append(LakeRow(line: r.line, values: values))
                    typedRange.append(r.start..<r.end)
                case .failure(let q):
                    quarantined.append(LakeQuarantined(line: r.line, field: q.field, code: q.code, reason: q.reason, raw: raw(r.start..<r.end)))
                }
            }
            scanner.feed(buffer, onRecord: collect)
            scanner.finish(onRecord: collect)
        }
        if let problem { throw problem }
        guard positions != nil else { throw .empty }

        // Repeated ids: one hash per row; the rare repeats are sorted out afterwards.
        var first: [String: Int] = [:]
        first.reserveCapacity(typed.count)
        var repeats: [String: [Int]] = [:]
        for (i, row) in typed.enumerated() {
            let id = row.id
            if let earlier = first.updateValue(i, forKey: id) {
                first[id] = earlier
                repeats[id, default: [earlier]].append(i)
            }
        }
        var duplicates = 0
        var keep = typed
        if !repeats.isEmpty {
            var dropped = Set<Int>()
            for (id, group) in repeats {
                if group.allSatisfy({ typed[$0].values == typed[group[0]].values }) {
                    duplicates += group.count - 1
                    dropped.formUnion(group.dropFirst())
                } else {
                    dropped.formUnion(group)
                    for i in group {
                        quarantined.append(LakeQuarantined(line: typed[i].line, field: table.fields[0].name, code: "LK104",
                                                           reason: "\(table.fields[0].name) \(id) repetido com conteúdo diferente",
                                                           raw: raw(typedRange[i])))
                    }
                }
            }
            keep = typed.indices.filter { !dropped.contains($0) }.map { typed[$0] }
        }
        quarantined.sort { $0.line < $1.line }
        return Curated(rows: keep, quarantined: quarantined,
                       counts: LakeCounts(raw: rawCount, curated: keep.count, duplicates: duplicates, quarantined: quarantined.count))
    }
}
