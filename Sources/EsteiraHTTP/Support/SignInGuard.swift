import EsteiraCore
import EsteiraStore
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Slows down, then refuses, an address that keeps sending wrong keys: to the API (client and
/// operator keys), to `/app`'s sign-in and to the console's. One guard per process, shared by all
/// of them, so that an address cannot spread its guesses over the doors.
///
/// Per process, in memory: counting failures in the database would make every wrong key a write,
/// which is what a flood of them should not be able to cause. With N API processes behind a
/// balancer an address gets at most N times the limit, still nothing against 160-bit keys
/// (docs/security.md).
public final class SignInGuard: Sendable {
    let policy: FailedAttempts.Policy
    /// Peers whose `X-Forwarded-For` is believed: the proxies in front of Esteira.
    let trustedProxies: Set<String>
    private let addresses = Mutex<[String: FailedAttempts]>([:])
    private let clock = MonotonicSeconds()
    /// The most addresses remembered; past it, those with nothing left in the window go first.
    static let capacity = 100_000

    public init(policy: FailedAttempts.Policy = .init(), trustedProxies: Set<String> = []) {
        self.policy = policy
        self.trustedProxies = trustedProxies
    }


    /// The address a request comes from: its peer, or, when the peer is a trusted proxy, the
    /// last address that proxy added to `X-Forwarded-For`.
    public func address(_ request: Request, _ context: EsteiraRequestContext) -> String {
        let peer = context.remoteAddress ?? "unknown"
        guard trustedProxies.contains(peer), let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
              let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty else { return peer }
        return last
    }

    /// Nil when the address may try; otherwise how many seconds it must wait.
    public func refusal(_ address: String) -> Int? {
        let now = clock.now
        return addresses.withLock { all -> Int? in
            guard var attempts = all[address] else { return nil }
            let verdict = attempts.verdict(at: now, policy)
            all[address] = attempts
            if case .refuse(let after) = verdict { return after }
            return nil
        }
    }

    /// The API's refusal of an address past the limit.
    public func check(_ address: String) throws {
        if let after = refusal(address) {
            throw APIError.tooMany("too_many_failures", retryAfter: after,
                                   "Muitas chaves inválidas deste endereço. Tente de novo em \(after) s.")
        }
    }

    /// Counts a wrong key from `address` and waits the pause its answer is due. True when this
    /// failure reached the limit (for the audit, once per lockout).
    @discardableResult
    public func failed(_ address: String) async -> Bool {
        let now = clock.now
        let (pause, reached) = addresses.withLock { all -> (Double, Bool) in
            if all.count >= Self.capacity {
                all = all.filter { !$0.value.isEmpty(at: now, policy) }
            }
            var attempts = all[address] ?? FailedAttempts()
            let pause = attempts.fail(at: now, policy)
            all[address] = attempts
            return (pause, attempts.atLimit(policy))
        }
        if pause > 0 { try? await Task.sleep(for: .milliseconds(Int(pause * 1000))) }
        return reached
    }
}
