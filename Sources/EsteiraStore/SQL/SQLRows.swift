/// Rows for a bulk insert, made one at a time: `make(i, &row)` appends the values of row `i` to
/// `row`. A database that streams rows (PostgreSQL's `COPY`) encodes each as it is made, in one
/// reused array, instead of holding a million arrays of values and freeing them afterwards, which
/// on a large batch cost the register stage about a tenth of its CPU time (docs/benchmarks.md).
public struct SQLRows: Sendable {
    public let count: Int
    let make: @Sendable (Int, inout [SQLValue]) -> Void

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
}
