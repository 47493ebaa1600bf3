import Synchronization

/// How a raced task came out: it ended (with its result), or an alarm went off first.
public enum Raced<Success: Sendable, Failure: Error, Alarm: Sendable>: Sendable {
    case ended(Result<Success, Failure>)
    case alarm(Alarm)
}

/// Waits until `work` ends or the first of `alarms` goes off, whichever comes first, and says which.
///
/// Each alarm runs in a task of its own, which inherits the caller's task locals (the graceful-shutdown
/// signal among them). An alarm goes off by returning a value, and stays silent by throwing: the alarms
/// are cancelled once the work ends. When an alarm goes off first, the work is cancelled and left to end
/// in the background: the caller moves on even if the work never answers (a query on a connection that
/// died in a database restart, an HTTP call that hangs).
public func race<Success: Sendable, Failure: Error, Alarm: Sendable>(
    _ work: Task<Success, Failure>, alarms: [@Sendable () async throws -> Alarm]
) async -> Raced<Success, Failure, Alarm> {
    let raced = await withCheckedContinuation { (continuation: CheckedContinuation<Raced<Success, Failure, Alarm>, Never>) in
        let first = FirstAnswer(continuation)
        let timers = alarms.map { alarm in
            Task {
                if let value = try? await alarm() { first.resolve(.alarm(value)) }
            }
        }
        Task {
            let result = await work.result
            for timer in timers { timer.cancel() }
            first.resolve(.ended(result))
        }
    }
    if case .alarm = raced { work.cancel() }
    return raced
}

/// Runs `operation` in a task of its own and races it against `alarms` (see `race(_:alarms:)`).
/// Cancelling the caller cancels the operation; the race still ends when the operation does or an
/// alarm goes off, so an operation that ignores its cancellation is waited for until an alarm.
public func race<Success: Sendable, Alarm: Sendable>(
    _ operation: @escaping @Sendable () async throws -> Success, alarms: [@Sendable () async throws -> Alarm]
) async -> Raced<Success, any Error, Alarm> {
    let work = Task { try await operation() }
    return await withTaskCancellationHandler {
        await race(work, alarms: alarms)
    } onCancel: {
        work.cancel()
    }
}

/// `operation` did not answer within its bound; it was cancelled and left to end in the background.
public struct Overran: Error, CustomStringConvertible {
    public let seconds: Double
    public var description: String { "no answer within \(seconds) s" }
}

/// The operation's result, or `Overran` once `seconds` have passed without one (see `race`).
///
/// Its timer starts when its alarm task first runs, not at the call: on a cooperative pool held
/// by blocking work (seen in CI), a bound counted from the call expired before the operation ever
/// ran. (A request's deadline, `answer(by:)`, is the other way on purpose: it counts from arrival.)
public func bounded<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let raced = await race(operation, alarms: [{ @Sendable in try await Task.sleep(for: .seconds(seconds)) }])
    switch raced {
    case .ended(let result): return try result.get()
    case .alarm: throw Overran(seconds: seconds)
    }
}

/// Resumes a continuation with whichever answer comes first; later answers are dropped.
final class FirstAnswer<Value: Sendable>: Sendable {
    private let pending: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) {
        pending = Mutex(continuation)
    }

    func resolve(_ value: Value) {
        pending.withLock { slot -> CheckedContinuation<Value, Never>? in
            defer { slot = nil }
            return slot
        }?.resume(returning: value)
    }
}
