import EsteiraCore
import Foundation

/// One row of a result, read by column name.
public struct SQLRow: Sendable {
    final class Columns: Sendable {
        let index: [String: Int]
        init(_ names: [String]) {
            var index: [String: Int] = [:]
            for (i, n) in names.enumerated() where index[n] == nil { index[n] = i }
            self.index = index
        }
    }

    let columns: Columns
    public let values: [SQLValue]

    init(columns: Columns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(_ name: String) -> SQLValue {
        guard let i = columns.index[name] else { return .null }
        return values[i]
    }

    private func fail(_ name: String, _ expected: String) -> SQLError {
        SQLError(code: .decode, message: "column \(name): expected \(expected), found \(self[name])", sql: "")
    }

    public func int(_ name: String) throws -> Int {
        guard case .int(let v) = self[name] else { throw fail(name, "integer") }
        return Int(v)
    }

    public func optionalInt(_ name: String) throws -> Int? {
        if case .null = self[name] { return nil }
        return try int(name)
    }

    public func string(_ name: String) throws -> String {
        guard case .text(let v) = self[name] else { throw fail(name, "text") }
        return v
    }

    public func optionalString(_ name: String) throws -> String? {
        if case .null = self[name] { return nil }
        return try string(name)
    }

    public func date(_ name: String) throws -> Date {
        switch self[name] {
        case .timestamp(let d): return d
        case .text(let t): if let d = Timestamp.parse(t) { return d }
        default: break
        }
        throw fail(name, "timestamp")
    }

    public func optionalDate(_ name: String) throws -> Date? {
        if case .null = self[name] { return nil }
        return try date(name)
    }

    public func day(_ name: String) throws -> Day {
        switch self[name] {
        case .day(let d): return d
        case .text(let t): if let d = Day.parse(t) { return d }
        default: break
        }
        throw fail(name, "date")
    }
}
