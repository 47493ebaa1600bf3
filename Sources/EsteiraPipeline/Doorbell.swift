/// Wakes idle worker slots of this process: a claimed or finished job can make another job ready
/// (the next sub-batch's register, the next stage), and a slot asleep in its poll interval would
/// otherwise leave the work to the slot that just finished, one job at a time.
actor Doorbell {
    private var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
    private var next = 0

    /// Returns when rung, after `seconds`, or when the waiting task is cancelled.
    func wait(seconds: Double) async {
        let id = next
        next += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if Task.isCancelled { continuation.resume(); return }
                waiting[id] = continuation
                Task {
                    try? await Task.sleep(for: .seconds(seconds))
                    self.wake(id)
                }
            }
        } onCancel: {
            Task { await self.wake(id) }
        }
    }

    private func wake(_ id: Int) {
        waiting.removeValue(forKey: id)?.resume()
    }

    func ring() {
        let all = waiting
        waiting.removeAll()
        for continuation in all.values { continuation.resume() }
    }
}
