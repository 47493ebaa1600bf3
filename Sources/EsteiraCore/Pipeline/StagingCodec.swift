/// A record after the transform stage: the debt it describes, or why it is rejected.
///
/// Validation needs nothing but the record and the day the batch was received, so it runs in the
/// transform stage, beside the parsing; the register stage is left with what needs the registry
/// (duplicates and conflicts). See docs/architecture.md.
///
/// `raw` is the record as it stood in the file (line break removed), for the reject report: a
/// valid record may still be rejected by the register stage as a conflict.
public enum StagedRecord: Sendable, Equatable {
    /// An inclusion (operation I).
    case debt(line: Int, raw: String, Debt)
    /// A correction (operation A): the debt as it should now read.
    case correction(line: Int, raw: String, Debt)
    /// A withdrawal (operation B).
    case withdrawal(line: Int, raw: String, externalID: String, reason: WithdrawalReason)
    case rejected(line: Int, raw: String, issues: [RowIssue])

    public var line: Int {
        switch self {
        case .debt(let line, _, _), .correction(let line, _, _), .withdrawal(let line, _, _, _), .rejected(let line, _, _): return line
        }
    }
}

/// A staging file's kinds of record, as `StagedSubBatch.order` lists them.
public enum StagedKind: Sendable, Equatable {
    /// The next debt: an inclusion, or a correction (`StagedSubBatch.isCorrection`).
    case debt
    case withdrawal
    case rejected
}

/// A withdrawal as staged: the row's line, its raw text, and what it withdraws and why.
public struct StagedWithdrawal: Sendable, Equatable {
    public var line: Int
    public var raw: String
    public var externalID: String
    public var reason: WithdrawalReason
}

/// What the register stage reads of every staged debt: its key, and what the risk rules judge.
/// The rest of the debt stays in the staging file as its registry row (see `StagingCodec`).
public struct DebtSummary: Sendable, Equatable {
    public var externalID: String
    public var document: TaxID
    public var amountCents: Int64
    public var dueDate: Day

    public init(externalID: String, document: TaxID, amountCents: Int64, dueDate: Day) {
        self.externalID = externalID
        self.document = document
        self.amountCents = amountCents
        self.dueDate = dueDate
    }

    public init(_ debt: Debt) {
        self.init(externalID: debt.externalID, document: debt.document, amountCents: debt.amountCents, dueDate: debt.dueDate)
    }
}

/// The staged records of a sub-batch, by kind: debt k is on line `debtLines[k]`, summarized by
/// `summaries[k]`, whole as `debt(k)`, with raw text `debtRaw(k)` and registry row
/// `withRow(k)`, a correction when `isCorrection[k]`; `order` says, record by record in the file's
/// order, whether it is the next debt, the next withdrawal or the next rejected row (the codec keeps
/// records in the order given, whatever their lines).
public struct StagedSubBatch: Sendable {
    public var summaries: [DebtSummary] = []
    public var debtLines: [Int] = []
    /// Where each debt's raw text and registry row are in `staging`: the raw text is read only for
    /// the rare debt rejected after the transform (a conflict, a risk rule), and the row is sent to
    /// PostgreSQL as it is, so both stay bytes.
    var debtRawRanges: [Range<Int>] = []
    var debtRowRanges: [Range<Int>] = []
    var staging: [UInt8] = []
    /// Whether debt k is a correction (operation A) rather than an inclusion.
    public var isCorrection: [Bool] = []
    public var withdrawals: [StagedWithdrawal] = []
    public var rejected: [(line: Int, raw: String, issues: [RowIssue])] = []
    /// The external id each rejected row names, or empty when it names none that could be read.
    public var rejectedIDs: [String] = []
    public var order: [StagedKind] = []

    public init() {}

    public var debtCount: Int { summaries.count }

