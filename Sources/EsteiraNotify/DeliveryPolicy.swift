import EsteiraCore
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
    ///
    /// A round still running after `limit` seconds (the lease on what it claimed: past it, other
    /// rounds may take those anyway) is left to end in the background, and the next one begins.
    /// A database call begun while PostgreSQL restarted was seen never to answer (see "Stopping and
    /// hanging" in docs/architecture.md); a round waiting on it would stop the channel until the
    /// process restarted. What it had claimed is delivered again once its lease runs out, as after
    /// a crash.
    func loop(limit: Double, onOverrun: @escaping @Sendable (Overran) -> Void,
              _ round: @escaping @Sendable () async -> Int) async {
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                var taken = 0
                do {
                    taken = try await bounded(seconds: limit, round)
                } catch let overran as Overran {
                    onOverrun(overran)
                } catch {}
                if taken < batch { try? await Task.sleep(for: .seconds(pollSeconds)) }
            }
        } onGracefulShutdown: {}
    }
}
