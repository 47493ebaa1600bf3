import Synchronization

/// Coalesces concurrent calls into batches: each call hands in its input and waits; one drain
/// at a time runs `body` over every input waiting (up to `maxBatch`), then over those that
/// arrived meanwhile, until none is left. A lone call runs at once, alone — nothing waits for a
/// batch to fill — and under load the batches grow by themselves, so a database sees one
/// statement and one transaction for many requests instead of one each.
///
/// `body` answers each input, in order. When it throws, every call of that batch gets the error.
public final class Batcher<Input: Sendable, Output: Sendable>: Sendable {
    typealias Waiter = (input: Input, continuation: CheckedContinuation<Output, any Error>)
    struct State {
        var waiting: [Waiter] = []
        var draining = false
    }

    let body: @Sendable ([Input]) async throws -> [Output]
    let maxBatch: Int
    let state = Mutex(State())

    public init(maxBatch: Int = 500, _ body: @escaping @Sendable ([Input]) async throws -> [Output]) {
        self.maxBatch = max(1, maxBatch)
        self.body = body
    }

    public func submit(_ input: Input) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let startDrain = state.withLock { s -> Bool in
                s.waiting.append((input, continuation))
                guard !s.draining else { return false }
                s.draining = true
                return true
            }
            if startDrain { Task { await self.drain() } }
        }
    }

    func drain() async {
        while true {
            let batch = state.withLock { s -> [Waiter] in
                guard !s.waiting.isEmpty else {
                    s.draining = false
                    return []
                }
                let n = min(maxBatch, s.waiting.count)
                let taken = Array(s.waiting.prefix(n))
                s.waiting.removeFirst(n)
                return taken
            }
            if batch.isEmpty { return }
            do {
                let outputs = try await body(batch.map(\.input))
                guard outputs.count == batch.count else {
                    throw BatcherError(description: "a batch of \(batch.count) got \(outputs.count) answers")
                }
                for (waiter, output) in zip(batch, outputs) { waiter.continuation.resume(returning: output) }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}

struct BatcherError: Error, CustomStringConvertible {
    var description: String
}
