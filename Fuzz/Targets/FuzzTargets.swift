import CEsteiraGzip
import CEsteiraShims
import EsteiraCore
import EsteiraSheets
import Foundation

// libFuzzer targets over the parsers (scripts/fuzz builds this with `-sanitize=fuzzer,address`);
// the target is chosen by ESTEIRA_FUZZ_TARGET. Each checks a property, not only that nothing
// traps: what is read and written back reads the same, and how input is cut into chunks changes
// nothing.

enum FuzzTarget: String, CaseIterable {
    case csv, fixedwidth, amounts, dates, documents, json, staging, xlsx, xml, multipart
}

let target: FuzzTarget = {
    guard let name = ProcessInfo.processInfo.environment["ESTEIRA_FUZZ_TARGET"], let t = FuzzTarget(rawValue: name) else {
        fatalError("ESTEIRA_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue))")
    }
    return t
}()

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("property failed: \(message())") }
}

#if ESTEIRA_FUZZ
/// The program's `main` as SwiftPM names an executable's entry point: libFuzzer's driver, called
/// with the arguments and the target's input function.
@_cdecl("esteira_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(data, size) }
}

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case .csv: fuzzCSV(bytes)
    case .amounts: fuzzAmount(bytes)
    case .dates: fuzzDate(bytes)
    case .documents: fuzzDocument(bytes)
    case .json: fuzzJSON(bytes)
    case .staging: fuzzStaging(bytes)
    case .fixedwidth: fuzzFixedWidth(bytes)
    case .xlsx: fuzzXLSX(bytes)
    case .xml: fuzzSheetXML(bytes)
    case .multipart: fuzzMultipart(bytes)
    }
    return 0
}
#endif

/// The records do not depend on how the stream is cut into chunks; each record's fields read.
func fuzzCSV(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    let delimiter: UInt8 = [59, 44, 9, 124][Int(first) % 4]
    let body = Array(bytes.dropFirst())
    func records(cut: Int?) -> [CSVScanner.Record] {
        var scanner = CSVScanner(delimiter: delimiter)
        var out: [CSVScanner.Record] = []
        if let cut {
            scanner.feed(Array(body[..<cut])) { out.append($0) }
            scanner.feed(Array(body[cut...])) { out.append($0) }
        } else {
            scanner.feed(body) { out.append($0) }
        }
        scanner.finish { out.append($0) }
        return out
    }
    let whole = records(cut: nil)
    if !body.isEmpty { check(records(cut: Int(first) % (body.count + 1)) == whole, "records change with the chunk cut") }
    var last = 0
    for r in whole {
        check(r.start == last && r.end >= r.start && r.end <= body.count, "records tile the stream")
        last = r.end
        _ = CSVRecordParser.fields(Array(body[r.start..<r.end]), delimiter: delimiter)
    }
    check(last == body.count, "records cover the stream")
}

/// An amount read is written and read back to the same cents.
func fuzzAmount(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if case .success(let cents) = Money.parseCents(text) {
        let written = Money.decimalString(cents: cents)
        check(Money.parseCents(written) == .success(cents), "\(text) → \(cents) → \(written)")
    }
}

/// A day read is written (ISO and Brazilian) and read back to the same day.
func fuzzDate(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if let day = Day.parse(text) {
        check(Day.parse(day.iso) == day && Day.parseISO(day.iso) == day, "\(text) → \(day)")
        check(Day.parse(day.brazilian) == day, "\(text) → \(day.brazilian)")
    }
}

/// A document read validates again from its value; masking never shows the middle.
func fuzzDocument(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if case .success(let id) = TaxID.parse(text) {
        check(TaxID.validate(normalized: id.value) == .success(id), "\(text)")
        for form in id.writtenForms { check(TaxID.parse(form) == .success(id), "\(form)") }
        check(!TaxID.redactingDocuments(in: id.value).contains(id.value), "redaction shows \(id.value)")
    }
    _ = TaxID.redactingDocuments(in: text)
}

/// A JSON value read is written canonical, and that reads back to the same text.
func fuzzJSON(_ bytes: [UInt8]) {
    guard let value = try? JSONValue.parse(bytes) else { return }
    let canonical = value.canonicalText
    guard let again = try? JSONValue.parse(Array(canonical.utf8)) else { return check(false, "canonical text does not read: \(canonical)") }
    check(again.canonicalText == canonical, "canonical text changes when read again")
    // As a debt's body (or a submission's list): a number amount becomes the decimal text of the
    // same cents; no text taken holds a control character.
    for object in [value] + (value.elements ?? []) {
        guard let members = object.members, case .success(let fields) = DebtJSON.fields(members) else { continue }
        if case .number = object[members.first { DebtField.matching(header: $0.key) == .amount }?.key ?? ""] ?? .null,
           let text = fields[.amount], case .success(let cents) = DebtJSON.amount(.number(text)).cents {
            check(Money.decimalString(cents: cents) == text, "amount \(text) is not its cents' text")
        }
        for (field, text) in fields { check(ControlCharacters.first(in: text) == nil, "\(field) holds a control character") }
    }
}

/// Staged records decoded are encoded and decoded to the same records.
func fuzzStaging(_ bytes: [UInt8]) {
    guard let records = try? StagingCodec.decode(bytes) else { return }
    check((try? StagingCodec.decode(StagingCodec.encode(records))) == records, "staging round trip")
}

