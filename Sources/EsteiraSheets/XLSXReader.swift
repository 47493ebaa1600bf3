import EsteiraCore
import Foundation

/// Why a spreadsheet cannot be read, in words a client understands (Portuguese).
public struct SheetProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Not a ZIP, or a ZIP without a workbook, or a part that does not inflate or parse.
        case corrupt
        /// Saved with a password: an OLE2 container with an encrypted package, not a ZIP.
        case encrypted
        /// The first sheet has no cell with a value.
        case emptySheet
        /// Past a limit: a zip bomb, or a sheet beyond what Excel itself allows.
        case tooLarge
        /// An XLS file where no converter is installed.
        case unsupported
    }
    public var kind: Kind
    public var message: String
    public var description: String { message }
}

extension FileProblem {
    /// The batch's reason for a spreadsheet that cannot be read: F010 to F014.
    public init(_ problem: SheetProblem) {
        switch problem.kind {
        case .corrupt: self = .spreadsheetCorrupt(problem.message)
        case .encrypted: self = .spreadsheetEncrypted(problem.message)
        case .emptySheet: self = .spreadsheetEmpty(problem.message)
        case .tooLarge: self = .spreadsheetTooLarge(problem.message)
        case .unsupported: self = .spreadsheetUnsupported(problem.message)
        }
    }
}

/// The first bytes that say a file is a spreadsheet: a ZIP (PKWARE APPNOTE 4.3.7: an XLSX) or an
/// OLE2 compound file (an XLS, or an XLSX saved with a password).
public enum SpreadsheetSignature {
    public static let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    public static let ole2: [UInt8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]
}

/// Limits on what one spreadsheet may unpack to. A ZIP's sizes are only the ZIP's word, so they
/// are counted while inflating, never trusted beforehand.
public struct SheetLimits: Sendable {
    /// Total bytes inflated from all parts read.
    public var maxInflatedBytes: Int = 2 << 30
    /// Bytes inflated per byte stored, once a part passes 1 MiB. Real sheet XML compresses 10 to
    /// 30 times; a zip bomb, thousands of times.
    public var maxRatio: Int = 200
    /// Excel's own limits: 1,048,576 rows and 16,384 columns (XFD); a cell holds 32,767 characters.
    public var maxRows: Int = 1_048_576
    public var maxColumns: Int = 16_384
    public var maxCellCharacters: Int = 32_767
    /// The shared-string table lives in memory while the sheet streams.
    public var maxSharedStringBytes: Int = 256 << 20

    public init() {}
}

/// Reads the first sheet of an XLSX workbook as rows of text, streaming the sheet's XML from the
/// ZIP without inflating it whole. Shared strings, inline strings and formula results are text;
/// numbers are plain decimals (`ExcelValues.plainDecimal`); a number whose cell has a date format
/// is a `Day`.
public struct XLSXReader {
    public enum Cell: Equatable, Sendable {
        case text(String)
        case number(String)
        case date(Day)
        case empty
    }

    let archive: ZIPArchive
    let limits: SheetLimits
    private var inflated = 0

    public init(url: URL, limits: SheetLimits = SheetLimits()) throws {
        self.limits = limits
        if let head = try? FileHandle(forReadingFrom: url).read(upToCount: 8),
           Array(head).starts(with: SpreadsheetSignature.ole2) {
            throw SheetProblem(kind: .encrypted, message: FileProblem.spreadsheetWithPassword.message)
        }
        do {
            archive = try ZIPArchive(url: url)
        } catch {
            throw SheetProblem(kind: .corrupt, message: "O arquivo não é uma planilha XLSX válida (o ZIP está corrompido ou incompleto).")
        }
    }

    static func corrupt(_ detail: String) -> SheetProblem {
        SheetProblem(kind: .corrupt, message: "A planilha XLSX está corrompida: \(detail).")
    }

    /// Streams one part of the workbook through the XML scanner.
    mutating func scan(_ path: String, required: Bool = true, _ handle: (XMLScanner.Event) throws -> Void) throws {
        guard let entry = archive[path] else {
            if required { throw Self.corrupt("falta a parte \(path)") }
            return
        }
        var scanner = XMLScanner()
        var produced = 0
        // Clamped: a hostile file's size need not fit an Int (found by the fuzzer, target xlsx).
        // The archive has made sure the part's bytes lie inside the file before it gives any.
        let stored = max(Int(clamping: entry.compressedSize), 1)
        let limits = self.limits, already = inflated
        let checksum: UInt32
        do {
            checksum = try archive.read(entry) { piece in
                produced += piece.count
                if already + produced > limits.maxInflatedBytes || (produced > 1 << 20 && produced / stored > limits.maxRatio) {
                    throw SheetProblem(kind: .tooLarge, message: "A planilha descompactada é grande demais (possível arquivo malicioso): a parte \(path) passa de \(produced / stored) vezes o seu tamanho compactado.")
                }
                try scanner.feed(piece, handle)
            }
            try scanner.finish()
        } catch let problem as ZIPArchive.Problem {
            throw Self.corrupt(problem.description)
        } catch let malformed as XMLScanner.Malformed {
            throw Self.corrupt("XML inválido em \(path): \(malformed.description)")
        }
        guard checksum == entry.crc32 else { throw Self.corrupt("a soma de verificação de \(path) não confere") }
        inflated += produced
    }

