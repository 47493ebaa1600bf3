import EsteiraCore
import Foundation
import Testing

/// Runs a suite's tests on threads of their own instead of Swift concurrency's shared pool.
///
/// The end-to-end helpers (`EsteiraProcess`) wait for processes the plain way: reading a pipe
/// until the server says where it listens, running psql or the command line to its end, polling
/// a process until it has stopped. Each wait holds the thread it runs on. The shared pool has one
/// thread per core, two on CI, so two such waits stopped every other suite's tasks in the test
/// process: on CI (2026-11-24) the S3 outage test got its turn to end the outage so late that the
/// worker's job had used all its attempts, and earlier (07be77f) a loop's round waited 20 s.
/// Here a thread that blocks is replaced, so a test that waits holds up only itself.
struct OffSharedPool: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(BlockingAllowedExecutor.shared) { try await function() }
    }
}

extension Trait where Self == OffSharedPool {
    /// The suite's tests, and the tasks they start, run where blocking waits are harmless.
    static var offSharedPool: Self { OffSharedPool() }
}

/// A task executor whose threads may block: a job that finds no idle thread gets a new one, so
/// however many wait, the others still run. Threads stay for the next jobs; a test process never
/// has more than the most that were ever busy at once.
final class BlockingAllowedExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = BlockingAllowedExecutor()
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []  // guarded by condition
    private var idle = 0                 // threads waiting for a job; guarded by condition

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        let spawn = jobs.count > idle
        if !spawn { condition.signal() }
        condition.unlock()
        if spawn {
            let thread = Thread { [self] in work() }
            thread.name = "e2e-test"
            thread.start()
        }
    }

    private func work() {
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while jobs.isEmpty {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
