import EsteiraCore
import Foundation
import Testing

/// The published bodies, written out by hand from docs/notifications.md's contract: keys sorted,
/// a batch's absent values as `null`, an alert's other kinds' fields absent.
@Suite("Notification payloads: the public contracts")
struct NotificationPayloadTests {
    @Test("a batch's webhook body")
    func batch() throws {
        let payload = BatchEventPayload(event: "batch.completed_with_rejects", batch: .init(
            id: "b1", status: "completed_with_rejects", source: "upload", fileName: nil,
            counts: .init(received: 4, registered: 2, updated: 1, withdrawn: 0, duplicates: 0, rejected: 1, review: 0),
            errorCode: nil, error: nil, traceID: "t1", finishedAt: "2026-12-06T10:00:00Z"))
        let expected = #"{"batch":{"counts":{"duplicates":0,"received":4,"registered":2,"rejected":1,"review":0,"updated":1,"withdrawn":0},"error":null,"error_code":null,"#
            + #""file_name":null,"finished_at":"2026-12-06T10:00:00Z","id":"b1","source":"upload","stalled":null,"status":"completed_with_rejects","trace_id":"t1"},"#
            + #""event":"batch.completed_with_rejects"}"#
        #expect(try payload.json() == expected)
        #expect(try JSONDecoder().decode(BatchEventPayload.self, from: Data(expected.utf8)) == payload)
    }

    @Test("a stalled batch's webhook body names the step and why, in Portuguese")
    func stalled() throws {
        let payload = BatchEventPayload(event: "batch.stalled", batch: .init(
            id: "b2", status: "stalled", source: "sftp", fileName: "a.csv",
            counts: .init(received: 0, registered: 0, updated: 0, withdrawn: 0, duplicates: 0, rejected: 0, review: 0),
            errorCode: nil, error: nil, traceID: "t2", finishedAt: nil, stalled: BatchStall(step: "register")))
        let json = try payload.json()
        #expect(json.contains(#""stalled":{"reason":"O registro das dívidas falhou em todas as tentativas. A equipe de operação foi avisada; "#))
        #expect(json.contains(#"sem perder nem repetir linhas.","step":"register"}"#))
        #expect(try JSONDecoder().decode(BatchEventPayload.self, from: Data(json.utf8)) == payload)
        // Written before batches could stall: no `stalled` key reads as none.
        let old = #"{"batch":{"counts":{"duplicates":0,"received":1,"registered":1,"rejected":0},"error":null,"error_code":null,"#
            + #""file_name":null,"finished_at":null,"id":"b0","source":"upload","status":"completed","trace_id":null},"event":"batch.completed"}"#
        #expect(try JSONDecoder().decode(BatchEventPayload.self, from: Data(old.utf8)).batch.stalled == nil)
    }

    @Test("an alert's body carries its kind's fields only")
    func alerts() throws {
        #expect(try AlertPayload.jobDead(job: 7, kind: "register", batchID: "b1", seq: 2, attempts: 8, error: "timeout").json()
                == #"{"attempts":8,"batch_id":"b1","error":"timeout","event":"job.dead","job":7,"kind":"register","seq":2}"#)
        #expect(try AlertPayload.lakeFilesLate(month: "2026-11", missing: ["faturas", "pagamentos"], dueDay: 5).json()
                == #"{"due_day":5,"event":"lake.files_late","missing":["faturas","pagamentos"],"month":"2026-11"}"#)
        #expect(try AlertPayload.lakeOverBudget(month: "2026-11", run: "r1", bytes: 200, budget: 100).json()
                == #"{"budget":100,"bytes":200,"event":"lake.over_budget","month":"2026-11","run":"r1"}"#)
        #expect(try AlertPayload.lakeRunFailed(month: "2026-11", run: "r1", step: "curate", error: "a/b").json()
                == #"{"error":"a/b","event":"lake.run_failed","month":"2026-11","run":"r1","step":"curate"}"#)
    }
}
