import Foundation

// libFuzzer targets for EsteiraCore's parsers (scripts/fuzz). Compiled with EsteiraCore's own
// sources into one binary, `-sanitize=fuzzer,address`; the target is chosen by
// ESTEIRA_FUZZ_TARGET. Each checks a property, not only that nothing traps: what is read and
// written back reads the same.

enum FuzzTarget: String, CaseIterable {
    case csv, amounts, dates, documents, json, staging
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

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case .csv: fuzzCSV(bytes)
    case .amounts: fuzzAmount(bytes)
    case .dates: fuzzDate(bytes)
    case .documents: fuzzDocument(bytes)
    case .json: fuzzJSON(bytes)
    case .staging: fuzzStaging(bytes)
    }
    return 0
}

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
}

/// Staged records decoded are encoded and decoded to the same records.
func fuzzStaging(_ bytes: [UInt8]) {
    guard let records = try? StagingCodec.decode(bytes) else { return }
    check((try? StagingCodec.decode(StagingCodec.encode(records))) == records, "staging round trip")
}
