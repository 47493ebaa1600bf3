import EsteiraApp
import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// The whole pipeline over a sealed blob folder (`ESTEIRA_BLOB_ENCRYPTION_KEY`), on SQLite and
/// PostgreSQL: a file split into many sub-batches (each read by its own range) registers every
/// row, and no file under the folder holds a debtor's document in clear.
@Suite("Blobs: the pipeline over the encrypted folder")
struct EncryptedFolderContractTests {
    @Test("an upload of 40 rows in sub-batches of 2 registers all; the folder holds no document in clear", arguments: InProcessEsteira.dialects)
    func pipeline(dialect: SQLDialect) async throws {
        let key = Data((0..<32).map { UInt8($0 * 7 % 256) }).base64EncodedString()
        try await InProcessEsteira.with(dialect, environment: ["ESTEIRA_BLOB_ENCRYPTION_KEY": key]) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let due = TestCalendar.day(months: -1)
            var file = "id_divida;nome;cpf;valor;vencimento\n"
            for i in 1...40 { file += "E\(i);Ana;248.438.034-80;\(i),00;\(due)\n" }
            let id = try await api.upload(Array(file.utf8), key: client.key, name: "carteira.csv")
            let batch = try await api.finishedBatch(id, key: client.key)
            #expect(batch["status"]?.string == "completed" && batch.counts["registered"] == 40, "\(batch)")
            let folder = runtime.settings.store.dataDir + "/blobs"
            let files = FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []
            var read = 0
            for relative in files {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: folder + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                // The batch's cleanup step may still be deleting its staging files: one gone since
                // the listing holds nothing any more.
                let bytes: Data
                do {
                    bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + relative))
                } catch CocoaError.fileReadNoSuchFile {
                    continue
                }
                #expect(!String(decoding: bytes, as: UTF8.self).contains("248.438.034-80"), "\(relative) holds a document in clear")
                #expect(bytes.prefix(16) == Data("ESTEIRA-BLOB-v1\n".utf8), "\(relative) is not sealed")
                read += 1
            }
            #expect(read >= 1)
            // The client reads its rejects and its debts as before.
            #expect(try await api.get("/v1/debts/E40", key: client.key).json["amount"]?.string == "40.00")
        }
    }
}
