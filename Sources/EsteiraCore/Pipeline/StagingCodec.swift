/// A record after the transform stage: the debt it describes, or why it is rejected.
///
/// Validation needs nothing but the record and the day the batch was received, so it runs in the
/// transform stage, beside the parsing; the register stage is left with what needs the registry
/// (duplicates and conflicts). See docs/architecture.md.
///
/// `raw` is the record as it stood in the file (line break removed), for the reject report: a
/// valid record may still be rejected by the register stage as a conflict.
public enum StagedRecord: Sendable, Equatable {
    case debt(line: Int, raw: String, Debt)
    case rejected(line: Int, raw: String, issues: [RowIssue])

    public var line: Int {
        switch self {
        case .debt(let line, _, _), .rejected(let line, _, _): return line
        }
    }
}

/// The staged records of a sub-batch, by kind: `debts[k]` is on line `debtLines[k]` with raw
/// text `debtRaw(k)`; `order` says, record by record in the file's order, whether it is the next
/// debt (true) or the next rejected row (the codec keeps records in the order given, whatever
/// their lines).
public struct StagedSubBatch: Sendable {
    public var debts: [Debt] = []
    public var debtLines: [Int] = []
    /// Where each debt's raw text is in `staging`: it is read only for the rare debt rejected after
    /// the transform (a conflict, a risk rule), so it stays bytes until then.
    var debtRawRanges: [Range<Int>] = []
    var staging: [UInt8] = []
    public var rejected: [(line: Int, raw: String, issues: [RowIssue])] = []
    public var order: [Bool] = []

    public init() {}

    /// The raw text of `debts[k]`, as it stood in the file.
    public func debtRaw(_ k: Int) -> String {
        staging.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[debtRawRanges[k]]), as: UTF8.self) }
    }

    /// The records in file order.
    public var records: [StagedRecord] {
        var d = 0, r = 0
        return order.map { isDebt in
            if isDebt {
                defer { d += 1 }
                return .debt(line: debtLines[d], raw: debtRaw(d), debts[d])
            }
            defer { r += 1 }
            return .rejected(line: rejected[r].line, raw: rejected[r].raw, issues: rejected[r].issues)
        }
    }
}

/// The intermediate store's file format: the staged records of one sub-batch, written by the
/// transform stage and read by the register stage. Varints and length-prefixed UTF-8 behind a
/// version tag, so that reading is a straight scan with no escaping.
public enum StagingCodec {
    static let magic: [UInt8] = Array("ESTG2\n".utf8)

    public struct DecodeError: Error, Equatable, Sendable {
        public var offset: Int
    }

