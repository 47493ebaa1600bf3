import CEsteiraShims
import NIOCore
import NIOPosix
import Synchronization

/// Runs CPU-bound work (parsing, validating, encoding a sub-batch) on a thread pool of its own, off
/// Swift's cooperative pool, at a lower scheduling priority.
///
/// Off the cooperative pool: it has one thread per core, two here. With two slots each parsing
/// 50,000 records inside it, nothing else in the process could run until one of them finished: not
/// the grace-period timer that releases jobs at shutdown, not lease renewals, not the watchdog.
///
/// At the priority `setNice` gives (the command sets 10 on PostgreSQL): there the batch's other half
/// runs in PostgreSQL's backends, at the normal priority, and every later sub-batch waits on their
/// chain of inserts. Where both share the cores, the kernel's fair share let two parsing threads
/// take turns with a backend in the middle of its `COPY`; lowered, they take what the inserts leave,
/// and the batch ends sooner (docs/benchmarks.md). Request handling, lease renewals and timers keep
/// the normal priority. The pool is Esteira's own, so nothing else that uses NIO's shared pool is
/// lowered with it.
public enum CPUWork {
    /// The nice value of the pool's threads, from 0 (the normal priority) to 19 (the lowest).
    private static let nice = Atomic<Int32>(0)

    /// Sets the nice value, before the first `run`: a thread that was lowered cannot be raised back
    /// without privileges, so a later, smaller value leaves the pool's threads where they are.
    public static func setNice(_ value: Int32) {
        precondition((0...19).contains(value), "nice must be within 0...19")
        nice.store(value, ordering: .relaxed)
    }

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: System.coreCount)
        pool.start()
        return pool
    }()

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive {
            // In effect once per thread: a thread already at that value is left as it is.
            _ = esteira_lower_thread_priority(nice.load(ordering: .relaxed))
            return try body()
        }
    }
}