    /// The raw text of debt `k`, as it stood in the file.
    public func debtRaw(_ k: Int) -> String {
        staging.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[debtRawRanges[k]]), as: UTF8.self) }
    }

    /// Debt `k`'s registry row: its fields in `StagingCodec.rowColumns`' order, in the binary
    /// format of `COPY` (`CopyBinary`), without the row's field count.
    public func withRow<R>(_ k: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try staging.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[debtRowRanges[k]])) }
    }

    /// Debt `k` whole, read from its registry row.
    public func debt(_ k: Int) -> Debt {
        withRow(k) { row in
            // The decoder checked the row's fields when it read the summary.
            var fields = CopyBinary.Fields(row)
            let summary = summaries[k]
            _ = fields.next()
            let name = String(decoding: fields.nextValue()!, as: UTF8.self)
            _ = fields.next(); _ = fields.next(); _ = fields.next()
            func optional() -> String? { fields.nextValue().map { String(decoding: $0, as: UTF8.self) } }
            let email = optional(), phone = optional(), description = optional()
            return Debt(externalID: summary.externalID, name: name, document: summary.document, amountCents: summary.amountCents,
                        dueDate: summary.dueDate, email: email, phone: phone, description: description)
        }
    }

    /// Every debt whole, in order.
    public var debts: [Debt] { summaries.indices.map(debt) }

    /// The records in file order.
    public var records: [StagedRecord] {
        var d = 0, w = 0, r = 0
        return order.map { kind in
            switch kind {
            case .debt:
                defer { d += 1 }
                return isCorrection[d] ? .correction(line: debtLines[d], raw: debtRaw(d), debt(d))
                    : .debt(line: debtLines[d], raw: debtRaw(d), debt(d))
            case .withdrawal:
                defer { w += 1 }
                let staged = withdrawals[w]
                return .withdrawal(line: staged.line, raw: staged.raw, externalID: staged.externalID, reason: staged.reason)
            case .rejected:
                defer { r += 1 }
                return .rejected(line: rejected[r].line, raw: rejected[r].raw, issues: rejected[r].issues)
            }
        }
    }
}

/// The intermediate store's file format: the staged records of one sub-batch, written by the
/// transform stage and read by the register stage, behind a version tag. A record starts with its
/// line (a varint), a tag and its raw text (length-prefixed UTF-8). The tag: 0 and 1 an inclusion
/// of a CPF's or a CNPJ's debt, 4 and 5 a correction of one, 3 a withdrawal, 2 a rejected row. A
/// rejected row's issues follow as varints and length-prefixed text; a withdrawal's external id and
/// reason as length-prefixed text. Tag 6 is a rejected row with the external id it names, after
/// its raw text. A valid debt's fields follow as its registry row: the
/// columns of `rowColumns` in the binary format of PostgreSQL's `COPY` (`CopyBinary`, each field
/// its length and bytes), which the register stage sends as it is.
public enum StagingCodec {
    static let magic: [UInt8] = Array("ESTG4\n".utf8)

    /// The registry's columns a staged debt's row holds, in order.
    public static let rowColumns = ["external_id", "name", "document", "amount_cents", "due_date", "email", "phone",
                                    "description", "doc_key"]

    public struct DecodeError: Error, Equatable, Sendable {
        public var offset: Int
    }

    public static func encode(_ records: [StagedRecord]) -> [UInt8] {
        var encoder = Encoder(capacity: records.count * 160)
        for record in records {
            switch record {
            case .debt(let line, var raw, let d):
                raw.withUTF8 { encoder.debt(line: line, raw: $0, d) }
            case .correction(let line, var raw, let d):
                raw.withUTF8 { encoder.debt(line: line, raw: $0, d, correction: true) }
            case .withdrawal(let line, var raw, let externalID, let reason):
                raw.withUTF8 { encoder.withdrawal(line: line, raw: $0, externalID: externalID, reason: reason) }
            case .rejected(let line, var raw, let issues):
                raw.withUTF8 { encoder.rejected(line: line, raw: $0, issues: issues) }
            }
        }
        return encoder.bytes
    }

    /// Writes a staging file record by record, the raw text given as UTF-8 bytes: the transform
    /// stage hands over a record's bytes as they are in the file (when it is UTF-8) without
    /// making a String of them first.
    public struct Encoder {
        public private(set) var bytes: [UInt8]
        public private(set) var count = 0

        /// `capacity`: the bytes expected, so that the file is not copied as it grows. A record takes
        /// its raw text, its fields again and a few bytes: about twice its size in the file.
        public init(capacity: Int) {
            bytes = StagingCodec.magic
            bytes.reserveCapacity(capacity)
        }

        /// A valid debt: an inclusion, or with `correction` a correction.
        public mutating func debt(line: Int, raw: UnsafeBufferPointer<UInt8>, _ d: Debt, correction: Bool = false) {
            putDebt(line: line, raw: raw, kind: d.document.kind, correction: correction, externalID: d.externalID, name: d.name,
                    document: d.document.value, amountCents: d.amountCents, dueDate: d.dueDate,
                    email: d.email, phone: d.phone, description: d.description, indexKey: d.document.indexKey)
        }

