/// PostgreSQL's binary `COPY` format, as far as the registry's rows use it: a header, then each row
/// as its number of fields (16 bits) followed by each field as its length in bytes (32 bits, -1 for
/// a null) and its bytes, then a trailer (a 16-bit -1). Integers are big-endian. A text is its UTF-8
/// bytes as they are, a `BIGINT` eight bytes, a `DATE` four bytes counting days from 2000-01-01
/// (PostgreSQL's documentation, "COPY", "Binary Format"; the types' `send` functions).
///
/// The transform stage writes each valid debt's fields in this format into the staging file, and
/// the register stage sends them to PostgreSQL as they are (docs/architecture.md, "A valid debt is
/// staged as its registry row"). Against the text format, PostgreSQL has no escapes to look for
/// and no digits or dates to parse, and Esteira none to write.
public enum CopyBinary {
    /// The signature, the flags (none: no OIDs) and the length of the header's extension (none).
    public static let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]
    public static let trailer: [UInt8] = [0xFF, 0xFF]

    /// Days from 1970-01-01 (`Day.daysSinceEpoch`) to 2000-01-01, PostgreSQL's day zero:
    /// 30 years of 365 days and the 7 leap days of 1972–1996.
    @usableFromInline static let postgresEpoch = 30 * 365 + 7

    /// A row's number of fields.
    @inlinable
    public static func appendFieldCount(_ n: Int, to out: inout [UInt8]) {
        appendBigEndian(UInt16(truncatingIfNeeded: n), to: &out)
    }

    /// A text field: its length and its bytes.
    @inlinable
    public static func appendText(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        appendBigEndian(UInt32(truncatingIfNeeded: bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    @inlinable
    public static func appendNull(to out: inout [UInt8]) {
        out.append(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF])
    }

    /// A `BIGINT` field.
    @inlinable
    public static func appendInt64(_ n: Int64, to out: inout [UInt8]) {
        appendBigEndian(UInt32(8), to: &out)
        appendBigEndian(UInt64(bitPattern: n), to: &out)
    }

    /// A `DATE` field.
    @inlinable
    public static func appendDay(_ d: Day, to out: inout [UInt8]) {
        appendBigEndian(UInt32(4), to: &out)
        appendBigEndian(UInt32(truncatingIfNeeded: d.daysSinceEpoch - postgresEpoch), to: &out)
    }

    @inlinable
    static func appendBigEndian<T: FixedWidthInteger>(_ n: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: n.bigEndian) { out.append(contentsOf: $0) }
    }

    /// The value of a `BIGINT` field's bytes; nil unless there are eight.
    public static func int64(_ field: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard field.count == 8, let base = field.baseAddress else { return nil }
        return Int64(bigEndian: UnsafeRawPointer(base).loadUnaligned(as: Int64.self))
    }

    /// The day of a `DATE` field's bytes; nil unless there are four and they name a day `Day` holds.
    public static func day(_ field: UnsafeBufferPointer<UInt8>) -> Day? {
        guard field.count == 4, let base = field.baseAddress else { return nil }
        let days = Int(Int32(bigEndian: UnsafeRawPointer(base).loadUnaligned(as: Int32.self))) + postgresEpoch
        let day = Day(daysSinceEpoch: days)
        return (1...9999).contains(day.year) ? day : nil
    }

    /// The fields of one row, read one after another (without the row's field count).
    public struct Fields {
        public let bytes: UnsafeBufferPointer<UInt8>
        /// Where the next field's length is.
        public private(set) var offset: Int

        public init(_ bytes: UnsafeBufferPointer<UInt8>, from offset: Int = 0) {
            self.bytes = bytes
            self.offset = offset
        }

        public enum Field {
            case null
            case value(UnsafeBufferPointer<UInt8>)
        }

        /// The next field; nil when its length or bytes run past the end.
        public mutating func next() -> Field? {
            guard offset + 4 <= bytes.count, let base = bytes.baseAddress else { return nil }
            let length = Int32(bigEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: Int32.self))
            if length == -1 {
                offset += 4
                return .null
            }
            guard length >= 0, Int(length) <= bytes.count - offset - 4 else { return nil }
            let start = offset + 4
            offset = start + Int(length)
            return .value(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
        }

        /// The next field's bytes; nil when it is a null or runs past the end.
        public mutating func nextValue() -> UnsafeBufferPointer<UInt8>? {
            if case .value(let v)? = next() { return v }
            return nil
        }
    }
}
