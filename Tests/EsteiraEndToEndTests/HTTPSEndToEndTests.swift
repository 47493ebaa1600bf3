import EsteiraCore
import EsteiraTestSupport
import Foundation
import Testing

/// `esteira serve --tls-cert --tls-key` and `esteira worker --metrics-port` over HTTPS, as curl
/// sees them: curl checks the certificate against the CA the test made, and is the second tool
/// that says the server speaks TLS at all.
@Suite("End to end: HTTPS on the API and on a worker's metrics port", .offSharedPool, .serialized,
       .enabled(if: TestCertificates.available))
struct HTTPSEndToEndTests {
    /// curl's exit status, the HTTP status it got (000 when none) and the body.
    static func curl(_ arguments: [String]) throws -> (exit: Int32, status: Int, body: String) {
        let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-curl-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: bodyFile) }
        let (exit, text) = try EsteiraProcess.output(of: "/usr/bin/curl", ["-sS", "-o", bodyFile, "-w", "%{http_code}", "--max-time", "20"] + arguments)
        let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
        return (exit, Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, body)
    }

    @Test("the API answers over HTTPS to a client that trusts the CA, takes an upload, and refuses to be trusted on another CA's word")
    func apiOverHTTPS() async throws {
        let certificates = try TestCertificates(in: FileManager.default.temporaryDirectory.appendingPathComponent("esteira-https-\(UUID().uuidString.prefix(8))").path,
                                                names: ["DNS:localhost", "IP:127.0.0.1"])
        defer { try? FileManager.default.removeItem(atPath: certificates.folder) }
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja Segura", document: "11.222.333/0001-81")
        try server.start(["ESTEIRA_TLS_CERT": certificates.certificateFile, "ESTEIRA_TLS_KEY": certificates.keyFile])
        #expect(server.baseURL.scheme == "https", "the listening line names https: \(server.baseURL)")
        let base = server.baseURL.absoluteString

        let health = try Self.curl(["--cacert", certificates.caFile, base + "/health"])
        #expect(health.exit == 0)
        #expect(health.status == 200)
        #expect(health.body.contains(#""status":"ok""#), "\(health.body)")

        // An upload over HTTPS: curl sends `Expect: 100-continue` above 1 MiB, so the file is
        // made larger than that, through the same handlers as over HTTP. 20,000 rows of a valid
        // CPF (529.982.247-25, the Receita's own example) with distinct ids.
        let due = TestCalendar.day(days: -30)
        var csv = "id_divida;nome;cpf;valor;vencimento\n"
        for i in 0..<20_000 { csv += "H\(i);Devedor \(i) da Silva Sauro;529.982.247-25;10,00;\(due)\n" }
        let file = server.dataDir + "/https.csv"
        try csv.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(csv.utf8.count > 1 << 20)
        let upload = try Self.curl(["--cacert", certificates.caFile, "-H", "Authorization: Bearer \(client.key)",
                                    "-F", "file=@\(file);type=text/csv", base + "/v1/batches"])
        #expect(upload.status == 202, "\(upload.body)")
        let id = try #require(try JSONValue.parse(Array(upload.body.utf8))["id"]?.string)
        var batch = try JSONValue.parse(Array(upload.body.utf8))
        let deadline = Date().addingTimeInterval(120)
        while batch["status"]?.string != "completed", Date() < deadline {
            try await Task.sleep(for: .milliseconds(300))
            batch = try JSONValue.parse(Array(try Self.curl(["--cacert", certificates.caFile, "-H", "Authorization: Bearer \(client.key)",
                                                             base + "/v1/batches/\(id)"]).body.utf8))
        }
        #expect(batch["status"]?.string == "completed", "\(batch)")
        #expect(batch["counts"]?["registered"] == .number("20000"), "\(batch)")

        // curl refuses a certificate that another CA vouches for: exit 60 is "peer certificate
        // cannot be authenticated with given CA certificates" in curl's manual.
        let other = try Self.curl(["--cacert", certificates.otherCAFile, base + "/health"])
        #expect(other.exit == 60)
        #expect(other.status == 0)
        // Plain HTTP to the HTTPS port gets no HTTP answer.
        let plain = try Self.curl([base.replacingOccurrences(of: "https://", with: "http://") + "/health"])
        #expect(plain.exit != 0)
        #expect(plain.status != 200)
    }

    @Test("a worker's metrics port over HTTPS with a bearer token: 401 without it, the counters with it, and no client's name in them")
    func workerMetricsOverHTTPS() async throws {
        let certificates = try TestCertificates(in: FileManager.default.temporaryDirectory.appendingPathComponent("esteira-https-\(UUID().uuidString.prefix(8))").path,
                                                names: ["DNS:localhost", "IP:127.0.0.1"])
        defer { try? FileManager.default.removeItem(atPath: certificates.folder) }
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja Sigilosa", document: "11.222.333/0001-81")
        let token = "metrics-token-\(UUID().uuidString)"
        try server.start(["ESTEIRA_NO_WORKERS": "1"])
        let worker = try server.startWorkerWithMetrics(["ESTEIRA_TLS_CERT": certificates.certificateFile,
                                                        "ESTEIRA_TLS_KEY": certificates.keyFile, "ESTEIRA_METRICS_TOKEN": token])
        #expect(worker.url.scheme == "https")
        let id = try await server.upload(Data("id_divida;nome;cpf;valor;vencimento\nW1;Ana;529.982.247-25;10,00;\(TestCalendar.day(days: -30))\n".utf8),
                                         key: client.key, name: "w.csv")
        _ = try await server.waitForBatch(id, key: client.key, timeout: 120)

        let metricsURL = worker.url.absoluteString + "/metrics"
        let refused = try Self.curl(["--cacert", certificates.caFile, metricsURL])
        #expect(refused.status == 401)
        #expect(refused.body.contains(#""code":"unauthorized""#), "\(refused.body)")
        let wrong = try Self.curl(["--cacert", certificates.caFile, "-H", "Authorization: Bearer \(token)x", metricsURL])
        #expect(wrong.status == 401)
        let scraped = try Self.curl(["--cacert", certificates.caFile, "-H", "Authorization: Bearer \(token)", metricsURL])
        #expect(scraped.status == 200)
        #expect(WorkerMetricsEndToEndTests.value(of: "esteira_rows_registered_total", in: scraped.body) == 1, "\(scraped.body)")
        #expect(!scraped.body.contains("Sigilosa"))
        // Health stays open: load balancers probe it without a token.
        #expect(try Self.curl(["--cacert", certificates.caFile, worker.url.absoluteString + "/health"]).status == 200)
    }

    @Test("a certificate without its key, or with a key that is not its own, stops the process at start, naming the setting")
    func badFilesStopTheStart() throws {
        let certificates = try TestCertificates(in: FileManager.default.temporaryDirectory.appendingPathComponent("esteira-https-\(UUID().uuidString.prefix(8))").path)
        defer { try? FileManager.default.removeItem(atPath: certificates.folder) }
        let server = try EsteiraProcess()
        defer { server.removeData() }
        let cases: [([String], String)] = [
            (["--tls-cert", certificates.certificateFile], "ESTEIRA_TLS_KEY= is not valid"),
            (["--tls-cert", certificates.certificateFile, "--tls-key", certificates.otherKeyFile], "ESTEIRA_TLS_KEY=\(certificates.otherKeyFile) is not valid"),
            (["--tls-cert", certificates.caFile + ".missing", "--tls-key", certificates.keyFile], "ESTEIRA_TLS_CERT=\(certificates.caFile).missing is not valid"),
        ]
        for (arguments, expected) in cases {
            let (status, text) = try EsteiraProcess.output(of: EsteiraProcess.binary, ["serve", "--port", "0"] + arguments,
                                                           environment: ["ESTEIRA_DATA_DIR": server.dataDir], withErrors: true)
            #expect(status == 64, "\(arguments): \(text)")
            #expect(text.contains(expected), "\(arguments): \(text)")
        }
    }
}
