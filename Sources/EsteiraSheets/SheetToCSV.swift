import EsteiraCore
import Foundation

/// Turns a spreadsheet's first sheet into the CSV the pipeline reads (UTF-8, `;`), so that a
/// sheet goes through the same split, transform and register as any file.
///
/// Line N of the CSV is row N of the sheet, so a reject names the row the client sees in Excel:
/// a row the sheet skips, or one with no value, is an empty line (the pipeline skips blank
/// lines), and a line break inside a cell becomes a space.
///
/// Numbers and dates are written the way the batch's format reads them, so a cell typed as a
/// number and one typed as text go through the same rules: `1234.56` is `1234,56` under the
/// `comma` format. Under `auto`, a number with exactly three decimals gets a fourth, zero, so
/// `1.234` (one real and 234 thousandths) is refused as too many decimals rather than read as
/// one thousand two hundred and thirty-four.
public enum SheetToCSV {
    public struct Summary: Sendable, Equatable {
        /// Rows with at least one value, the header included.
        public var rows: Int
        /// The header's width: cells up to its last value.
        public var columns: Int
    }

    /// Converts the XLSX at `source` into `destination`, streaming.
    @discardableResult
    public static func convert(xlsx source: URL, to destination: URL, dateFormat: DateFormat = .auto,
                               decimalFormat: DecimalFormat = .auto, limits: SheetLimits = SheetLimits()) throws -> Summary {
        guard FileManager.default.createFile(atPath: destination.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path])
        }
        let out = try FileHandle(forWritingTo: destination)
        defer { try? out.close() }
        var pending: [UInt8] = []
        pending.reserveCapacity(1 << 20)
        var reader = try XLSXReader(url: source, limits: limits)
        var lastRow = 0, width = -1, rows = 0
        try reader.readFirstSheet { number, cells in
            let used = (cells.lastIndex { $0 != .empty }).map { $0 + 1 } ?? 0
            guard used > 0 else { return }
            // Rows before this one that the sheet skips or leaves without values: empty lines.
            pending.append(contentsOf: repeatElement(10, count: number - 1 - lastRow))
            lastRow = number
            if width < 0 { width = used }
            rows += 1
            for i in 0..<max(used, width) {
                if i > 0 { pending.append(UInt8(ascii: ";")) }
                if i < cells.count { append(cells[i], to: &pending, dateFormat: dateFormat, decimalFormat: decimalFormat) }
            }
            pending.append(10)
            if pending.count >= 1 << 20 {
                try out.write(contentsOf: pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        try out.write(contentsOf: pending)
        return Summary(rows: rows, columns: max(width, 0))
    }

    static func append(_ cell: XLSXReader.Cell, to out: inout [UInt8], dateFormat: DateFormat, decimalFormat: DecimalFormat,
                       quoted: Bool = true) {
        switch cell {
        case .empty:
            break
        case .text(let text):
            if quoted { appendQuoted(text, to: &out) } else { out.append(contentsOf: text.utf8) }
        case .number(let plain):
            out.append(contentsOf: number(plain, decimalFormat).utf8)
        case .date(let day):
            out.append(contentsOf: date(day, dateFormat).utf8)
        }
    }

    static func number(_ plain: String, _ format: DecimalFormat) -> String {
        let parts = plain.split(separator: ".", maxSplits: 1)
        let fraction = parts.count == 2 ? parts[1] : ""
        switch format {
        case .auto:
            return fraction.count == 3 ? plain + "0" : plain
        case .dot:
            return plain
        case .comma:
            return plain.replacingOccurrences(of: ".", with: ",")
        case .impliedCents:
            guard fraction.count <= 2 else { return plain }
            return String(parts[0]) + String(fraction) + String(repeating: "0", count: 2 - fraction.count)
        }
    }

    static func date(_ day: Day, _ format: DateFormat) -> String {
        let iso = day.iso // AAAA-MM-DD
        let y = iso.prefix(4), m = iso.dropFirst(5).prefix(2), d = iso.suffix(2)
        switch format {
        case .auto, .yearMonthDay: return iso
        case .dayMonthYear: return "\(d)/\(m)/\(y)"
        case .dayMonthYearCompact: return "\(d)\(m)\(y)"
        case .yearMonthDayCompact: return "\(y)\(m)\(d)"
        }
    }

    /// The cell as a CSV field: quoted when it holds `;` or `"`, line breaks as spaces. Looks at
    /// the UTF-8 bytes once; most cells need neither.
    static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        var needsQuotes = false, hasBreak = false
        for b in text.utf8 {
            if b == UInt8(ascii: ";") || b == UInt8(ascii: "\"") { needsQuotes = true }
            else if b == 10 || b == 13 { hasBreak = true }
        }
        if !needsQuotes && !hasBreak {
            out.append(contentsOf: text.utf8)
            return
        }
        if needsQuotes { out.append(UInt8(ascii: "\"")) }
        var previousCR = false
        for b in text.utf8 {
            switch b {
            case 13: out.append(32)
            case 10: if !previousCR { out.append(32) }
            case UInt8(ascii: "\""): out.append(b); out.append(b)
            default: out.append(b)
            }
            previousCR = b == 13
        }
        if needsQuotes { out.append(UInt8(ascii: "\"")) }
    }
}
