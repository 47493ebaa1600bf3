import EsteiraCore
import EsteiraStore
import Foundation
import Synchronization

/// The blacklist held in memory, so that judging a document costs a dictionary lookup instead
/// of a query. Every change to the blacklist raises its version in the same transaction
/// (`BlacklistStore`); a copy older than `maxAge` checks the version (one small query) and
/// reloads the whole list only when it moved. The process that makes a change drops its copy at
/// once (`invalidate`); other processes see the change within `maxAge`. The register stage asks
/// with no tolerance at all, so a batch is judged against the list as it is when its sub-batch
/// is prepared.
///
/// One reload is in flight at a time: callers that find the copy stale while it is being
/// refreshed wait for that refresh instead of starting their own. So a refresh is bounded
/// (`refreshLimit`): one whose query never answers (as after a PostgreSQL restart, see "Stopping
/// and hanging" in docs/architecture.md) would otherwise hold every register stage of the process.
public final class BlacklistCache: Sendable {
    public struct Copy: Sendable {
        public var version: Int64
        /// Document → reason.
        public var entries: [String: String]
        var checked: ContinuousClock.Instant
    }

    struct State {
        var copy: Copy?
        var refresh: Task<Copy, any Error>?
    }

    let store: BlacklistStore
    public let maxAge: Duration
    /// Seconds a refresh may take before its waiting callers get an error and the next caller
    /// starts a new one.
    public let refreshLimit: Double
    let state = Mutex(State())

    public init(db: any SQLDatabase, maxAge: Duration = .seconds(1), refreshLimit: Double = 30) {
        store = BlacklistStore(db: db)
        self.maxAge = maxAge
        self.refreshLimit = refreshLimit
    }

    /// The reason the document is listed, or nil.
    public func reason(for document: String) async throws -> String? {
        try await current().entries[document]
    }

    /// The list, checked against the database when the copy is older than `maxAge` (this
    /// cache's own when nil).
    public func current(maxAge: Duration? = nil) async throws -> Copy {
        let tolerance = maxAge ?? self.maxAge
        let now = ContinuousClock.now
        let (fresh, pending): (Copy?, Task<Copy, any Error>?) = state.withLock { s in
            if let copy = s.copy, now - copy.checked < tolerance { return (copy, nil) }
            if let running = s.refresh { return (nil, running) }
            let previous = s.copy
            let task = Task { try await self.load(previous: previous) }
            s.refresh = task
            return (nil, task)
        }
        if let fresh { return fresh }
        return try await pending!.value
    }

    /// Makes the next lookup check the database.
    public func invalidate() {
        state.withLock { $0.copy = nil }
    }

    func load(previous: Copy?) async throws -> Copy {
        do {
            let started = ContinuousClock.now
            // The version is read before the entries: a change committed in between makes the copy
            // newer than its version says, and the next check reloads it; never the other way.
            let store = self.store
            let (version, entries) = try await bounded(seconds: refreshLimit) {
                let version = try await store.version()
                if let previous, previous.version == version { return (version, previous.entries) }
                return (version, try await store.all())
            }
            let made = Copy(version: version, entries: entries, checked: started)
            state.withLock {
                $0.copy = made
                $0.refresh = nil
            }
            return made
        } catch {
            state.withLock { $0.refresh = nil }
            throw error
        }
    }
}
