import EsteiraCore
import Foundation

/// The rows of a result as the text of their values, all in one buffer: for a reader that only
/// writes the values out again (an export of a million debts), which would otherwise make a
/// String per value and throw it away. Integers are their decimal digits, days `AAAA-MM-DD`,
/// moments as `Timestamp.iso` writes them (SQLite keeps them so; on PostgreSQL they are written
/// so from the values read).
public struct SQLTextRows: Sendable {
    public let width: Int
    public private(set) var count = 0
    private var bytes: [UInt8] = []
    /// Each value's end in `bytes`; its start is the end before it. SQL NULL takes no bytes.
    private var ends: [Int] = []
    private var nulls: [Bool] = []

    /// How much a result took: the room to make for the next one like it.
    struct Room {
        var bytes: Int
        var values: Int
    }

    init(width: Int, room: Room? = nil) {
        self.width = width
        if let room {
            bytes.reserveCapacity(room.bytes)
            ends.reserveCapacity(room.values)
            nulls.reserveCapacity(room.values)
        }
    }

    var room: Room { Room(bytes: bytes.count, values: ends.count) }

    mutating func append(_ value: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: value)
        endValue(null: false)
    }

    mutating func appendNull() {
        endValue(null: true)
    }

    /// Ends the value whose bytes (none for NULL) were just written, and its row with its last value.
    private mutating func endValue(null: Bool) {
        ends.append(bytes.count)
        nulls.append(null)
        if ends.count % width == 0 { count += 1 }
    }

    /// Rows read as values (PostgreSQL, or any binding without a text reader of its own),
    /// written as text straight into the buffer.
    init(_ rows: [SQLRow], width: Int) {
        self.init(width: width)
        for row in rows {
            for value in row.values {
                switch value {
                case .null: appendNull()
                case .int(let n): appendDigits(n)
                case .text(var s): s.withUTF8 { append($0) }
                case .day(let d): d.withISO { append($0) }
                case .timestamp(let t): appendWritten { Timestamp.appendISO(t, to: &$0) }
                }
            }
        }
    }

    private mutating func appendDigits(_ n: Int64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var i = buffer.count, rest = n.magnitude
            repeat {
                i -= 1
                buffer[i] = UInt8(48 + rest % 10)
                rest /= 10
            } while rest > 0
            if n < 0 { bytes.append(UInt8(ascii: "-")) }
            append(UnsafeBufferPointer(rebasing: buffer[i...]))
        }
    }

    /// A value `write` puts at the end of the buffer itself.
    private mutating func appendWritten(_ write: (inout [UInt8]) -> Void) {
        write(&bytes)
        endValue(null: false)
    }

    /// Calls `body` with a view of the rows that reads values in place.
    public func withRows<R>(_ body: (View) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { b in
            try ends.withUnsafeBufferPointer { e in
                try nulls.withUnsafeBufferPointer { n in try body(View(bytes: b, ends: e, nulls: n, width: width, count: count)) }
            }
        }
    }

    public struct View {
        let bytes: UnsafeBufferPointer<UInt8>
        let ends: UnsafeBufferPointer<Int>
        let nulls: UnsafeBufferPointer<Bool>
        let width: Int
        public let count: Int

        /// The bytes of row `row`'s value in column `column`; nil for SQL NULL.
        @inline(__always)
        public func value(_ row: Int, _ column: Int) -> UnsafeBufferPointer<UInt8>? {
            let i = row * width + column
            if nulls[i] { return nil }
            let start = i == 0 ? 0 : ends[i - 1], end = ends[i]
            return UnsafeBufferPointer(rebasing: bytes[start..<end])
        }

        /// The value as a String; nil for SQL NULL.
        public func string(_ row: Int, _ column: Int) -> String? {
            value(row, column).map { String(decoding: $0, as: UTF8.self) }
        }

        /// The value as an integer, read from its decimal digits; nil for SQL NULL or other text.
        public func int(_ row: Int, _ column: Int) -> Int64? {
            guard let b = value(row, column), !b.isEmpty else { return nil }
            let negative = b[0] == UInt8(ascii: "-")
            guard !negative || b.count > 1 else { return nil }
            // Summed toward the sign's side: Int64.min has no positive counterpart.
            var n: Int64 = 0
            for c in b[(negative ? 1 : 0)...] {
                guard c >= 48 && c <= 57 else { return nil }
                let digit = Int64(c - 48)
                let (times, o1) = n.multipliedReportingOverflow(by: 10)
                let (next, o2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                guard !o1 && !o2 else { return nil }
                n = next
            }
            return n
        }

        /// The value as a day written `AAAA-MM-DD`; nil for SQL NULL or any other text.
        public func day(_ row: Int, _ column: Int) -> Day? {
            guard let b = value(row, column), b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
            return Day(digitsOf: b, day: 8..<10, month: 5..<7, year: 0..<4)
        }
    }
}

extension SQLConnection {
    /// The default: the rows read as values, then written as text.
    public func queryText(_ sql: SQL) async throws -> SQLTextRows {
        let rows = try await query(sql)
        return SQLTextRows(rows, width: rows.first?.values.count ?? 0)
    }
}

extension SQLDatabase {
    public func queryText(_ sql: SQL) async throws -> SQLTextRows {
        try await read { try await $0.queryText(sql) }
    }
}
