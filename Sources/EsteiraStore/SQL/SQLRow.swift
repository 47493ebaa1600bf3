import EsteiraCore
import Foundation

/// One row of a result, read by column name. Reading a column the result lacks, or a stored
/// value the code does not know, is an error naming the statement, the column and the value:
/// nothing reads as null or as a default in silence.
public struct SQLRow: Sendable {
    final class Columns: Sendable {
        let index: [String: Int]
        /// The statement that made the result, for errors.
        let sql: String
        init(_ names: [String], sql: String) {
            var index: [String: Int] = [:]
            for (i, n) in names.enumerated() where index[n] == nil { index[n] = i }
            self.index = index
            self.sql = sql
        }
    }

    let columns: Columns
    public let values: [SQLValue]

    init(columns: Columns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The rows of one result, made by a binding outside this module (Benchmarks/grdb).
    public static func rows(columns: [String], values: [[SQLValue]], sql: String) -> [SQLRow] {
        let shared = Columns(columns, sql: sql)
        return values.map { SQLRow(columns: shared, values: $0) }
    }

    /// The column's value; a column that is not in the result throws.
    public func value(_ name: String) throws -> SQLValue {
        guard let i = columns.index[name] else {
            throw SQLError(code: .decode, message: "column \(name) is not in the result (it has \(columns.index.keys.sorted().joined(separator: ", ")))",
                           sql: columns.sql)
        }
        return values[i]
    }

    private func fail(_ name: String, _ expected: String, _ found: SQLValue) -> SQLError {
        SQLError(code: .decode, message: "column \(name): expected \(expected), found \(found)", sql: columns.sql)
    }

    /// A stored word read as one of the code's cases (a job's kind, a batch's status, …); a word
    /// the code does not know throws rather than being taken for some default.
    public func known<E: RawRepresentable>(_ name: String, as type: E.Type = E.self) throws -> E where E.RawValue == String {
        let word = try string(name)
        guard let value = E(rawValue: word) else {
            throw SQLError(code: .decode, message: "column \(name): '\(word)' is not a known \(E.self)", sql: columns.sql)
        }
        return value
    }

    public func int(_ name: String) throws -> Int { try int(try value(name), name) }
    public func optionalInt(_ name: String) throws -> Int? { try optional(name, int) }
    public func string(_ name: String) throws -> String { try string(try value(name), name) }
    public func optionalString(_ name: String) throws -> String? { try optional(name, string) }
    public func date(_ name: String) throws -> Date { try date(try value(name), name) }
    public func optionalDate(_ name: String) throws -> Date? { try optional(name, date) }
    public func day(_ name: String) throws -> Day { try day(try value(name), name) }
    public func optionalDay(_ name: String) throws -> Day? { try optional(name, day) }

    /// The same by the column's position in the statement, for the rare reader of millions of rows
    /// (an export), which a lookup by name per value would slow. (The column's name for an error
    /// is made only when there is one: the helpers below take it as an autoclosure.)
    public func int(at i: Int) throws -> Int { try int(values[i], "#\(i)") }
    public func string(at i: Int) throws -> String { try string(values[i], "#\(i)") }
    public func optionalString(at i: Int) throws -> String? { if case .null = values[i] { nil } else { try string(at: i) } }
    public func date(at i: Int) throws -> Date { try date(values[i], "#\(i)") }
    public func day(at i: Int) throws -> Day { try day(values[i], "#\(i)") }

    private func int(_ value: SQLValue, _ name: @autoclosure () -> String) throws -> Int {
        guard case .int(let v) = value else { throw fail(name(), "integer", value) }
        return Int(v)
    }

    private func string(_ value: SQLValue, _ name: @autoclosure () -> String) throws -> String {
        guard case .text(let v) = value else { throw fail(name(), "text", value) }
        return v
    }

    private func date(_ value: SQLValue, _ name: @autoclosure () -> String) throws -> Date {
        switch value {
        case .timestamp(let d): return d
        case .text(let t): if let d = Timestamp.parse(t) { return d }
        default: break
        }
        throw fail(name(), "timestamp", value)
    }

    private func day(_ value: SQLValue, _ name: @autoclosure () -> String) throws -> Day {
        switch value {
        case .day(let d): return d
        case .text(let t): if let d = Day.parse(t) { return d }
        default: break
        }
        throw fail(name(), "date", value)
    }

    /// Nil for SQL NULL, else the column read by `read`.
    private func optional<T>(_ name: String, _ read: (String) throws -> T) throws -> T? {
        if case .null = try value(name) { return nil }
        return try read(name)
    }
}
