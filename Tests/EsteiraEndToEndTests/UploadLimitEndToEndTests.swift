import EsteiraCore
import Foundation
import Testing

@Suite("End to end: the upload size limit", .offSharedPool)
struct UploadLimitEndToEndTests {
    @Test("a file over ESTEIRA_MAX_FILE_BYTES is refused with 413, announced or streamed, and nothing is kept")
    func uploadTooLarge() async throws {
        let server = try EsteiraProcess(environment: ["ESTEIRA_MAX_FILE_BYTES": "1000"])
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start()
        let row = "A1;Ana;248.438.034-80;10,00;2024-01-31\n"
        let big = Data(("id_divida;nome;cpf;valor;vencimento\n" + String(repeating: row, count: 50)).utf8) // 2,036 bytes
        let small = Data(("id_divida;nome;cpf;valor;vencimento\n" + row).utf8)

        // With Content-Length: refused before the body is read.
        let announced = try await server.request("POST", "/v1/batches", key: client.key, body: big, contentType: "text/csv")
        #expect(announced.status == 413 && announced.body.contains("too_large"))
        // Chunked, without a length: refused once the 1,001st byte arrives.
        let path = server.dataDir + "/big.csv"
        try big.write(to: URL(fileURLWithPath: path))
        let streamed = try EsteiraProcess.output(of: "/usr/bin/curl", [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer \(client.key)",
            "-H", "Content-Type: text/csv", "-H", "Transfer-Encoding: chunked", "--data-binary", "@\(path)",
            server.baseURL.absoluteString + "/v1/batches",
        ])
        #expect(streamed.text == "413")
        // Nothing kept: no batch, no raw file.
        #expect(try await server.request("GET", "/v1/batches", key: client.key).json["total"]?.int == 0)
        let raw = server.dataDir + "/blobs/raw/" + client.id
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: raw)) ?? []).filter { !$0.hasPrefix(".") }.isEmpty)
        // A file within the limit is taken.
        #expect(try await server.request("POST", "/v1/batches", key: client.key, body: small, contentType: "text/csv").status == 202)
    }
}
