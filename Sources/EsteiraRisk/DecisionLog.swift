import EsteiraCore
import EsteiraStore
import Foundation

/// Where the analyses count a document's recent sightings and keep their decisions. Analyses
/// that run at the same time share one query and one transaction (`Batcher`): at 2,000 analyses
/// a second, one each was most of the API's database work, and each a trip through the
/// database's thread and back.
public final class DecisionLog: Sendable {
    struct Sighting: Sendable {
        var clientID: String
        var document: String
        var since: Date
    }

    let store: RiskDecisionStore
    let counter: Batcher<Sighting, Int>
    let writer: Batcher<StoredRiskDecision, StoredRiskDecision>

    public init(db: any SQLDatabase) {
        let store = RiskDecisionStore(db: db)
        self.store = store
        // One window start for the batch: the earliest asked, so a count may include sightings a
        // few milliseconds older than its own window, never fewer.
        counter = Batcher { sightings in
            let since = sightings.map(\.since).min() ?? Date()
            var counts: [String: [String: Int]] = [:]
            for (client, asked) in Dictionary(grouping: sightings, by: \.clientID) {
                counts[client] = try await store.counts(clientID: client, documents: asked.map(\.document), since: since)
            }
            return sightings.map { counts[$0.clientID]?[$0.document] ?? 0 }
        }
        writer = Batcher { try await store.save($0) }
    }

    /// How often the document was judged for the client since `since`: the client's own activity only.
    public func count(clientID: String, document: String, since: Date) async throws -> Int {
        try await counter.submit(Sighting(clientID: clientID, document: document, since: since))
    }

    /// Keeps the decision, or returns the one kept before under its client and trace key.
    public func save(_ decision: StoredRiskDecision) async throws -> StoredRiskDecision {
        try await writer.submit(decision)
    }
}
