import EsteiraCore
import EsteiraRisk
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

@Suite("Blacklist cache: a refresh that never answers does not hold its waiting callers")
struct BlacklistCacheTests {
    @Test("the stalled refresh fails its callers at its limit, and the next caller's refresh reads the list",
          arguments: TestDatabase.dialects)
    func stalledRefresh(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let (op, _) = try await OperatorStore(db: db).create(name: "Operadora", role: .admin)
            try await BlacklistStore(db: db).put([("52998224725", "fraude confirmada")], by: .api(op))
            let stalling = StallingDatabase(db, stallsReads: true)
            // 5 s: long enough that a refresh on a database that answers ends within it even on CI's two
            // busy cores (0.3 s was not), short enough for the stalled one to be seen to hit it.
            let cache = BlacklistCache(db: stalling, refreshLimit: 5)
            stalling.gate.close()
            // Two callers wait on the one refresh; its read never answers. Before the bound, both
            // (and every later caller) waited for ever; the outer bound only keeps a failure from
            // hanging the test run.
            let callers = (0..<2).map { _ in Task { try await cache.reason(for: "52998224725") } }
            for caller in callers {
                let error = await #expect(throws: Overran.self) { try await bounded(seconds: 20) { try await caller.value } }
                // The refresh's own bound, not the test's.
                #expect(error?.seconds == 5)
            }
            // The database answers again: a new refresh reads the list.
            stalling.gate.open()
            #expect(try await cache.reason(for: "52998224725") == "fraude confirmada")
            #expect(try await cache.reason(for: "11144477735") == nil)
        }
    }
}
