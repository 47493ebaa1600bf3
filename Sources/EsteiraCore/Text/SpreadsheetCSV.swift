/// CSV that a Brazilian spreadsheet opens safely: `;` between cells, and no cell it would run as
/// a formula. Shared by every CSV Esteira writes for people: the portfolio's export, the reject
/// reports, the drop folder's return files.
public enum SpreadsheetCSV {
    /// The text in quotes, quotes doubled, and a `'` before anything a spreadsheet would start a
    /// formula with (`=`, `+`, `-`, `@`, tab, carriage return) at the start of the cell or after a
    /// `;`, `,`, tab or line break, where a spreadsheet set to another separator splits the cell
    /// (OWASP's advice on CSV injection, whatever the separator). Nil is the empty cell.
    public static func appendCell(_ utf8: UnsafeBufferPointer<UInt8>?, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        defer { bytes.append(UInt8(ascii: "\"")) }
        guard let utf8 else { return }
        // Most cells have no quote, no separator and no sign to start a formula: copied whole.
        let plain = !utf8.contains { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: ",") || $0 < 14 }
        if plain, let first = utf8.first, !startsFormula(first) {
            bytes.append(contentsOf: utf8)
            return
        }
        var start = true
        for b in utf8 {
            if start, startsFormula(b) || b == 9 || b == 13 { bytes.append(UInt8(ascii: "'")) }
            bytes.append(b)
            if b == UInt8(ascii: "\"") { bytes.append(b) }
            start = b == UInt8(ascii: ";") || b == UInt8(ascii: ",") || b == 9 || b == 13 || b == 10
        }
    }

    private static func startsFormula(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "=") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: "@")
    }

    /// `appendCell` as a String.
    public static func cell(_ value: String) -> String {
        var bytes: [UInt8] = []
        var value = value
        value.withUTF8 { appendCell($0, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The reject report's header: what the API's `rejects.csv`, the web page's and the drop
    /// folder's return file share.
    public static let rejectHeader = "linha;campo;código;mensagem;conteúdo original\r\n"

    /// One reject of the report: the field by its Portuguese name.
    public static func rejectLine(line: Int, field: String, code: String, message: String, raw: String) -> String {
        let name = DebtField(rawValue: field)?.portugueseName ?? field
        return "\(line);\(cell(name));\(code);\(cell(message));\(cell(raw))\r\n"
    }
}
