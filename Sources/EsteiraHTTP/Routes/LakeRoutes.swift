import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// `GET /v1/admin/lake/runs`: the lake's runs, latest first, with each step's times, counts and
/// sizes (operators only).
struct LakeRoutes {
    let db: any SQLDatabase

    func addAdmin(to group: RouterGroup<EsteiraRequestContext>) {
        group.get("lake/runs", use: runs)
    }

    @Sendable func runs(_ request: Request, context: EsteiraRequestContext) async throws -> LakeRunsAnswer {
        LakeRunsAnswer(items: try await LakeRunStore(db: db).list().map(LakeRunJSON.init))
    }
}

struct LakeRunsAnswer: ResponseEncodable {
    var items: [LakeRunJSON]
}

/// A lake run as operators read it; absent values are `null`.
struct LakeRunJSON: Encodable {
    var id: String
    var month: String
    var dtBase: String
    var status: String
    @Nullable var error: String?
    var steps: [LakeStepRecord]
    var startedAt: String
    @Nullable var finishedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, month, dtBase = "dt_base", status, error, steps, startedAt = "started_at", finishedAt = "finished_at"
    }

    init(_ r: LakeRunRecord) throws {
        id = r.id
        month = r.month
        dtBase = r.referenceDate.iso
        status = r.status
        error = r.error
        steps = try r.stepList()
        startedAt = Timestamp.iso(r.startedAt)
        finishedAt = r.finishedAt.map(Timestamp.iso)
    }
}
