import EsteiraCore

/// Group commit for the ledger: small requests that arrive while a posting is being written wait
/// and are written together in the next transaction — one commit, one lock of each account, one
/// statement of each kind — instead of one transaction each. A lone request goes at once.
///
/// Each request keeps its own answer: a request refused (a reused trace key) or two requests
/// that share a trace key make the group fall back to posting its requests one by one, so no
/// request is refused or applied because of another. Requests larger than `groupLimit` entries
/// are batches already and go straight to the store.
public final class LedgerCommitter: Sendable {
    public let store: LedgerStore
    let groupLimit: Int
    let batcher: Batcher<Request, Result<LedgerPosting, any Error>>

    struct Request: Sendable {
        var clientNum: Int
        var drafts: [LedgerEntryDraft]
    }

    /// `maxRequests` requests of at most `groupLimit` entries go in one transaction: with the
    /// defaults at most 4,000 entries, well under PostgreSQL's 65,535 parameters per statement.
    public init(store: LedgerStore, maxRequests: Int = 200, groupLimit: Int = 20) {
        self.store = store
        self.groupLimit = groupLimit
        batcher = Batcher(maxBatch: maxRequests) { requests in await LedgerCommitter.write(store, requests) }
    }

    public func post(clientNum: Int, _ drafts: [LedgerEntryDraft]) async throws -> LedgerPosting {
        if drafts.count > groupLimit { return try await store.post(clientNum: clientNum, drafts) }
        return try await batcher.submit(Request(clientNum: clientNum, drafts: drafts)).get()
    }

    static func write(_ store: LedgerStore, _ requests: [Request]) async -> [Result<LedgerPosting, any Error>] {
        var results = [Result<LedgerPosting, any Error>?](repeating: nil, count: requests.count)
        for (clientNum, indexes) in Dictionary(grouping: requests.indices, by: { requests[$0].clientNum }) {
            for (i, r) in zip(indexes, await group(store, clientNum: clientNum, indexes.map { requests[$0].drafts })) { results[i] = r }
        }
        return results.map { $0 ?? .failure(StoreError.notFound("ledger result")) }
    }

    /// One client's requests: together when they can be, else one by one.
    static func group(_ store: LedgerStore, clientNum: Int, _ requests: [[LedgerEntryDraft]]) async -> [Result<LedgerPosting, any Error>] {
        func oneByOne() async -> [Result<LedgerPosting, any Error>] {
            var out: [Result<LedgerPosting, any Error>] = []
            for r in requests {
                do { out.append(.success(try await store.post(clientNum: clientNum, r))) } catch { out.append(.failure(error)) }
            }
            return out
        }
        let all = requests.flatMap { $0 }
        guard requests.count > 1, Set(all.map(\.traceKey)).count == all.count else { return await oneByOne() }
        do {
            let posting = try await store.post(clientNum: clientNum, all)
            var start = 0
            return requests.map { r in
                defer { start += r.count }
                return .success(posting.slice(start..<start + r.count))
            }
        } catch {
            return await oneByOne()
        }
    }
}