        /// A valid debt given as the UTF-8 of its fields, as they will read back into a `Debt`
        /// (`document` normalized, `email` in lower case, an absent optional field nil), and its
        /// document's `TaxID.indexKey`: the transform stage writes a record's fields from the
        /// file's bytes (see `InPlaceRecord`).
        public mutating func debt(line: Int, raw: UnsafeBufferPointer<UInt8>, kind: TaxID.Kind,
                                  externalID: UnsafeBufferPointer<UInt8>, name: UnsafeBufferPointer<UInt8>,
                                  document: UnsafeBufferPointer<UInt8>, amountCents: Int64, dueDate: Day,
                                  email: UnsafeBufferPointer<UInt8>?, phone: UnsafeBufferPointer<UInt8>?,
                                  description: UnsafeBufferPointer<UInt8>?, indexKey: Int64, correction: Bool = false) {
            putDebt(line: line, raw: raw, kind: kind, correction: correction, externalID: externalID, name: name, document: document,
                    amountCents: amountCents, dueDate: dueDate, email: email, phone: phone, description: description,
                    indexKey: indexKey)
        }

        /// The one place a debt's layout in the file is written, for its fields as Strings or as bytes.
        private mutating func putDebt<Text: StagedText>(line: Int, raw: UnsafeBufferPointer<UInt8>, kind: TaxID.Kind, correction: Bool,
                                                        externalID: Text, name: Text, document: Text, amountCents: Int64,
                                                        dueDate: Day, email: Text?, phone: Text?, description: Text?,
                                                        indexKey: Int64) {
            putVarint(UInt64(line), &bytes)
            bytes.append((kind == .cpf ? 0 : 1) + (correction ? 4 : 0))
            putBytes(raw, &bytes)
            // The registry row, in `rowColumns`' order; an absent optional field is a null, apart
            // from an empty one.
            externalID.putField(into: &bytes)
            name.putField(into: &bytes)
            document.putField(into: &bytes)
            CopyBinary.appendInt64(amountCents, to: &bytes)
            CopyBinary.appendDay(dueDate, to: &bytes)
            func putOptional(_ text: Text?) {
                if let text { text.putField(into: &bytes) } else { CopyBinary.appendNull(to: &bytes) }
            }
            putOptional(email)
            putOptional(phone)
            putOptional(description)
            CopyBinary.appendInt64(indexKey, to: &bytes)
            count += 1
        }

        public mutating func withdrawal(line: Int, raw: UnsafeBufferPointer<UInt8>, externalID: String, reason: WithdrawalReason) {
            putVarint(UInt64(line), &bytes)
            bytes.append(3)
            putBytes(raw, &bytes)
            externalID.put(into: &bytes)
            reason.rawValue.put(into: &bytes)
            count += 1
        }

        /// A rejected row, with the external id it names when it could be read (a full portfolio's
        /// file names that debt even when the row is refused).
        public mutating func rejected(line: Int, raw: UnsafeBufferPointer<UInt8>, issues: [RowIssue], externalID: String = "") {
            putVarint(UInt64(line), &bytes)
            bytes.append(externalID.isEmpty ? 2 : 6)
            putBytes(raw, &bytes)
            if !externalID.isEmpty { externalID.put(into: &bytes) }
            putVarint(UInt64(issues.count), &bytes)
            for issue in issues {
                putVarint(UInt64(issue.line), &bytes)
                bytes.append(issue.field.map { UInt8($0.ordinal + 1) } ?? 0)
                issue.code.rawValue.put(into: &bytes)
                issue.message.put(into: &bytes)
            }
            count += 1
        }
    }

    public static func decode(_ bytes: [UInt8]) throws -> [StagedRecord] {
        try decodeSubBatch(bytes).records
    }

