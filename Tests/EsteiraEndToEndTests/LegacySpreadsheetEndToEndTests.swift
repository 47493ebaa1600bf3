import EsteiraCore
import EsteiraTestSupport
import Foundation
import Testing

/// An XLS through the real binary, converted by LibreOffice where it is installed. XLSX, saved
/// formats and fixed-width files are tested in process (EsteiraHTTPTests/FormatContractTests).
@Suite("End to end: an XLS (Excel 97-2003) file", .offSharedPool)
struct LegacySpreadsheetEndToEndTests {
    static func fixture(_ name: String) throws -> Data {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return try Data(contentsOf: here.deletingLastPathComponent().appendingPathComponent("EsteiraSheetsTests/Fixtures/\(name)"))
    }

    static let hasLibreOffice = ["/usr/bin/soffice", "/usr/bin/libreoffice"].contains { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("converted by LibreOffice where it is installed, else refused with F014 saying to save it as XLSX or CSV")
    func xls() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Legado", document: "11.222.333/0001-81")
        try server.start()
        // legacy.xls is written by xlwt (see make_fixtures.py): L-1 is valid; L-2's CPF ends in 26,
        // not 25, so its check digits fail (R003, row 3).
        let id = try await server.upload(try Self.fixture("legacy.xls"), key: client.key, name: "antigo.xls")
        let batch = try await server.waitForBatch(id, key: client.key, timeout: 300)
        if Self.hasLibreOffice {
            #expect(batch.counts == ["received": 2, "registered": 1, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 1, "review": 0])
            #expect(try server.sql("SELECT external_id, name, amount_cents, due_date FROM debts") == "L-1|Luísa|8765|2024-05-20")
            let rejects = try await server.request("GET", "/v1/batches/\(id)/rejects", key: client.key).json
            #expect((rejects["items"]?.elements ?? []).map { "\($0["line"]?.text ?? ""):\($0["code"]?.text ?? "")" } == ["3:R003"])
        } else {
            #expect(batch["error_code"]?.string == "F014")
            #expect((batch["error"]?.string ?? "").contains("LibreOffice"))
        }
    }
}