    /// The workbook's first sheet part, and whether its dates count from 1904.
    mutating func firstSheet() throws -> (path: String, date1904: Bool) {
        var relID: String?
        var date1904 = false
        try scan("xl/workbook.xml") { event in
            guard case let .start(name, attributes, _) = event else { return }
            if name == "workbookPr", let v = attributes["date1904"] { date1904 = v == "1" || v == "true" }
            if name == "sheet", relID == nil { relID = attributes["id"] }
        }
        guard let relID else { throw SheetProblem(kind: .emptySheet, message: "A planilha não tem nenhuma aba.") }
        var target: String?
        try scan("xl/_rels/workbook.xml.rels") { event in
            if case let .start("Relationship", attributes, _) = event, attributes["Id"] == relID { target = attributes["Target"] }
        }
        guard let target else { throw Self.corrupt("a primeira aba não aponta para nenhuma parte") }
        // Targets are relative to xl/, or absolute from the package root.
        let path = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
        return (path, date1904)
    }

    /// The shared strings, each the concatenation of its `<t>` runs (phonetic `<rPh>` runs aside).
    mutating func sharedStrings() throws -> [String] {
        var strings: [String] = []
        var current = "", inT = false, inPhonetic = false, bytes = 0
        let limits = self.limits
        try scan("xl/sharedStrings.xml", required: false) { event in
            switch event {
            case let .start(name, _, selfClosing):
                if name == "si" { current = "" }
                else if name == "t" && !selfClosing { inT = true }
                else if name == "rPh" && !selfClosing { inPhonetic = true }
            case let .end(name):
                if name == "t" { inT = false }
                else if name == "rPh" { inPhonetic = false }
                else if name == "si" {
                    bytes += current.utf8.count
                    guard bytes <= limits.maxSharedStringBytes else {
                        throw SheetProblem(kind: .tooLarge, message: "A tabela de textos da planilha passa de \(limits.maxSharedStringBytes >> 20) MB.")
                    }
                    strings.append(XLSXReader.unescapeOOXML(current))
                }
            case let .text(text):
                if inT && !inPhonetic { current += text }
            }
        }
        return strings
    }

    /// Which cell styles (`s` attribute, an index into `cellXfs`) show dates.
    mutating func dateStyles() throws -> Set<Int> {
        var codes: [Int: String] = [:]
        var formatOfStyle: [Int] = []
        var inCellXfs = false
        try scan("xl/styles.xml", required: false) { event in
            switch event {
            case let .start(name, attributes, selfClosing):
                if name == "numFmt", let id = attributes["numFmtId"].flatMap({ Int($0) }) { codes[id] = attributes["formatCode"] }
                if name == "cellXfs" && !selfClosing { inCellXfs = true }
                if name == "xf" && inCellXfs { formatOfStyle.append(attributes["numFmtId"].flatMap { Int($0) } ?? 0) }
            case let .end(name):
                if name == "cellXfs" { inCellXfs = false }
            case .text:
                break
            }
        }
        var out = Set<Int>()
        for (style, id) in formatOfStyle.enumerated() where ExcelValues.isDateFormat(id: id, code: codes[id]) { out.insert(style) }
        return out
    }

    /// `_x000D_` and the like, OOXML's escape for characters XML cannot carry.
    static func unescapeOOXML(_ s: String) -> String {
        // A byte scan: Foundation's `contains(_:)` on every cell's text showed in profiles.
        guard s.utf8.contains(UInt8(ascii: "_")), s.range(of: "_x") != nil else { return s }
        var out = ""
        var rest = Substring(s)
        while let r = rest.range(of: "_x") {
            out += rest[..<r.lowerBound]
            let after = rest[r.upperBound...]
            if after.count >= 5, after[after.index(after.startIndex, offsetBy: 4)] == "_",
               let v = UInt32(after.prefix(4), radix: 16), let scalar = Unicode.Scalar(v) {
                out.unicodeScalars.append(scalar)
                rest = after.dropFirst(5)
            } else {
                out += "_x"
                rest = after
            }
        }
        return out + rest
    }

