import EsteiraTestSupport
import Foundation
import Testing

/// What a careless client or an attacker sent, and what each must get back: the defects a hostile
/// tester found (amounts read a thousand times too large, a submission lost to one NUL, answers
/// that are not what they say), each through the real binary, on SQLite and again on PostgreSQL.
@Suite("End to end: hostile and careless input", .offSharedPool, .serialized)
struct HostileInputEndToEndTests {
    func post(_ server: EsteiraProcess, _ path: String, _ key: String, _ json: String) async throws -> EsteiraProcess.HTTPResult {
        try await server.request("POST", path, key: key, body: Data(json.utf8), contentType: "application/json")
    }

    /// A batch's rejects as `line:field:code`.
    static func rejects(_ server: EsteiraProcess, _ id: String, key: String) async throws -> [[String: Any]] {
        try await server.request("GET", "/v1/batches/\(id)/rejects", key: key).object["items"] as? [[String: Any]] ?? []
    }
    static func lines(_ rejects: [[String: Any]], field: Bool = true) -> [String] {
        rejects.map { "\($0["line"] as? Int ?? 0):\(field ? "\($0["field"] as? String ?? ""):" : "")\($0["code"] as? String ?? "")" }
    }

    static func issues(_ r: EsteiraProcess.HTTPResult) -> [String] {
        ((r.object["error"] as? [String: Any])?["issues"] as? [[String: Any]] ?? []).map {
            "\($0["field"] as? String ?? ""):\($0["code"] as? String ?? "")"
        }
    }

