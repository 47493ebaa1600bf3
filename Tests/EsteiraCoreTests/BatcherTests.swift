import EsteiraCore
import Synchronization
import Testing

@Suite("Batcher: concurrent calls share one batch")
struct BatcherTests {
    @Test("each call gets the answer for its own input; calls made while a batch runs go in the next one")
    func coalesces() async throws {
        let batches = Mutex<[[Int]]>([])
        let gate = Mutex(true)
        let batcher = Batcher<Int, Int>(maxBatch: 50) { inputs in
            batches.withLock { $0.append(inputs) }
            // The first batch holds on until the other 99 calls are waiting.
            while gate.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
            return inputs.map { $0 * 10 }
        }
        let answers = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            group.addTask { (0, try await batcher.submit(0)) }
            while batches.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(1)) }
            for i in 1..<100 { group.addTask { (i, try await batcher.submit(i)) } }
            // Let them all queue, then release the first batch.
            try await Task.sleep(for: .milliseconds(200))
            gate.withLock { $0 = false }
            var out: [Int: Int] = [:]
            for try await (i, answer) in group { out[i] = answer }
            return out
        }
        #expect(answers.count == 100)
        #expect(answers.allSatisfy { $0.value == $0.key * 10 })
        // 1 call alone, then 99 waiting in batches of at most 50: 1 + 50 + 49.
        #expect(batches.withLock { $0.map(\.count) } == [1, 50, 49])
    }

    struct Boom: Error {}

    @Test("an error reaches every call of its batch, and the next batch runs")
    func errors() async throws {
        let calls = Mutex(0)
        let batcher = Batcher<Int, Int> { inputs in
            let n = calls.withLock { $0 += 1; return $0 }
            if n == 1 { throw Boom() }
            return inputs
        }
        await #expect(throws: Boom.self) { try await batcher.submit(1) }
        #expect(try await batcher.submit(2) == 2)
    }
}
