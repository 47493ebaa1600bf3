import EsteiraCore
import Foundation
import NIOCore

/// Rows for a bulk insert, made one at a time: `make(i, &row)` writes the values of row `i`, in
/// column order, to `row`. A database that binds values gets them as an array; PostgreSQL's
/// `COPY` gets each written straight into its text as it is made, with no array of values in
/// between: the array, its enum cases and their strings' retains and releases were two thirds of
/// the cost of encoding the registry's rows (docs/benchmarks.md).
public struct SQLRows: Sendable {
    public let count: Int
    let make: @Sendable (Int, inout SQLRowWriter) -> Void
    /// The rows already encoded for PostgreSQL's `COPY`: in its text format when `prepared(for:)`
    /// encoded them, in its binary format when they were staged so (the registry's rows).
    var copyData: CopyData?

    public init(count: Int, make: @escaping @Sendable (Int, inout SQLRowWriter) -> Void) {
        self.count = count
        self.make = make
    }

    /// Rows already made.
    public init(_ rows: [[SQLValue]]) {
        self.init(count: rows.count) { i, row in
            for value in rows[i] { row.append(value) }
        }
    }

    /// Row `i` on its own.
    public func row(_ i: Int) -> [SQLValue] {
        var row = SQLRowWriter(values: ())
        make(i, &row)
        return row.values
    }

    /// Every row, made now. Each row's array is made with room for as many values as the first
    /// row had, instead of growing five times on the way to a dozen.
    public var all: [[SQLValue]] {
        var writer = SQLRowWriter(values: ())
        var width = 0
        return (0..<count).map { i in
            writer.values = []
            writer.values.reserveCapacity(width)
            make(i, &writer)
            width = writer.values.count
            return writer.values
        }
    }

    /// The rows as the database will want them, made now: on PostgreSQL, encoded for `COPY`. A
    /// caller that prepares its rows before its transaction (the register stage) keeps the
    /// encoding out of it, so that PostgreSQL gets the data as soon as it asks.
    public func prepared(for dialect: SQLDialect) -> SQLRows {
        guard dialect == .postgres else { return self }
        var rows = self
        rows.copyData = CopyData(format: .text, bytes: PostgresCopyText.encode(self))
        return rows
    }
}

/// Rows encoded for PostgreSQL's `COPY … FROM STDIN`, and in which of its formats.
struct CopyData: Sendable {
    enum Format: Sendable { case text, binary }
    var format: Format
    var bytes: ByteBuffer
}

extension CopyData {
    /// Rows in the binary format (`CopyBinary`), its header and trailer included.
    init(binary: [UInt8]) {
        self.init(format: .binary, bytes: ByteBuffer(bytes: binary))
    }
}

/// Where `SQLRows` writes a row's values: into an array, or into the text of PostgreSQL's `COPY`.
public struct SQLRowWriter {
    /// The row's values, when writing into an array.
    fileprivate(set) var values: [SQLValue] = []
    /// The rows' text so far, when writing for `COPY`.
    var copy: PostgresCopyText
    private let toCopy: Bool

    init(values: ()) {
        copy = PostgresCopyText(capacity: 0)
        toCopy = false
    }

    init(copy: PostgresCopyText) {
        self.copy = copy
        toCopy = true
    }

    @inline(__always)
    public mutating func append(_ value: SQLValue) {
        guard toCopy else { return values.append(value) }
        switch value {
        case .null: copy.null()
        case .int(let n): copy.int(n)
        case .text(let s): copy.text(s)
        case .day(let d): copy.day(d)
        case .timestamp(let t): copy.timestamp(t)
        }
    }

    @inline(__always)
    public mutating func int(_ n: Int64) {
        if toCopy { copy.int(n) } else { values.append(.int(n)) }
    }

    @inline(__always)
    public mutating func text(_ s: String) {
        if toCopy { copy.text(s) } else { values.append(.text(s)) }
    }

    /// The text, or null.
    @inline(__always)
    public mutating func text(_ s: String?) {
        guard let s else { return append(.null) }
        text(s)
    }

    @inline(__always)
    public mutating func day(_ d: Day) {
        if toCopy { copy.day(d) } else { values.append(.day(d)) }
    }
}