    @Test("an amount is never read as thousands it does not mean: JSON numbers, 0-led groups, ambiguous separators")
    func amounts() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start()
        let due = TestCalendar.day(months: -1)
        func debt(_ id: String, _ amount: String) -> String {
            #"{"external_id": "\#(id)", "name": "Ana", "document": "248.438.034-80", "amount": \#(amount), "due_date": "\#(due)"}"#
        }
        // Each was registered before as 1,000 times its value (or more): R$ 1,00 for 0,001.
        for (i, amount) in [#""0,001""#, #""0.001""#, "0.001", #""0,500""#, "12.345", #""0,999""#].enumerated() {
            let r = try await post(server, "/v1/debts", client.key, debt("A\(i)", amount))
            #expect(r.status == 422, "\(amount): \(r.text)")
            #expect(r.text.contains("R004") && r.text.contains("mais de duas casas decimais"), "\(amount): \(r.text)")
        }
        // One separator before three digits, under the standard format: refused with both readings.
        let ambiguous = try await post(server, "/v1/debts", client.key, debt("B1", #""1.234""#))
        #expect(ambiguous.status == 422)
        let error = ambiguous.object["error"] as? [String: Any] ?? [:]
        #expect(error["code"] as? String == "R013" && error["field"] as? String == "amount")
        #expect((error["message"] as? String ?? "").contains("1.234,00") && (error["message"] as? String ?? "").contains("1234.00"))
        // What is plain stays accepted: 1.234,56 and 1234.5 and the number 1234.5.
        for (i, (amount, cents)) in [(#""1.234,56""#, 123_456), (#""1234.5""#, 123_450), ("1234.5", 123_450), (#""1.234.567""#, 123_456_700)].enumerated() {
            let r = try await post(server, "/v1/debts", client.key, debt("C\(i)", amount))
            #expect(r.status == 201 && (r.object["debt"] as? [String: Any])?["amount_cents"] as? Int == cents, "\(amount): \(r.text)")
        }
        // The same rules in a file: 0,999 and 0.500 too many decimals, 1.234 ambiguous.
        let file = "external_id;nome;cpf_cnpj;valor;vencimento\nF1;Ana;248.438.034-80;0,999;\(due)\nF2;Ana;248.438.034-80;0.500;\(due)\n"
            + "F3;Ana;248.438.034-80;1.234;\(due)\nF4;Ana;248.438.034-80;10,50;\(due)\n"
        let id = try await server.upload(Data(file.utf8), key: client.key, name: "valores.csv")
        let batch = try await server.waitForBatch(id, key: client.key, timeout: 120)
        #expect(batch.counts()["registered"] == 1 && batch.counts()["rejected"] == 3)
        #expect(Self.lines(try await Self.rejects(server, id, key: client.key), field: false) == ["2:R004", "3:R004", "4:R013"])
        // A format that says the comma is the decimal separator settles 1.234 as thousands.
        let format = try await server.request("PUT", "/v1/formats/virgula", key: client.key,
            body: Data(#"{"columns": {"external_id": "id", "name": "nome", "document": "doc", "amount": "valor", "due_date": "venc"}, "decimal_format": "comma"}"#.utf8),
            contentType: "application/json")
        #expect(format.status == 201, "\(format.text)")
        let fixed = try await server.request("POST", "/v1/batches?format=virgula&file_name=v.csv", key: client.key,
                                             body: Data("id;nome;doc;valor;venc\nG1;Ana;248.438.034-80;1.234;\(due)\n".utf8), contentType: "text/csv")
        let fixedID = try #require(fixed.object["id"] as? String)
        #expect(try await server.waitForBatch(fixedID, key: client.key, timeout: 120).counts()["registered"] == 1)
        #expect(try await server.request("GET", "/v1/debts/G1", key: client.key).object["amount_cents"] as? Int == 123_400)

        // The risk analysis reads amounts through the same parser.
        let risk = try await post(server, "/v1/risk/analyze", client.key, #"{"document": "248.438.034-80", "amount": 12.345}"#)
        #expect(risk.status == 422 && risk.text.contains("R004"), "\(risk.text)")
        let riskOK = try await post(server, "/v1/risk/analyze", client.key, #"{"document": "248.438.034-80", "amount": "0,50"}"#)
        #expect(riskOK.status == 200 && riskOK.object["amount_cents"] as? Int == 50, "\(riskOK.text)")
        // And its timestamp reads like every other answer's, not seconds since 2001.
        let createdAt = riskOK.object["created_at"] as? String ?? ""
        #expect(createdAt.hasPrefix(String(TestCalendar.day(days: 0).prefix(4))) && createdAt.hasSuffix("Z"), "\(riskOK.text)")
    }

    @Test("a control character is refused per item with R014; nothing else is lost")
    func controlCharacters() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start()
        let due = TestCalendar.day(months: -1)
        let single = try await post(server, "/v1/debts", client.key,
            #"{"external_id": "N1", "name": "Ana\u0000", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(due)"}"#)
        #expect(single.status == 422 && Self.issues(single) == ["name:R014"], "\(single.text)")

        // A submission: the item with a NUL is refused at once, with its index; nothing is added.
        let id = try #require(try await server.request("POST", "/v1/submissions", key: client.key).object["id"] as? String)
        let items = (1...4).map { i in
            #"{"external_id": "S\#(i)", "name": "\#(i == 3 ? #"Bea\u0000"# : "Bea")", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(due)"}"#
        }
        let refused = try await post(server, "/v1/submissions/\(id)/debts", client.key, "[" + items.joined(separator: ",") + "]")
        #expect(refused.status == 422, "\(refused.text)")
        let problems = (refused.object["error"] as? [String: Any])?["items"] as? [[String: Any]] ?? []
        #expect(problems.map { "\($0["index"] as? Int ?? -1):\($0["field"] as? String ?? ""):\($0["code"] as? String ?? "")" } == ["2:name:R014"])
        #expect(try await server.request("GET", "/v1/submissions/\(id)", key: client.key).object["lines"] as? Int == 0)
        // Without it, the other three go through whole.
        let added = try await post(server, "/v1/submissions/\(id)/debts", client.key,
                                   "[" + items.enumerated().filter { $0.offset != 2 }.map(\.element).joined(separator: ",") + "]")
        #expect(added.status == 200)
        let submitted = try await server.request("POST", "/v1/submissions/\(id)/submit", key: client.key)
        let batchID = try #require(submitted.object["batch_id"] as? String ?? submitted.object["id"] as? String, "\(submitted.text)")
        let batch = try await server.waitForBatch(batchID, key: client.key, timeout: 120)
        #expect(batch["status"] as? String == "completed" && batch.counts()["registered"] == 3, "\(batch)")

        // A file with a NUL in one row: that row is rejected, the others registered.
        var file = Data("external_id;nome;cpf_cnpj;valor;vencimento\nC1;Ana;248.438.034-80;10,00;\(due)\nC2;Bea".utf8)
        file.append(0)
        file.append(Data(";248.438.034-80;10,00;\(due)\nC3;Caio;248.438.034-80;10,00;\(due)\n".utf8))
        let fileID = try await server.upload(file, key: client.key, name: "nul.csv")
        let fileBatch = try await server.waitForBatch(fileID, key: client.key, timeout: 120)
        #expect(fileBatch["status"] as? String == "completed_with_rejects" && fileBatch.counts()["registered"] == 2, "\(fileBatch)")
        #expect(Self.lines(try await Self.rejects(server, fileID, key: client.key)) == ["3:name:R014"])
    }

    @Test("one stray byte rejects its row, not the file's accents; UTF-16 (Excel's Texto Unicode) is read")
    func encodings() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start()
        let due = TestCalendar.day(months: -1)
        // UTF-8 with accents on every row, and one byte 0xFF (never UTF-8) in row 3's name.
        var file = Data("external_id;nome;cpf_cnpj;valor;vencimento\nU1;João Conceição;248.438.034-80;10,00;\(due)\nU2;Zé".utf8)
        file.append(0xFF)
        file.append(Data(";248.438.034-80;10,00;\(due)\nU3;Ângela Araújo;248.438.034-80;10,00;\(due)\n".utf8))
        let id = try await server.upload(file, key: client.key, name: "quase-utf8.csv")
        let batch = try await server.waitForBatch(id, key: client.key, timeout: 120)
        #expect(batch.counts()["registered"] == 2 && batch.counts()["rejected"] == 1, "\(batch)")
        #expect(try await server.request("GET", "/v1/debts/U1", key: client.key).object["name"] as? String == "João Conceição")
        #expect(try await server.request("GET", "/v1/debts/U3", key: client.key).object["name"] as? String == "Ângela Araújo")
        let rejects = try await Self.rejects(server, id, key: client.key)
        #expect(Self.lines(rejects) == ["3:name:R015"])
        #expect((rejects.first?["raw"] as? String ?? "").hasPrefix("U2;Zé\u{FFFD};"))

        // UTF-16 little-endian with its byte order mark, tab separated, as Excel's "Texto Unicode"
        // saves it; Foundation's encoder writes it, a second implementation to ours.
        let text = "external_id\tnome\tcpf_cnpj\tvalor\tvencimento\r\nW1\tJoão 😀\t248.438.034-80\t1.234,56\t\(due)\r\n"
        let utf16 = Data([0xFF, 0xFE]) + text.data(using: .utf16LittleEndian)!
        let wid = try await server.upload(utf16, key: client.key, name: "unicode.txt")
        let wbatch = try await server.waitForBatch(wid, key: client.key, timeout: 120)
        #expect(wbatch["status"] as? String == "completed" && wbatch.counts()["registered"] == 1, "\(wbatch)")
        let w1 = try await server.request("GET", "/v1/debts/W1", key: client.key).object
        #expect(w1["name"] as? String == "João 😀" && w1["amount_cents"] as? Int == 123_456, "\(w1)")
    }

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
            #expect(big.status == 413 && (big.object["error"] as? [String: Any])?["code"] as? String == "too_large", "\(path): \(big.text)")
            #expect(big.text.contains("limite"), "\(path): \(big.text)")
        }
        let collection = try await server.request("PUT", "/v1/collection", key: client.key, body: Data(repeating: 32, count: 20_000), contentType: "application/json")
        #expect(collection.status == 413 && collection.text.contains("too_large"))

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
        #expect(try await server.request("GET", "/v1/batches", key: client.key).object["total"] as? Int == 0)
        // None of it is the server's error; and a fresh install that never fed the lake hears no
        // false alarm of late lake files.
        #expect(!server.logs().contains(#""level":"error""#), "\(server.logs().suffix(2000))")
        #expect(try await server.request("GET", "/metrics", key: nil).text.contains("esteira_lake_files_late 0"))
    }

    @Test("nothing leaks: velocity counts only the client's own analyses, webhooks never reach an internal address, logs mask documents however written, no cross-site sign-in")
    func leaks() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let a = try server.createClient(name: "Loja A", document: "11.222.333/0001-81")
        let b = try server.createClient(name: "Loja B", document: "11.444.777/0001-61")
        try server.start(["ESTEIRA_RISK_VELOCITY_LIMIT": "2", "ESTEIRA_WEBHOOK_ALLOW_PRIVATE": "0"])

        // Client A analyses one CPF three times: the third is over its limit of 2 (K006).
        let body = #"{"document": "248.438.034-80", "amount": "10,00"}"#
        var last = EsteiraProcess.HTTPResult(status: 0, headers: [:], body: Data())
        for _ in 0..<3 { last = try await post(server, "/v1/risk/analyze", a.key, body) }
        #expect(last.text.contains("K006"), "\(last.text)")
        // Client B's first analysis of the same CPF says nothing of A's.
        let first = try await post(server, "/v1/risk/analyze", b.key, body)
        #expect(first.status == 200 && !first.text.contains("K006") && !first.text.contains("vezes"), "\(first.text)")

        // A webhook to loopback, to the cloud's metadata address or to a private network: refused.
        for url in ["http://127.0.0.1:9/x", "http://169.254.169.254/latest", "http://10.0.0.1/", "http://localhost:8080/", "http://[::1]/"] {
            let r = try await post(server, "/v1/webhooks", a.key, #"{"url": "\#(url)"}"#)
            #expect(r.status == 422 && r.text.contains("invalid_url") && r.text.contains("interna"), "\(url): \(r.text)")
        }
        let hooks = try await server.request("GET", "/v1/webhooks", key: a.key).object["items"] as? [Any]
        #expect(hooks?.isEmpty == true)

        // Documents in a query, however written, never reach the log whole.
        for query in ["document=248.438.034%2D80", "document=248%2E438%2E034%2D80", "document=248%20438%20034%2080"] {
            _ = try await server.request("GET", "/v1/debts?\(query)", key: a.key)
        }
        _ = try await server.request("POST", "/v1/batches?file_name=cobranca-20241201-24843803480.csv", key: a.key,
                                     body: Data("external_id;nome\n".utf8), contentType: "text/csv")
        let logs = server.logs()
        #expect(logs.contains("24*******80"))
        for whole in ["24843803480", "248.438.034", "438.034", "248 438 034", "438%2E034", "034%2D80"] {
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
            ((list.first?["attempts"] as? [Any])?.count ?? 0) >= 2
        }
        let attempts = items.first?["attempts"] as? [[String: Any]] ?? []
        #expect(attempts.count >= 2 && attempts.allSatisfy { ($0["error"] as? String ?? "").contains("destino recusado") && $0["status_code"] as? Int == nil },
                "\(items)")
        #expect(receiver.deliveries.isEmpty)
    }

    @Test("/health says unavailable when the blob store cannot take a file, though the database answers")
    func healthOfTheBlobStore() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let up = try await server.request("GET", "/health", key: nil)
        #expect(up.status == 200 && up.text == #"{"blobs":"ok","database":"ok","status":"ok"}"#, "\(up.text)")
        // The blob folder replaced by a plain file: nothing can be stored under it.
        let blobs = server.dataDir + "/blobs"
        try FileManager.default.moveItem(atPath: blobs, toPath: blobs + ".moved")
        FileManager.default.createFile(atPath: blobs, contents: Data("not a folder".utf8))
        let down = try await server.request("GET", "/health", key: nil)
        #expect(down.status == 503 && down.text == #"{"blobs":"unavailable","database":"ok","status":"unavailable"}"#, "\(down.text)")
        try FileManager.default.removeItem(atPath: blobs)
        try FileManager.default.moveItem(atPath: blobs + ".moved", toPath: blobs)
    }

