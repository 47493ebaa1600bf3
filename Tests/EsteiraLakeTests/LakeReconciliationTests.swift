import EsteiraBlobs
import EsteiraCore
import EsteiraLake
import EsteiraTestSupport
import Foundation
import Testing

@Suite("The lake's reconciliation is measured in the written files")
struct LakeReconciliationTests {
    /// A store that loses the last line of every quarantine file it is given: what a reconciliation
    /// counted from the pass that wrote the file could never see.
    final class LosingQuarantineLines: BlobStore {
        let inner: any BlobStore
        init(_ inner: any BlobStore) { self.inner = inner }
        func makeWriter(key: String) async throws -> any BlobWriter { try await inner.makeWriter(key: key) }
        func put(key: String, bytes: [UInt8]) async throws {
            guard key.hasSuffix("quarantine.csv") else { return try await inner.put(key: key, bytes: bytes) }
            var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }
            lines.removeLast()
            try await inner.put(key: key, bytes: Array((lines.joined(separator: "\n") + "\n").utf8))
        }
        func read(key: String, offset: Int, length: Int) async throws -> [UInt8] { try await inner.read(key: key, offset: offset, length: length) }
        func readAll(key: String) async throws -> [UInt8] { try await inner.readAll(key: key) }
        func size(key: String) async throws -> Int { try await inner.size(key: key) }
        func list(prefix: String) async throws -> [BlobEntry] { try await inner.list(prefix: prefix) }
        func delete(key: String) async throws { try await inner.delete(key: key) }
    }

    // 5 records: F1 good, F1 again alike (a duplicate), F2 good, F3 without an amount and F4 dated
    // October 32 (both to quarantine): 5 = 2 + 1 + 2, by hand.
    static let file = Array("""
        id_fatura;id_cliente;dt_emissao;dt_vencimento;vl_fatura
        F1;C1;2026-10-01;2026-10-10;100,00
        F1;C1;2026-10-01;2026-10-10;100,00
        F2;C2;2026-10-02;2026-10-12;50,00
        F3;C3;2026-10-03;2026-10-13;
        F4;C4;2026-10-32;2026-10-14;10,00

        """.utf8)

    @Test("counts from the written files: raw 5 = curated 2 + duplicates 1 + quarantined 2, and the storage measured")
    func balanced() async throws {
        let blobs = try TestDatabase.temporaryBlobs()
        let month = LakeMonth("2026-10")!
        let report = try await LakeCurator(blobs: blobs).curate(table: .faturas, month: month, fileName: "tb_faturas_202610.csv", bytes: Self.file)
        #expect(report.counts == LakeCounts(raw: 5, curated: 2, duplicates: 1, quarantined: 2) && report.balanced)
        // What the lake holds, measured: the curated layer has the Parquet file and the reconciliation.
        let storage = try await blobs.lakeStorage()
        #expect(storage["curated"]?.files == 2 && storage["quarantine"]?.files == 1 && storage["raw"]?.files == 0)
        let parquet = try await blobs.size(key: report.curatedKey)
        #expect((storage["curated"]?.bytes ?? 0) > parquet)
    }

    @Test("a quarantine file that lost a line does not balance, and the step fails saying so")
    func lostLine() async throws {
        let blobs = LosingQuarantineLines(try TestDatabase.temporaryBlobs())
        let month = LakeMonth("2026-10")!
        await #expect(throws: (any Error).self) {
            _ = try await LakeCurator(blobs: blobs).curate(table: .faturas, month: month, fileName: "tb_faturas_202610.csv", bytes: Self.file)
        }
        let json = String(decoding: try await blobs.readAll(key: "lake/curated/faturas/\(month.partition)/_reconciliation.json"), as: UTF8.self)
        #expect(json.contains(#""balanced" : false"#) && json.contains(#""quarantined" : 1"#), "\(json)")
    }
}
