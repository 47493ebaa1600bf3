import EsteiraCore
import Foundation

/// Which database a statement is rendered for. The SQL text is written once; only the bind
/// placeholders (`?` or `$n`) and a few clauses that exist on one side differ.
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}

/// A value sent to or read from the database.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case text(String)
    /// A moment, UTC. SQLite keeps it as fixed-width ISO 8601 text; PostgreSQL as timestamptz.
    case timestamp(Date)
    /// A calendar day. SQLite keeps it as `AAAA-MM-DD` text; PostgreSQL as date.
    case day(Day)
}

public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension Int: SQLBindable { public var sqlValue: SQLValue { .int(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .int(self) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Date: SQLBindable { public var sqlValue: SQLValue { .timestamp(self) } }
extension Day: SQLBindable { public var sqlValue: SQLValue { .day(self) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// A statement whose interpolated values become bind parameters:
/// `"SELECT * FROM batches WHERE id = \(id)"`. Identifiers and fixed fragments go in with
/// `\(raw:)`, never a value that came from outside.
public struct SQL: Sendable, ExpressibleByStringInterpolation {
    /// The text, with `SQL.marker` where each bind goes.
    public private(set) var text: String
    public private(set) var binds: [SQLValue]

    static let marker: Character = "\u{1}"

    public init(stringLiteral value: String) {
        text = value
        binds = []
    }

    public init(stringInterpolation: Interpolation) {
        text = stringInterpolation.text
        binds = stringInterpolation.binds
    }

    public struct Interpolation: StringInterpolationProtocol {
        var text = ""
        var binds: [SQLValue] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 2)
        }

        public mutating func appendLiteral(_ literal: String) { text += literal }

        public mutating func appendInterpolation(_ value: some SQLBindable) {
            text.append(SQL.marker)
            binds.append(value.sqlValue)
        }

        public mutating func appendInterpolation<T: SQLBindable>(_ value: T?) {
            text.append(SQL.marker)
            binds.append(value?.sqlValue ?? .null)
        }

        public mutating func appendInterpolation(raw: String) { text += raw }

        public mutating func appendInterpolation(_ sql: SQL) {
            text += sql.text
            binds += sql.binds
        }

        /// `(?, ?, ?)` for each value of the list, comma separated: for `IN` lists.
        public mutating func appendInterpolation(list values: [some SQLBindable]) {
            for (i, v) in values.enumerated() {
                if i > 0 { text += ", " }
                text.append(SQL.marker)
                binds.append(v.sqlValue)
            }
        }
    }

    public static func + (lhs: SQL, rhs: SQL) -> SQL {
        var out = lhs
        out.text += rhs.text
        out.binds += rhs.binds
        return out
    }

    /// A multi-row `VALUES (...), (...)` list.
    public static func values(_ rows: [[SQLValue]]) -> SQL {
        var out = SQL(stringLiteral: "")
        out.text.reserveCapacity(rows.count * (rows.first?.count ?? 1) * 3)
        out.binds.reserveCapacity(rows.count * (rows.first?.count ?? 0))
        for (r, row) in rows.enumerated() {
            out.text += r == 0 ? "(" : ", ("
            for (c, v) in row.enumerated() {
                if c > 0 { out.text += ", " }
                out.text.append(marker)
                out.binds.append(v)
            }
            out.text += ")"
        }
        return out
    }

    /// The text for a dialect: `?` for SQLite, `$1, $2, ...` for PostgreSQL.
    /// Works on the UTF-8 bytes: statements of thousands of rows are rendered on the hot path.
    public func render(_ dialect: SQLDialect) -> String {
        let marker: UInt8 = 1
        switch dialect {
        case .sqlite:
            return String(decoding: text.utf8.map { $0 == marker ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
        case .postgres:
            var out: [UInt8] = []
            out.reserveCapacity(text.utf8.count + binds.count * 4)
            var n = 0
            for byte in text.utf8 {
                if byte == marker {
                    n += 1
                    out.append(UInt8(ascii: "$"))
                    out.append(contentsOf: String(n).utf8)
                } else {
                    out.append(byte)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}

/// The most binds put in one statement: both databases allow more (SQLite 32,766, PostgreSQL 65,535).
public let maxBindsPerStatement = 30_000

/// An error from the database layer, with the statement's text (never its values: they may be personal data).
public struct SQLError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable { case constraint, busy, connection, decode, other }
    public var code: Code
    public var message: String
    public var sql: String

    public init(code: Code, message: String, sql: String) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    public var description: String { "SQLError(\(code.rawValue)): \(message) [\(sql.prefix(200))]" }
}
