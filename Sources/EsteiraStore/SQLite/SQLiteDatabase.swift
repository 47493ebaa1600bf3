import EsteiraCore
import Foundation

/// Hands out connections one block at a time, in arrival order.
actor ConnectionLender<Connection: Sendable> {
    private var free: [Connection]
    private var waiting: [CheckedContinuation<Connection, Never>] = []

    init(_ connections: [Connection]) { free = connections }

    func borrow() async -> Connection {
        if let c = free.popLast() { return c }
        return await withCheckedContinuation { waiting.append($0) }
    }

    func giveBack(_ c: Connection) {
        if waiting.isEmpty { free.append(c) } else { waiting.removeFirst().resume(returning: c) }
    }
}

/// The embedded database: one SQLite file in WAL mode, one writer connection and a few readers,
/// so that API reads go on while a worker writes.
public final class SQLiteDatabase: SQLDatabase {
    public var dialect: SQLDialect { .sqlite }
    private let writer: ConnectionLender<SQLiteHandle>
    private let readers: ConnectionLender<SQLiteHandle>
    private let checkpoints: Task<Void, Never>

    /// The WAL's size past which the checkpointer starts it over (see `init`).
    static let walLimit = 64 << 20

    public init(path: String, readers readerCount: Int = 4) throws {
        let w = try SQLiteHandle(path: path, label: "esteira.sqlite.writer")
        // The writer never checkpoints (copies the WAL back into the database) itself: that would
        // stall a commit now and then. A background connection does it, without blocking anyone.
        try w.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=0;")
        writer = ConnectionLender([w])
        let checkpointer = try SQLiteHandle(path: path, label: "esteira.sqlite.checkpointer")
        // A passive checkpoint copies what it can and never waits, but it cannot start the WAL
        // over while readers keep using it: under reads that never stop (the risk API at 2,000
        // requests a second) the WAL grew without bound and every read slowed. So
        // when the frames in the WAL pass `walLimit`, the checkpointer asks for a restarting one:
        // it waits for the WAL's readers to finish (at most 100 ms; otherwise it gives up and tries
        // again at the next turn), holding new writes back meanwhile, and the next write starts the
        // WAL from its beginning. A much shorter wait lost to the readers of a saturated machine
        // every time, and the WAL grew again. The writer's `journal_size_limit` then keeps the
        // file itself near the limit.
        try checkpointer.exec("PRAGMA busy_timeout=100;")
        try w.exec("PRAGMA journal_size_limit=\(Self.walLimit);")
        let walLimit = Self.walLimit
        checkpoints = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                // (busy, frames in the WAL, frames copied); pages are 4 KiB.
                let frames = (try? await checkpointer.run { try $0.step("PRAGMA wal_checkpoint(PASSIVE)", []).rows })?
                    .first.flatMap { $0.values.count > 1 ? $0.values[1] : nil }
                if case .int(let n)? = frames, Int(n) * 4096 > walLimit {
                    _ = try? await checkpointer.run { try $0.exec("PRAGMA wal_checkpoint(RESTART)") }
                }
            }
        }
        var rs: [SQLiteHandle] = []
        for i in 0..<max(1, readerCount) {
            let r = try SQLiteHandle(path: path, label: "esteira.sqlite.reader\(i)")
            try r.exec("PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;")
            rs.append(r)
        }
        readers = ConnectionLender(rs)
    }

    public func write<T: Sendable>(durable: Bool, _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        let handle = await writer.borrow()
        do {
            // synchronous=FULL makes this commit wait for the disk; the others may be lost on power
            // failure but never on a crash of the process, and every job can run again.
            try await handle.run { h in
                if durable { try h.exec("PRAGMA synchronous=FULL") }
                try h.exec("BEGIN IMMEDIATE")
            }
            let value: T
            do {
                value = try await body(SQLiteConnection(handle: handle))
                try await handle.run { try $0.exec("COMMIT") }
            } catch {
                try? await handle.run { try $0.exec("ROLLBACK") }
                throw error
            }
            if durable { try await handle.run { try $0.exec("PRAGMA synchronous=NORMAL") } }
            await writer.giveBack(handle)
            return value
        } catch {
            if durable { try? await handle.run { try $0.exec("PRAGMA synchronous=NORMAL") } }
            await writer.giveBack(handle)
            throw error
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        let handle = await readers.borrow()
        do {
            try await handle.run { try $0.exec("BEGIN") }
            let value = try await body(SQLiteConnection(handle: handle))
            try await handle.run { try $0.exec("COMMIT") }
            await readers.giveBack(handle)
            return value
        } catch {
            try? await handle.run { try $0.exec("ROLLBACK") }
            await readers.giveBack(handle)
            throw error
        }
    }

    public func close() async throws {
        checkpoints.cancel()
    }

    deinit {
        checkpoints.cancel()
    }
}
