import Synchronization

/// Resumes a continuation with whichever answer comes first; later answers are dropped.
public final class FirstAnswer<Value: Sendable>: Sendable {
    private let pending: Mutex<CheckedContinuation<Value, Never>?>

    public init(_ continuation: CheckedContinuation<Value, Never>) {
        pending = Mutex(continuation)
    }

    public func resolve(_ value: Value) {
        pending.withLock { slot -> CheckedContinuation<Value, Never>? in
            defer { slot = nil }
            return slot
        }?.resume(returning: value)
    }
}
