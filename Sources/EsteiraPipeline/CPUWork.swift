import NIOPosix

/// Runs CPU-bound work (parsing, validating, encoding a sub-batch) on NIO's blocking thread pool,
/// off Swift's cooperative pool.
///
/// The cooperative pool has one thread per core: two here. With two slots each parsing 50,000
/// records inside the pool, nothing else in the process could run until one of them finished:
/// not the grace-period timer that releases jobs at shutdown, not lease renewals, not the
/// watchdog. Awaiting the thread pool instead leaves the pool's threads free for those.
public enum CPUWork {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
