/// The intermediate store's file format: staging rows of one sub-batch, written by the transform
/// stage and read by the register stage. Length-prefixed UTF-8 fields behind a version tag, so
/// that reading is a straight scan with no escaping.
public enum StagingCodec {
    static let magic: [UInt8] = Array("ESTG1\n".utf8)

    public struct DecodeError: Error, Equatable, Sendable {
        public var offset: Int
    }

    public static func encode(_ rows: [StagingRow]) -> [UInt8] {
        var out = magic
        out.reserveCapacity(rows.count * 160)
        for row in rows {
            putVarint(UInt64(row.line), &out)
            switch row.structure {
            case .ok: out.append(0)
            case .unclosedQuote: out.append(1)
            case let .columnCount(expected, found):
                out.append(2)
                putVarint(UInt64(expected), &out)
                putVarint(UInt64(found), &out)
            }
            for s in [row.raw, row.externalID, row.name, row.document, row.amount, row.dueDate,
                      row.email, row.phone, row.description] {
                var s = s
                s.withUTF8 { bytes in
                    putVarint(UInt64(bytes.count), &out)
                    out.append(contentsOf: bytes)
                }
            }
        }
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws -> [StagingRow] {
        try bytes.withUnsafeBufferPointer { b in
            guard b.count >= magic.count, Array(b[0..<magic.count]) == magic else { throw DecodeError(offset: 0) }
            var i = magic.count
            var rows: [StagingRow] = []
            func varint() throws -> Int {
                var value: UInt64 = 0, shift: UInt64 = 0
                while true {
                    guard i < b.count, shift < 64 else { throw DecodeError(offset: i) }
                    let c = b[i]; i += 1
                    value |= UInt64(c & 0x7F) << shift
                    if c < 0x80 { return Int(value) }
                    shift += 7
                }
            }
            func string() throws -> String {
                let n = try varint()
                guard n >= 0, i + n <= b.count else { throw DecodeError(offset: i) }
                defer { i += n }
                return String(decoding: UnsafeBufferPointer(rebasing: b[i..<(i + n)]), as: UTF8.self)
            }
            while i < b.count {
                let line = try varint()
                guard i < b.count else { throw DecodeError(offset: i) }
                let kind = b[i]; i += 1
                let structure: StagingRow.Structure
                switch kind {
                case 0: structure = .ok
                case 1: structure = .unclosedQuote
                case 2: structure = .columnCount(expected: try varint(), found: try varint())
                default: throw DecodeError(offset: i - 1)
                }
                rows.append(StagingRow(
                    line: line, raw: try string(), structure: structure, externalID: try string(), name: try string(),
                    document: try string(), amount: try string(), dueDate: try string(), email: try string(),
                    phone: try string(), description: try string()))
            }
            return rows
        }
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
