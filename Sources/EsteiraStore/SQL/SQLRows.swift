import NIOCore

/// Rows for a bulk insert, made one at a time: `make(i, &row)` appends the values of row `i` to
/// `row`. A database that streams rows (PostgreSQL's `COPY`) encodes each as it is made, in one
/// reused array, instead of holding a million arrays of values and freeing them afterwards, which
/// on a large batch cost the register stage about a tenth of its CPU time (docs/benchmarks.md).
public struct SQLRows: Sendable {
    public let count: Int
    let make: @Sendable (Int, inout [SQLValue]) -> Void
    /// The rows already in the text of PostgreSQL's `COPY`, when `prepared(for:)` encoded them.
    var copyText: ByteBuffer?

    public init(count: Int, make: @escaping @Sendable (Int, inout [SQLValue]) -> Void) {
        self.count = count
        self.make = make
    }

    /// Rows already made.
    public init(_ rows: [[SQLValue]]) {
        self.init(count: rows.count) { i, row in row.append(contentsOf: rows[i]) }
    }

    /// Row `i` on its own.
    public func row(_ i: Int) -> [SQLValue] {
        var row: [SQLValue] = []
        make(i, &row)
        return row
    }

    /// Every row, made now.
    public var all: [[SQLValue]] { (0..<count).map(row) }

    /// The rows as the database will want them, made now: on PostgreSQL, encoded for `COPY`. A
    /// caller that prepares its rows before its transaction (the register stage) keeps the
    /// encoding out of it, so that PostgreSQL gets the data as soon as it asks.
    public func prepared(for dialect: SQLDialect) -> SQLRows {
        guard dialect == .postgres else { return self }
        var rows = self
        rows.copyText = PostgresCopyText.encode(self)
        return rows
    }
}
