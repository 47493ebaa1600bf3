import EsteiraCore
import Foundation
import Testing

@Suite("The end-to-end suites' executor, where tests may block", .offSharedPool)
struct OffSharedPoolTests {
    /// Eight tasks block their threads until a ninth lets them go: more than the shared pool's
    /// one thread per core. On the shared pool the ninth would never run, and each of the eight
    /// would give up after 30 s.
    @Test("blocked tasks do not keep another from running")
    func blockedTasksLeaveRoom() async throws {
        let gate = DispatchSemaphore(value: 0)
        let released = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { gate.wait(timeout: .now() + 30) == .success } }
            group.addTask {
                try await Task.sleep(for: .milliseconds(100))
                for _ in 0..<8 { gate.signal() }
                return true
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(released == 9)
    }
}
