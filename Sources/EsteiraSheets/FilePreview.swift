import EsteiraCore
import Foundation

/// The first rows of a file as a client sees them, for the mapping page: the header's names and
/// up to `limit` rows of cells, each with its line (or sheet row) number.
public struct FilePreview: Sendable, Equatable {
    public var header: [String]
    public var rows: [(line: Int, cells: [String])]
    /// `csv` or `xlsx`.
    public var kind: String

    public static func == (a: FilePreview, b: FilePreview) -> Bool {
        a.header == b.header && a.kind == b.kind && a.rows.map(\.line) == b.rows.map(\.line) && a.rows.map(\.cells) == b.rows.map(\.cells)
    }

    /// The preview of a text file from its first bytes (a megabyte is plenty for 100 rows): the
    /// encoding and delimiter are found as the pick stage finds them. A record cut by the end of
    /// `head` is left out.
    public static func csv(head: [UInt8], isWholeFile: Bool, limit: Int = 100) throws -> FilePreview {
        let bom = TextHead.bomLength(head)
        if TextHead.looksBinary(head) { throw FileProblem.notText(head: head) }
        let encoding = TextHead.encoding(head, complete: isWholeFile)
        let delimiter = TextHead.delimiter(head)
        var records: [CSVScanner.Record] = []
        var scanner = CSVScanner(delimiter: delimiter, startOffset: bom)
        head.withUnsafeBufferPointer { b in
            scanner.feed(UnsafeBufferPointer(rebasing: b[bom...])) { r in
                if !r.isBlank && records.count <= limit { records.append(r) }
            }
            if isWholeFile { scanner.finish { r in if !r.isBlank && records.count <= limit { records.append(r) } } }
        }
        guard let header = records.first else { throw FileProblem.empty }
        func cells(_ r: CSVScanner.Record) -> [String] {
            CSVRecordParser.fields(Array(head[r.start..<r.end]), delimiter: delimiter, encoding: encoding).values.map { $0.trimmedSpaces }
        }
        return FilePreview(header: cells(header), rows: records.dropFirst().map { ($0.line, cells($0)) }, kind: "csv")
    }

    struct Enough: Error {}

    /// The preview of an XLSX file's first sheet; numbers and dates shown as `auto` reads them.
    public static func xlsx(_ url: URL, limit: Int = 100, limits: SheetLimits = SheetLimits()) throws -> FilePreview {
        var reader = try XLSXReader(url: url, limits: limits)
        var header: [String]?
        var rows: [(line: Int, cells: [String])] = []
        do {
            try reader.readFirstSheet { number, cells in
                let text = cells.map { cell -> String in
                    var out: [UInt8] = []
                    SheetToCSV.append(cell, to: &out, dateFormat: .dayMonthYear, decimalFormat: .comma, quoted: false)
                    return String(decoding: out, as: UTF8.self)
                }
                guard text.contains(where: { !$0.isEmpty }) else { return }
                if header == nil { header = text; return }
                rows.append((number, text))
                if rows.count >= limit { throw Enough() }
            }
        } catch is Enough {}
        guard let header else { throw SheetProblem(kind: .emptySheet, message: "A primeira aba da planilha está vazia.") }
        return FilePreview(header: header.map { $0.trimmedSpaces }, rows: rows, kind: "xlsx")
    }
}
