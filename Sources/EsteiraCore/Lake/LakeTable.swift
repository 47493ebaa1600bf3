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

    public static func curate(_ bytes: [UInt8], table: LakeTable) throws(Problem) -> Curated {
        let head = Array(bytes.prefix(64 * 1024))
        if TextHead.looksBinary(head) { throw .notText }
        let bom = TextHead.bomLength(head)
        let encoding = TextHead.encoding(bytes, complete: true)
        // Each record's fields and where its bytes are; a record's raw text is decoded only when
        // it goes to quarantine.
        var records: [(line: Int, fields: [String], start: Int, end: Int)] = []
        let body = Array(bytes[bom...])
        let delimiter = TextHead.delimiter(head)
        body.withUnsafeBufferPointer { buffer in
            var scanner = CSVScanner(delimiter: delimiter)
            let collect = { (r: CSVScanner.Record) in
                guard !r.isBlank else { return }
                let fields = CSVRecordParser.fields(UnsafeBufferPointer(rebasing: buffer[r.start..<r.end]), delimiter: delimiter, encoding: encoding)
                records.append((r.line, fields.values, r.start, r.end))
            }
            scanner.feed(buffer, onRecord: collect)
            scanner.finish(onRecord: collect)
        }
        func raw(_ i: Int) -> String {
            var text = encoding.decode(body[records[i].start..<records[i].end])
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            return text
        }
        guard let header = records.first else { throw .empty }
        let keys = header.fields.map(DebtField.headerKey)
        var positions: [Int] = []
        for f in table.fields {
            guard let i = keys.firstIndex(of: DebtField.headerKey(f.name)) else { throw .missingColumn(f.name) }
            positions.append(i)
        }

        var typed: [LakeRow] = []
        var typedRecord: [Int] = []
        typed.reserveCapacity(records.count - 1)
        typedRecord.reserveCapacity(records.count - 1)
        var quarantined: [LakeQuarantined] = []
        let rawCount = records.count - 1
        for index in 1..<records.count {
            let r = records[index]
            var values: [LakeValue] = []
            values.reserveCapacity(table.fields.count)
            var problem: (String, String, String)?
            for (f, i) in zip(table.fields, positions) {
                let text = i < r.fields.count ? r.fields[i].trimmedSpaces : ""
                if text.isEmpty { problem = (f.name, "LK101", "\(f.name) vazio"); break }
                switch f.type {
                case .text:
                    values.append(.text(text))
                case .day:
                    guard let d = Day.parse(text) else { problem = (f.name, "LK102", "data \(text) inválida (use AAAA-MM-DD ou DD/MM/AAAA)"); break }
                    values.append(.day(d))
                case .money:
                    guard case .success(let cents) = Money.parseCents(text), cents <= 999_999_999_999_999 else {
                        problem = (f.name, "LK103", "valor \(text) inválido"); break
                    }
                    values.append(.money(cents))
                }
                if problem != nil { break }
            }
            if let (field, code, reason) = problem {
                quarantined.append(LakeQuarantined(line: r.line, field: field, code: code, reason: reason, raw: raw(index)))
            } else {
                typed.append(LakeRow(line: r.line, values: values))
                typedRecord.append(index)
            }
        }

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
                                                           raw: raw(typedRecord[i])))
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
