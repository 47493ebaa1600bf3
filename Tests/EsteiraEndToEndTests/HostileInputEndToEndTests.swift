import EsteiraCore
import EsteiraTestSupport
import Foundation
import Testing

/// What a careless client or an attacker sent that needs the real binary: raw sockets, the
/// server's own log, a restart. The rest of the hostile input is tested in process
/// (EsteiraHTTPTests/HostileInputContractTests).
@Suite("End to end: hostile and careless input", .offSharedPool, .serialized)
struct HostileInputEndToEndTests {
    @Test("broken bodies are the client's error: 400 or 413 with a JSON body, nothing kept; a stalled upload is cut off")
    func brokenBodies() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start(["ESTEIRA_UPLOAD_IDLE_SECONDS": "1"])
        let port = try #require(server.baseURL.port)
        func head(_ path: String, _ headers: String) -> String {
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(client.key)\r\n\(headers)\r\n"
        }
        // A chunk size that is not hexadecimal.
        let chunk = try RawHTTP.exchange(port: port, Array((head("/v1/batches", "Transfer-Encoding: chunked\r\nContent-Type: text/csv\r\n")
            + "ZZ\r\nexternal_id\r\n0\r\n\r\n").utf8))
        #expect(chunk.status == 400 && chunk.body.contains("invalid_body"), "\(chunk.response)")
        // A body shorter than its Content-Length, the client's side then closed.
        let short = try RawHTTP.exchange(port: port, Array((head("/v1/debts", "Content-Type: application/json\r\nContent-Length: 500\r\n")
            + #"{"external_id": "X"#).utf8), halfClose: true)
        #expect(short.status == 400 && short.body.contains("invalid_body"), "\(short.response)")
        // Over a route's limit: 413 with the code and the limit in Portuguese, on every route.
        for (path, size) in [("/v1/debts", 70_000), ("/v1/webhooks", 20_000), ("/v1/email-recipients", 20_000), ("/v1/debts/D1/payments", 20_000)] {
            let big = try await server.request("POST", path, key: client.key, body: Data(repeating: 32, count: size), contentType: "application/json")
            #expect(big.status == 413 && (big.json["error"])?["code"]?.string == "too_large", "\(path): \(big.body)")
            #expect(big.body.contains("limite"), "\(path): \(big.body)")
        }
        let collection = try await server.request("PUT", "/v1/collection", key: client.key, body: Data(repeating: 32, count: 20_000), contentType: "application/json")
        #expect(collection.status == 413 && collection.body.contains("too_large"))

        // A multipart body cut before its closing delimiter: 400, and no batch.
        let boundary = "xYzBoundary"
        let form = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n"
            + "external_id;nome\nA1;Ana\n"
        let cut = try RawHTTP.exchange(port: port, Array((head("/v1/batches", "Content-Type: multipart/form-data; boundary=\(boundary)\r\nTransfer-Encoding: chunked\r\n")
            + String(form.utf8.count, radix: 16) + "\r\n" + form + "\r\n0\r\n\r\n").utf8))
        #expect(cut.status == 400 && cut.body.contains("truncated_multipart"), "\(cut.response)")
        // A client that stops sending halfway: cut off after ESTEIRA_UPLOAD_IDLE_SECONDS, nothing kept.
        let stalled = try RawHTTP.exchange(port: port, Array((head("/v1/batches", "Content-Type: text/csv\r\nContent-Length: 100000\r\n")
            + "external_id;nome\n").utf8), wait: 8)
        #expect(stalled.closedByServer, "\(stalled.response)")
        #expect(try await server.request("GET", "/v1/batches", key: client.key).json["total"]?.int == 0)
        // None of it is the server's error; and a fresh install that never fed the lake hears no
        // false alarm of late lake files.
        #expect(!server.logs().contains(#""level":"error""#), "\(server.logs().suffix(2000))")
        #expect(try await server.request("GET", "/metrics", key: nil).body.contains("esteira_lake_files_late 0"))
    }

    @Test("nothing leaks: velocity counts only the client's own analyses, webhooks never reach an internal address, logs mask documents however written, no cross-site sign-in")
    func leaks() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let a = try server.createClient(name: "Loja A", document: "11.222.333/0001-81")
        let b = try server.createClient(name: "Loja B", document: "11.444.777/0001-61")
        let op = try server.createOperator()
        try server.start(["ESTEIRA_RISK_VELOCITY_LIMIT": "2", "ESTEIRA_WEBHOOK_ALLOW_PRIVATE": "0"])

        // Client A analyses one CPF three times: the third is over its limit of 2 (K006).
        let body = #"{"document": "248.438.034-80", "amount": "10,00"}"#
        var last = APIResult(status: 0, headers: [:], body: "")
        for _ in 0..<3 { last = try await server.post("/v1/risk/analyze", key: a.key, json: body) }
        #expect(last.body.contains("K006"), "\(last.body)")
        // Client B's first analysis of the same CPF says nothing of A's.
        let first = try await server.post("/v1/risk/analyze", key: b.key, json: body)
        #expect(first.status == 200 && !first.body.contains("K006") && !first.body.contains("vezes"), "\(first.body)")

        // A webhook to loopback, to the cloud's metadata address or to a private network: refused.
        for url in ["http://127.0.0.1:9/x", "http://169.254.169.254/latest", "http://10.0.0.1/", "http://localhost:8080/", "http://[::1]/"] {
            let r = try await server.post("/v1/webhooks", key: a.key, json: #"{"url": "\#(url)"}"#)
            #expect(r.status == 422 && r.body.contains("invalid_url") && r.body.contains("interna"), "\(url): \(r.body)")
        }
        let hooks = try await server.request("GET", "/v1/webhooks", key: a.key).json["items"]?.elements
        #expect(hooks?.isEmpty == true)

        // Documents in a query, however written, never reach the log whole.
        for query in ["document=248.438.034%2D80", "document=248%2E438%2E034%2D80", "document=248%20438%20034%2080"] {
            _ = try await server.request("GET", "/v1/debts?\(query)", key: a.key)
        }
        _ = try await server.request("POST", "/v1/batches?file_name=cobranca-20241201-24843803480.csv", key: a.key,
                                     body: Data("external_id;nome\n".utf8), contentType: "text/csv")
        // Nor in the path of the operators' blacklist routes, masked or not.
        #expect(try await server.request("PUT", "/v1/admin/blacklist/529.982.247-25", key: op, body: Data(#"{"reason": "fraude"}"#.utf8),
                                         contentType: "application/json").status == 201)
        #expect(try await server.request("GET", "/v1/admin/blacklist/52998224725", key: op).status == 200)
        let logs = server.logs()
        #expect(logs.contains("24*******80"))
        for whole in ["24843803480", "248.438.034", "438.034", "248 438 034", "438%2E034", "034%2D80", "52998224725", "529.982.247-25"] {
            #expect(!logs.contains(whole), "\(whole) in the logs")
        }

        // A cross-site form that signs the victim in with the attacker's key: refused, no session.
        let port = try #require(server.baseURL.port)
        let form = "chave=\(a.key)"
        let forged = try RawHTTP.exchange(port: port, Array(("POST /app/entrar HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nOrigin: http://evil.example\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)").utf8), wait: 3)
        #expect(forged.status == 403 && !forged.response.contains("esteira_sessao="), "\(forged.response)")
        // Same origin but without the form's token: refused too.
        let tokenless = try RawHTTP.exchange(port: port, Array(("POST /app/entrar HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nOrigin: http://127.0.0.1:\(port)\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)").utf8), wait: 3)
        #expect(tokenless.status == 403 && !tokenless.response.contains("esteira_sessao="), "\(tokenless.response)")
    }

