import EsteiraStore
import Synchronization

/// A gate that callers wait at while it is closed; opening it lets the waiting ones go.
public final class Gate: Sendable {
    private let state = Mutex<(closed: Bool, waiting: [CheckedContinuation<Bool, Never>])>((false, []))

    public init() {}

    public func close() { state.withLock { $0.closed = true } }

    public func open() {
        let waiting = state.withLock { s in
            s.closed = false
            defer { s.waiting = [] }
            return s.waiting
        }
        for continuation in waiting { continuation.resume(returning: true) }
    }

    /// Returns at once while the gate is open (false), or once it opens (true: the caller waited).
    /// Cancellation does not end the wait.
    public func pass() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let closed = state.withLock { s in
                if s.closed { s.waiting.append(continuation) }
                return s.closed
            }
            if !closed { continuation.resume(returning: false) }
        }
    }
}

/// A value that tasks share and change.
public final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    public init(_ value: Value) { state = Mutex(value) }
    public var value: Value { state.withLock { $0 } }
    public func update(_ change: (inout Value) -> Void) { state.withLock { change(&$0) } }
}

/// A database whose writes (and reads, when asked) stop answering while its gate is closed, as
/// PostgresNIO's calls were seen to when begun during a PostgreSQL restart: they neither return nor
/// throw, cancelled or not. When the gate opens they fail, as on a lost connection.
public final class StallingDatabase: SQLDatabase {
    public let base: any SQLDatabase
    public let stallsReads: Bool
    public let gate = Gate()

    public init(_ base: any SQLDatabase, stallsReads: Bool = false) {
        self.base = base
        self.stallsReads = stallsReads
    }

    public var dialect: SQLDialect { base.dialect }

    public func write<T: Sendable>(durable: Bool, _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await stall()
        return try await base.write(durable: durable, body)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        if stallsReads { try await stall() }
        return try await base.read(body)
    }

    private func stall() async throws {
        if await gate.pass() { throw SQLError(code: .connection, message: "connection lost in the stall", sql: "") }
    }

    public func close() async throws {}
}