    @Test("messages quote what the client wrote; a client's JSON comes back exact")
    func exactAnswers() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        _ = try server.command(["ledger", "set-event", "--code", "pagamento", "--description", "Pagamento recebido", "--no-debit"])
        try server.start()
        // R007 quotes 01/01/2099 as written, not as 2099-01-01.
        let future = try await post(server, "/v1/debts", client.key,
            #"{"external_id": "D1", "name": "Ana", "document": "248.438.034-80", "amount": "10,00", "due_date": "01/01/2099"}"#)
        #expect(future.status == 422 && future.text.contains("O vencimento 01/01/2099 é posterior"), "\(future.text)")

        // Details with integers past 2^53 and a long decimal come back digit for digit.
        let key = UUID().uuidString.lowercased()
        let entry = #"{"branch": "0001", "account": "1-2", "amount": 10.5, "side": "C", "event_code": "PAGAMENTO", "description": "Pagamento", "trace_key": "\#(key)", "details": {"pedido": 12345678901234567890, "taxa": 0.1000000000000000055511151231257827, "n": [9007199254740993]}, "reference_date": "\#(TestCalendar.day())"}"#
        let posted = try await post(server, "/v1/ledger/entries", client.key, entry)
        #expect(posted.status == 201, "\(posted.text)")
        #expect(posted.text.contains(#""amount_cents":1050"#))
        let read = try await server.request("GET", "/v1/ledger/entries?trace_key=\(key)", key: client.key)
        #expect(read.text.contains(#"{"n":[9007199254740993],"pedido":12345678901234567890,"taxa":0.1000000000000000055511151231257827}"#), "\(read.text)")
    }
}