    /// The column of a cell reference (`C12` → 2), or nil for something else.
    static func column(ofReference r: String) -> Int? {
        var col = 0, letters = 0
        for u in r.utf8 {
            if u >= 65 && u <= 90 { col = col * 26 + Int(u - 64); letters += 1 }
            else if u >= 97 && u <= 122 { col = col * 26 + Int(u - 96); letters += 1 }
            else { break }
            if letters > 3 { return nil }
        }
        return letters == 0 ? nil : col - 1
    }

    /// Calls `onRow` with each row of the first sheet, by its 1-based row number, in order.
    /// Rows the sheet skips are not reported; cells it skips are `.empty`.
    public mutating func readFirstSheet(_ onRow: (_ number: Int, _ cells: [Cell]) throws -> Void) throws {
        let (path, date1904) = try firstSheet()
        let strings = try sharedStrings()
        let dateStyles = try dateStyles()
        let limits = self.limits

        var rowNumber = 0, cells: [Cell] = [], inRow = false
        var cellColumn = 0, cellType = "n", cellStyle = 0, value = "", inValue = false, inInline = false, inT = false, hasValue = false
        var sawValue = false
        func finishCell() throws {
            guard cellColumn < limits.maxColumns else {
                throw SheetProblem(kind: .tooLarge, message: "A linha \(rowNumber) da planilha passa de \(limits.maxColumns) colunas.")
            }
            let cell: Cell
            if !hasValue { cell = .empty } else {
                switch cellType {
                case "s":
                    guard let i = Int(value), strings.indices.contains(i) else {
                        throw Self.corrupt("a célula da linha \(rowNumber) aponta para um texto que não existe")
                    }
                    cell = .text(strings[i])
                case "inlineStr", "str", "e":
                    cell = .text(Self.unescapeOOXML(value))
                case "b":
                    cell = .text(value == "1" ? "VERDADEIRO" : "FALSO")
                case "d":
                    cell = Day.parse(String(value.prefix(10))).map(Cell.date) ?? .text(value)
                default:
                    guard let plain = ExcelValues.plainDecimal(value.utf8.contains(32) ? value.trimmedSpaces : value) else {
                        throw Self.corrupt("a célula da linha \(rowNumber) tem um número inválido (\(value.prefix(40)))")
                    }
                    if dateStyles.contains(cellStyle), let day = ExcelValues.day(serial: plain, date1904: date1904) {
                        cell = .date(day)
                    } else {
                        cell = .number(plain)
                    }
                }
            }
            if case .text(let t) = cell, t.count > limits.maxCellCharacters {
                throw SheetProblem(kind: .tooLarge, message: "Uma célula da linha \(rowNumber) passa de \(limits.maxCellCharacters) caracteres.")
            }
            if cell != .empty { sawValue = true }
            while cells.count < cellColumn { cells.append(.empty) }
            if cells.count == cellColumn { cells.append(cell) } else {
                throw Self.corrupt("a linha \(rowNumber) repete a coluna \(cellColumn + 1)")
            }
        }

        try scan(path) { event in
            switch event {
            case let .start(name, attributes, selfClosing):
                switch name {
                case "row":
                    let next = attributes["r"].flatMap { Int($0) } ?? rowNumber + 1
                    guard next > rowNumber else { throw Self.corrupt("as linhas da planilha estão fora de ordem (\(next))") }
                    guard next <= limits.maxRows else {
                        throw SheetProblem(kind: .tooLarge, message: "A planilha passa de \(limits.maxRows) linhas.")
                    }
                    rowNumber = next
                    cells = []
                    inRow = true
                    if selfClosing { inRow = false; try onRow(rowNumber, cells) }
                case "c" where inRow:
                    cellColumn = attributes["r"].flatMap(Self.column(ofReference:)) ?? cells.count
                    cellType = attributes["t"] ?? "n"
                    cellStyle = attributes["s"].flatMap { Int($0) } ?? 0
                    value = ""
                    hasValue = false
                    if selfClosing { try finishCell() }
                case "v" where inRow:
                    inValue = !selfClosing
                    hasValue = true
                case "is" where inRow:
                    inInline = !selfClosing
                    hasValue = true
                case "t" where inInline:
                    inT = !selfClosing
                default:
                    break
                }
            case let .end(name):
                switch name {
                case "v": inValue = false
                case "is": inInline = false
                case "t": inT = false
                case "c" where inRow: try finishCell()
                case "row" where inRow:
                    inRow = false
                    try onRow(rowNumber, cells)
                default: break
                }
            case let .text(text):
                if inValue || (inInline && inT) { value += text }
            }
        }
        guard sawValue else { throw SheetProblem(kind: .emptySheet, message: "A primeira aba da planilha está vazia.") }
    }
}