/// A positional file: a layout from the first bytes, then every line's values, each no longer
/// than its field.
func fuzzFixedWidth(_ bytes: [UInt8]) {
    guard bytes.count > 4 else { return }
    let fields: [DebtField] = [.externalID, .name, .document, .amount, .dueDate]
    let layout = fields.enumerated().map { i, field in
        FixedWidthField(field, start: Int(bytes[i % 4]) % 40 + 1 + i * 3, length: Int(bytes[(i + 1) % 4]) % 20 + 1)
    }
    let body = Array(bytes.dropFirst(4))
    var scanner = CSVScanner.lines()
    var records: [CSVScanner.Record] = []
    scanner.feed(body) { records.append($0) }
    scanner.finish { records.append($0) }
    for r in records {
        let line = TextEncoding.windows1252.decode(Array(body[r.start..<r.end]))
        for (field, value) in FixedWidthField.values(of: line, layout) {
            let width = layout.first { $0.field == field.rawValue }?.length ?? 0
            check(value.count <= width, "\(field) longer than its field")
        }
    }
}

/// A scratch folder in memory (or the temporary folder) for the targets that read files.
let scratch: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let dir = base + "/esteira-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}()

/// Any bytes as an XLSX file: read and converted, or refused with a SheetProblem; never a trap.
func fuzzXLSX(_ bytes: [UInt8]) {
    let source = URL(fileURLWithPath: scratch + "/in.xlsx"), out = URL(fileURLWithPath: scratch + "/out.csv")
    _ = FileManager.default.createFile(atPath: source.path, contents: Data(bytes))
    _ = try? SheetToCSV.convert(xlsx: source, to: out)
}

/// A well-formed ZIP whose sheet (or shared strings, or workbook) is the input: the XML scanner
/// and the cells' reading reached directly, past the ZIP.
func fuzzSheetXML(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    let xml = Data(bytes.dropFirst())
    var parts: [String: Data] = [
        "[Content_Types].xml": Data(#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#.utf8),
        "xl/workbook.xml": Data(#"<workbook xmlns:r="r"><sheets><sheet name="A" sheetId="1" r:id="rId1"/></sheets></workbook>"#.utf8),
        "xl/_rels/workbook.xml.rels": Data(#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#.utf8),
        "xl/sharedStrings.xml": Data(#"<sst><si><t>id</t></si><si><t>248.438.034-80</t></si></sst>"#.utf8),
        "xl/worksheets/sheet1.xml": Data(#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row></sheetData></worksheet>"#.utf8),
    ]
    let target = ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml"][Int(first) % 3]
    parts[target] = xml
    let source = URL(fileURLWithPath: scratch + "/xml.xlsx"), out = URL(fileURLWithPath: scratch + "/xml.csv")
    _ = FileManager.default.createFile(atPath: source.path, contents: Data(storedZIP(parts.sorted(by: { $0.key < $1.key }))))
    _ = try? SheetToCSV.convert(xlsx: source, to: out)
}

/// A ZIP whose entries are stored, not deflated (PKWARE APPNOTE 4.3.7, 4.3.12, 4.3.16): the
/// least that carries the XML to the reader unchanged.
func storedZIP(_ parts: [(key: String, value: Data)]) -> [UInt8] {
    func le(_ value: UInt32, _ bytes: Int) -> [UInt8] { (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    var file: [UInt8] = [], directory: [UInt8] = []
    for (path, data) in parts {
        let name = Array(path.utf8), body = Array(data)
        let crc = body.withUnsafeBufferPointer { esteira_crc32(0, $0.baseAddress, $0.count) }
        // Version 2.0, no flags, method 0, no date; the CRC and both sizes; the name's length.
        let common = le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(UInt32(body.count), 4)
            + le(UInt32(body.count), 4) + le(UInt32(name.count), 2) + le(0, 2)
        directory += le(0x0201_4B50, 4) + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4)
            + le(UInt32(file.count), 4) + name
        file += le(0x0403_4B50, 4) + common + name + body
    }
    let entries = UInt32(parts.count)
    return file + directory + le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(entries, 2) + le(entries, 2)
        + le(UInt32(directory.count), 4) + le(UInt32(file.count), 4) + le(0, 2)
}

/// A body taken as multipart: the file part and the outcome are the same however the body is
/// cut into chunks.
func fuzzMultipart(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    let body = Array(bytes.dropFirst())
    func run(cut: Int?) -> (file: [UInt8], outcome: String) {
        var part = MultipartFilePart(boundary: "fronteira")
        var file: [UInt8] = []
        do {
            for chunk in cut.map({ [Array(body[..<$0]), Array(body[$0...])] }) ?? [body] {
                file += try part.feed(chunk)
            }
            return (file, "name:\(try part.finish() ?? "")")
        } catch {
            return (file, "\(error)")
        }
    }
    let whole = run(cut: nil)
    let cut = run(cut: Int(first) % (body.count + 1))
    check(whole.outcome == cut.outcome, "outcome changes with the cut: \(whole.outcome) / \(cut.outcome)")
    if whole.outcome.hasPrefix("name:") { check(whole.file == cut.file, "file changes with the cut") }
}