    /// A staging file read back as the register stage uses it: the valid rows' summaries in one
    /// array (judged and registered without being copied out of records one by one), their lines,
    /// where their raw texts and registry rows are in the file, and the rows rejected by validation.
    public static func decodeSubBatch(_ bytes: [UInt8]) throws -> StagedSubBatch {
        var decoded = try bytes.withUnsafeBufferPointer { b in
            guard b.count >= magic.count, Array(b[0..<magic.count]) == magic else { throw DecodeError(offset: 0) }
            var i = magic.count
            var sub = StagedSubBatch()
            sub.summaries.reserveCapacity(b.count / 160)
            sub.debtLines.reserveCapacity(b.count / 160)
            sub.debtRawRanges.reserveCapacity(b.count / 160)
            sub.debtRowRanges.reserveCapacity(b.count / 160)
            func byte() throws -> UInt8 {
                guard i < b.count else { throw DecodeError(offset: i) }
                defer { i += 1 }
                return b[i]
            }
            func varint() throws -> UInt64 {
                var value: UInt64 = 0, shift: UInt64 = 0
                while true {
                    guard i < b.count, shift < 64 else { throw DecodeError(offset: i) }
                    let c = b[i]; i += 1
                    value |= UInt64(c & 0x7F) << shift
                    if c < 0x80 { return value }
                    shift += 7
                }
            }
            func int() throws -> Int {
                let v = try varint()
                guard v <= UInt64(Int.max) else { throw DecodeError(offset: i) }
                return Int(v)
            }
            func string() throws -> String {
                let n = try int()
                // Compared without adding: a length near Int.max would overflow `i + n`.
                guard n <= b.count - i else { throw DecodeError(offset: i) }
                defer { i += n }
                return String(decoding: UnsafeBufferPointer(rebasing: b[i..<(i + n)]), as: UTF8.self)
            }
            func skipString() throws -> Range<Int> {
                let n = try int()
                // Compared without adding: a length near Int.max would overflow `i + n`.
                guard n <= b.count - i else { throw DecodeError(offset: i) }
                defer { i += n }
                return i..<(i + n)
            }
            while i < b.count {
                let line = try int()
                let tag = try byte()
                switch tag {
                case 0, 1, 4, 5:
                    let raw = try skipString()
                    // The row's nine fields, each its length and bytes. The name, email, phone and
                    // description are read when the debt is wanted whole.
                    let rowStart = i
                    var fields = CopyBinary.Fields(b, from: i)
                    guard let externalID = fields.nextValue(), fields.nextValue() != nil, let document = fields.nextValue(),
                          let cents = fields.nextValue().flatMap(CopyBinary.int64), let due = fields.nextValue().flatMap(CopyBinary.day),
                          fields.next() != nil, fields.next() != nil, fields.next() != nil,
                          fields.nextValue().flatMap(CopyBinary.int64) != nil else {
                        throw DecodeError(offset: rowStart)
                    }
                    // The document is checked, not trusted: a file changed on disk must be refused
                    // here, not become a document whose index key traps (found by the fuzzer).
                    guard case .success(let id) = TaxID.validate(normalized: String(decoding: document, as: UTF8.self)),
                          id.kind == (tag & 1 == 0 ? .cpf : .cnpj) else {
                        throw DecodeError(offset: rowStart)
                    }
                    i = fields.offset
                    sub.summaries.append(DebtSummary(externalID: String(decoding: externalID, as: UTF8.self), document: id,
                                                     amountCents: cents, dueDate: due))
                    sub.debtLines.append(line)
                    sub.debtRawRanges.append(raw)
                    sub.debtRowRanges.append(rowStart..<i)
                    sub.isCorrection.append(tag >= 4)
                    sub.order.append(.debt)
                case 3:
                    let raw = try string()
                    let externalID = try string()
                    guard let reason = WithdrawalReason(rawValue: try string()) else { throw DecodeError(offset: i) }
                    sub.withdrawals.append(StagedWithdrawal(line: line, raw: raw, externalID: externalID, reason: reason))
                    sub.order.append(.withdrawal)
                case 2, 6:
                    let raw = try string()
                    sub.rejectedIDs.append(tag == 6 ? try string() : "")
                    let count = try int()
                    guard count <= b.count - i else { throw DecodeError(offset: i) }
                    var issues: [RowIssue] = []
                    issues.reserveCapacity(count)
                    for _ in 0..<count {
                        let issueLine = try int()
                        let fieldTag = Int(try byte())
                        guard fieldTag <= DebtField.allCases.count else { throw DecodeError(offset: i - 1) }
                        let field = fieldTag == 0 ? nil : DebtField.allCases[fieldTag - 1]
                        guard let code = RejectCode(rawValue: try string()) else { throw DecodeError(offset: i) }
                        issues.append(RowIssue(line: issueLine, field: field, code: code, message: try string()))
                    }
                    sub.rejected.append((line, raw, issues))
                    sub.order.append(.rejected)
                default:
                    throw DecodeError(offset: i - 1)
                }
            }
            return sub
        }
        decoded.staging = bytes
        return decoded
    }

    fileprivate static func putBytes(_ bytes: UnsafeBufferPointer<UInt8>, _ out: inout [UInt8]) {
        putVarint(UInt64(bytes.count), &out)
        out.append(contentsOf: bytes)
    }

    private static func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}

/// Text a staging file holds: as its length (a varint) and UTF-8, or as a registry row's field.
private protocol StagedText {
    func put(into out: inout [UInt8])
    func putField(into out: inout [UInt8])
}

extension String: StagedText {
    fileprivate func put(into out: inout [UInt8]) {
        var s = self
        s.withUTF8 { StagingCodec.putBytes($0, &out) }
    }

    fileprivate func putField(into out: inout [UInt8]) {
        var s = self
        s.withUTF8 { CopyBinary.appendText($0, to: &out) }
    }
}

extension UnsafeBufferPointer<UInt8>: StagedText {
    fileprivate func put(into out: inout [UInt8]) {
        StagingCodec.putBytes(self, &out)
    }

    fileprivate func putField(into out: inout [UInt8]) {
        CopyBinary.appendText(self, to: &out)
    }
}
