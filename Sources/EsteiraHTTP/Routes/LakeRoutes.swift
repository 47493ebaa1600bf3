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

    @Sendable func runs(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let items: [[String: Any]] = try await LakeRunStore(db: db).list().map { r in
            ["id": r.id, "month": r.month, "dt_base": r.referenceDate.iso, "status": r.status, "error": r.error ?? NSNull(),
             "steps": r.stepList,
             "started_at": Timestamp.iso(r.startedAt), "finished_at": r.finishedAt.map(Timestamp.iso) ?? NSNull()]
        }
        return try Response.json(["items": items])
    }
}
