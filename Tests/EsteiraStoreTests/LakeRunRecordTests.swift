import EsteiraCore
@testable import EsteiraStore
import Foundation
import Testing

@Suite("A lake run's steps, as stored and published")
struct LakeRunRecordTests {
    func run(steps: String) -> LakeRunRecord {
        LakeRunRecord(id: "r1", month: "2026-01", referenceDate: Day(year: 2026, month: 2, day: 1)!, status: "running", steps: steps,
                      inputs: "{}", error: nil, startedAt: Date(), finishedAt: nil)
    }

    /// The text written by hand: one object, keys sorted, the details beside the step's own keys,
    /// absent details left out.
    @Test("a curate step is one flat object with its counts, as it was before it had a type")
    func shape() throws {
        let step = LakeStepRecord(name: "curate faturas", status: "completed", attempts: 1, startedAt: "2026-02-01T10:00:00.000Z",
                                  finishedAt: "2026-02-01T10:00:01.500Z", error: nil,
                                  details: LakeStepDetails(file: "faturas_202601.csv", raw: 5, curated: 2, duplicates: 1, quarantined: 2,
                                                           curatedBytes: 900, seconds: 1.5))
        #expect(try JSONText.encoded(step) == #"{"attempts":1,"curated":2,"curated_bytes":900,"duplicates":1,"file":"faturas_202601.csv","finished_at":"2026-02-01T10:00:01.500Z","name":"curate faturas","quarantined":2,"raw":5,"seconds":1.5,"started_at":"2026-02-01T10:00:00.000Z","status":"completed"}"#)
        #expect(try run(steps: "[" + JSONText.encoded(step) + "]").stepList() == [step])
    }

    @Test("stored steps that are not a list of steps are an error naming the run, not an empty list")
    func strict() {
        for text in ["{", #"[{"name": 3}]"#, #"[{"name": "raw"}]"#] {
            #expect(throws: SQLError.self, "\(text)") { try run(steps: text).stepList() }
            do { _ = try run(steps: text).stepList() } catch { #expect("\(error)".contains("run r1"), "\(error)") }
        }
    }
}