    @Test("a webhook whose address is internal at delivery is refused then, and nothing is called")
    func webhookRefusedAtDelivery() async throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let server = try EsteiraProcess(environment: WebhookEndToEndTests.fastRetries)
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        // Registered while the operators allowed internal addresses (the harness's default), as a
        // name that resolved elsewhere when it was registered would be; then the rule is back.
        try server.start()
        _ = try await WebhookEndToEndTests.endpoint(server, key: client.key, url: receiver.base + "/hooks/esteira")
        server.stop()
        try server.start(["ESTEIRA_WEBHOOK_ALLOW_PRIVATE": "0"])
        let id = try await server.upload(Data("external_id,name,document,amount,due_date\nH1,Ana,248.438.034-80,10.00,\(TestCalendar.day(months: -1))\n".utf8),
                                         key: client.key, name: "h.csv")
        _ = try await server.waitForBatch(id, key: client.key, timeout: 60)
        let items = try await server.items("/v1/notifications?batch=\(id)", key: client.key) { list in
            ((list.first?["attempts"]?.elements)?.count ?? 0) >= 2
        }
        let attempts = items.first?["attempts"]?.elements ?? []
        #expect(attempts.count >= 2 && attempts.allSatisfy { ($0["error"]?.string ?? "").contains("destino recusado") && $0["status_code"]?.int == nil },
                "\(items)")
        #expect(receiver.deliveries.isEmpty)
    }
}
