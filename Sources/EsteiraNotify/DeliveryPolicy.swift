import Foundation
import ServiceLifecycle

/// How the outbox is worked, for every channel: how often it is looked at, how many
/// notifications are taken at once, and when a failed one is tried again — an exponential
/// backoff with full jitter, `baseSeconds` doubling up to `capSeconds`, for `maxAttempts` attempts
/// (with the defaults, about seven hours), after which it is given up (`dead`).
public struct DeliveryPolicy: Sendable {
    public var pollSeconds: Double = 1
    public var baseSeconds: Double = 10
    public var capSeconds: Double = 3600
    public var maxAttempts: Int = 15
    public var batch = 20

    public init() {}

    /// When to try again after attempt number `attempt` (1 for the first) failed; nil: give up.
    public func retryAt(afterAttempt attempt: Int, now: Date = Date()) -> Date? {
        guard attempt < maxAttempts else { return nil }
        let ceiling = min(capSeconds, baseSeconds * pow(2, Double(attempt - 1)))
        return now.addingTimeInterval(Double.random(in: ceiling / 2...ceiling))
    }

    /// Until shutdown: `round` claims what is due and delivers it, returning how many it took;
    /// when that is less than a full batch, the outbox is left alone for `pollSeconds`.
    func loop(_ round: @escaping @Sendable () async -> Int) async {
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                if await round() < batch { try? await Task.sleep(for: .seconds(pollSeconds)) }
            }
        } onGracefulShutdown: {}
    }
}