    public static func encode(_ records: [StagedRecord]) -> [UInt8] {
        var encoder = Encoder(capacity: records.count * 160)
        for record in records {
            switch record {
            case .debt(let line, var raw, let d):
                raw.withUTF8 { encoder.debt(line: line, raw: $0, d) }
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

        public mutating func debt(line: Int, raw: UnsafeBufferPointer<UInt8>, _ d: Debt) {
            putDebt(line: line, raw: raw, kind: d.document.kind, externalID: d.externalID, name: d.name,
                    document: d.document.value, amountCents: d.amountCents, dueDate: d.dueDate,
                    email: d.email, phone: d.phone, description: d.description)
        }

        /// A valid debt given as the UTF-8 of its fields, as they will read back into a `Debt`
        /// (`document` normalized, `email` in lower case, an absent optional field nil): the
        /// transform stage writes a record's fields from the file's bytes (see `InPlaceRecord`).
        public mutating func debt(line: Int, raw: UnsafeBufferPointer<UInt8>, kind: TaxID.Kind,
                                  externalID: UnsafeBufferPointer<UInt8>, name: UnsafeBufferPointer<UInt8>,
                                  document: UnsafeBufferPointer<UInt8>, amountCents: Int64, dueDate: Day,
                                  email: UnsafeBufferPointer<UInt8>?, phone: UnsafeBufferPointer<UInt8>?,
                                  description: UnsafeBufferPointer<UInt8>?) {
            putDebt(line: line, raw: raw, kind: kind, externalID: externalID, name: name, document: document,
                    amountCents: amountCents, dueDate: dueDate, email: email, phone: phone, description: description)
        }

        /// The one place a debt's layout in the file is written, for its fields as Strings or as bytes.
        private mutating func putDebt<Text: StagedText>(line: Int, raw: UnsafeBufferPointer<UInt8>, kind: TaxID.Kind,
                                                        externalID: Text, name: Text, document: Text, amountCents: Int64,
                                                        dueDate: Day, email: Text?, phone: Text?, description: Text?) {
            putVarint(UInt64(line), &bytes)
            bytes.append(kind == .cpf ? 0 : 1)
            putBytes(raw, &bytes)
            externalID.put(into: &bytes)
            name.put(into: &bytes)
            document.put(into: &bytes)
            putVarint(UInt64(bitPattern: amountCents), &bytes)
            putVarint(UInt64(bitPattern: Int64(dueDate.daysSinceEpoch)), &bytes)
            // A flag byte, then the text: an absent field and an empty one stay apart.
            func putOptional(_ text: Text?) {
                if let text {
                    bytes.append(1)
                    text.put(into: &bytes)
                } else {
                    bytes.append(0)
                }
            }
            putOptional(email)
            putOptional(phone)
            putOptional(description)
            count += 1
        }

        public mutating func rejected(line: Int, raw: UnsafeBufferPointer<UInt8>, issues: [RowIssue]) {
            putVarint(UInt64(line), &bytes)
            bytes.append(2)
            putBytes(raw, &bytes)
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

    /// A staging file read back as the register stage uses it: the valid rows' debts in one array
    /// (judged and registered without being copied out of records one by one), their lines and
    /// where their raw texts are in the file, and the rows rejected by validation.
    public static func decodeSubBatch(_ bytes: [UInt8]) throws -> StagedSubBatch {
        var decoded = try bytes.withUnsafeBufferPointer { b in
            guard b.count >= magic.count, Array(b[0..<magic.count]) == magic else { throw DecodeError(offset: 0) }
            var i = magic.count
            var sub = StagedSubBatch()
            sub.debts.reserveCapacity(b.count / 160)
            sub.debtLines.reserveCapacity(b.count / 160)
            sub.debtRawRanges.reserveCapacity(b.count / 160)
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
                guard i + n <= b.count else { throw DecodeError(offset: i) }
                defer { i += n }
                return String(decoding: UnsafeBufferPointer(rebasing: b[i..<(i + n)]), as: UTF8.self)
            }
            func optional() throws -> String? {
                try byte() == 0 ? nil : try string()
            }
            func skipString() throws -> Range<Int> {
                let n = try int()
                guard i + n <= b.count else { throw DecodeError(offset: i) }
                defer { i += n }
                return i..<(i + n)
            }
            while i < b.count {
                let line = try int()
                let tag = try byte()
                switch tag {
                case 0, 1:
                    let raw = try skipString()
                    let externalID = try string(), name = try string()
                    let document = TaxID(value: try string(), kind: tag == 0 ? .cpf : .cnpj)
                    let cents = Int64(bitPattern: try varint())
                    let due = Day(daysSinceEpoch: Int(Int64(bitPattern: try varint())))
                    sub.debts.append(Debt(
                        externalID: externalID, name: name, document: document, amountCents: cents, dueDate: due,
                        email: try optional(), phone: try optional(), description: try optional()))
                    sub.debtLines.append(line)
                    sub.debtRawRanges.append(raw)
                    sub.order.append(true)
                case 2:
                    let raw = try string()
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
                    sub.order.append(false)
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

/// Text a staging file holds as its length and UTF-8: a String, or bytes read in place.
private protocol StagedText {
    func put(into out: inout [UInt8])
}

extension String: StagedText {
    fileprivate func put(into out: inout [UInt8]) {
        var s = self
        s.withUTF8 { StagingCodec.putBytes($0, &out) }
    }
}

extension UnsafeBufferPointer<UInt8>: StagedText {
    fileprivate func put(into out: inout [UInt8]) {
        StagingCodec.putBytes(self, &out)
    }
}
