import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// What a careless client or an attacker sent, and what each must get back: the defects a hostile
/// tester found (amounts read a thousand times too large, a submission lost to one NUL, answers
/// that are not what they say), in process, on SQLite and on PostgreSQL. What needs raw sockets
/// or the server's log stays in EsteiraEndToEndTests/HostileInputEndToEndTests.
@Suite("API contract, in process: hostile and careless input")
struct HostileInputContractTests {
    /// A batch's rejects as `line:field:code` (or `line:code`).
    static func rejects(_ api: APITestClient, _ id: String, key: String, field: Bool = true) async throws -> [String] {
        try await rejectItems(api, id, key: key).map {
            "\($0["line"]?.int ?? 0):\(field ? "\($0["field"]?.string ?? ""):" : "")\($0["code"]?.string ?? "")"
        }
    }

    static func rejectItems(_ api: APITestClient, _ id: String, key: String) async throws -> [JSONValue] {
        try await api.get("/v1/batches/\(id)/rejects", key: key).json["items"]?.items ?? []
    }

    @Test("an amount is never read as thousands it does not mean: JSON numbers, 0-led groups, ambiguous separators",
          arguments: InProcessEsteira.dialects)
    func amounts(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let due = TestCalendar.day(months: -1)
            func debt(_ id: String, _ amount: String) -> String {
                #"{"external_id": "\#(id)", "name": "Ana", "document": "248.438.034-80", "amount": \#(amount), "due_date": "\#(due)"}"#
            }
            // Each was registered before as 1,000 times its value (or more): R$ 1,00 for 0,001.
            for (i, amount) in [#""0,001""#, #""0.001""#, "0.001", #""0,500""#, "12.345", #""0,999""#].enumerated() {
                let r = try await api.post("/v1/debts", key: client.key, json: debt("A\(i)", amount))
                #expect(r.status == 422, "\(amount): \(r.body)")
                #expect(r.body.contains("R004") && r.body.contains("mais de duas casas decimais"), "\(amount): \(r.body)")
            }
            // One separator before three digits, under the standard format: refused with both readings.
            let ambiguous = try await api.post("/v1/debts", key: client.key, json: debt("B1", #""1.234""#))
            #expect(ambiguous.status == 422)
            #expect(ambiguous.json["error", "code"]?.string == "R013" && ambiguous.json["error", "field"]?.string == "amount")
            let message = ambiguous.json["error", "message"]?.string ?? ""
            #expect(message.contains("1.234,00") && message.contains("1234.00"), "\(message)")
            // What is plain stays accepted: 1.234,56 and 1234.5 and the number 1234.5.
            for (i, (amount, cents)) in [(#""1.234,56""#, 123_456), (#""1234.5""#, 123_450), ("1234.5", 123_450), (#""1.234.567""#, 123_456_700)].enumerated() {
                let r = try await api.post("/v1/debts", key: client.key, json: debt("C\(i)", amount))
                #expect(r.status == 201 && r.json["debt", "amount_cents"]?.int == cents, "\(amount): \(r.body)")
            }
            // The same rules in a file: 0,999 and 0.500 too many decimals, 1.234 ambiguous.
            let file = "external_id;nome;cpf_cnpj;valor;vencimento\nF1;Ana;248.438.034-80;0,999;\(due)\nF2;Ana;248.438.034-80;0.500;\(due)\n"
                + "F3;Ana;248.438.034-80;1.234;\(due)\nF4;Ana;248.438.034-80;10,50;\(due)\n"
            let id = try await api.upload(Array(file.utf8), key: client.key, name: "valores.csv")
            let batch = try await api.finishedBatch(id, key: client.key)
            #expect(batch.counts["registered"] == 1 && batch.counts["rejected"] == 3)
            #expect(try await Self.rejects(api, id, key: client.key, field: false) == ["2:R004", "3:R004", "4:R013"])
            // A format that says the comma is the decimal separator settles 1.234 as thousands.
            let format = try await api.request(.put, "/v1/formats/virgula", key: client.key,
                body: #"{"columns": {"external_id": "id", "name": "nome", "document": "doc", "amount": "valor", "due_date": "venc"}, "decimal_format": "comma"}"#)
            #expect(format.status == 201, "\(format.body)")
            let fixed = try await api.request(.post, "/v1/batches?format=virgula&file_name=v.csv", key: client.key,
                                              body: "id;nome;doc;valor;venc\nG1;Ana;248.438.034-80;1.234;\(due)\n", contentType: "text/csv")
            let fixedID = try #require(fixed.json["id"]?.string)
            #expect(try await api.finishedBatch(fixedID, key: client.key).counts["registered"] == 1)
            #expect(try await api.get("/v1/debts/G1", key: client.key).json["amount_cents"]?.int == 123_400)

            // The risk analysis reads amounts through the same parser.
            let risk = try await api.post("/v1/risk/analyze", key: client.key, json: #"{"document": "248.438.034-80", "amount": 12.345}"#)
            #expect(risk.status == 422 && risk.body.contains("R004"), "\(risk.body)")
            let riskOK = try await api.post("/v1/risk/analyze", key: client.key, json: #"{"document": "248.438.034-80", "amount": "0,50"}"#)
            #expect(riskOK.status == 200 && riskOK.json["amount_cents"]?.int == 50, "\(riskOK.body)")
            // And its timestamp reads like every other answer's, not seconds since 2001.
            let createdAt = riskOK.json["created_at"]?.string ?? ""
            #expect(createdAt.hasPrefix(String(TestCalendar.day(days: 0).prefix(4))) && createdAt.hasSuffix("Z"), "\(riskOK.body)")
        }
    }

    @Test("a control character is refused per item with R014; nothing else is lost", arguments: InProcessEsteira.dialects)
    func controlCharacters(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let due = TestCalendar.day(months: -1)
            let single = try await api.post("/v1/debts", key: client.key,
                json: #"{"external_id": "N1", "name": "Ana\u0000", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(due)"}"#)
            let issues = single.json["error", "issues"]?.items.map { "\($0["field"]?.string ?? ""):\($0["code"]?.string ?? "")" }
            #expect(single.status == 422 && issues == ["name:R014"], "\(single.body)")

            // A submission: the item with a NUL is refused at once, with its index; nothing is added.
            let id = try #require(try await api.request(.post, "/v1/submissions", key: client.key).json["id"]?.string)
            let items = (1...4).map { i in
                #"{"external_id": "S\#(i)", "name": "\#(i == 3 ? #"Bea\u0000"# : "Bea")", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(due)"}"#
            }
            let refused = try await api.post("/v1/submissions/\(id)/debts", key: client.key, json: "[" + items.joined(separator: ",") + "]")
            #expect(refused.status == 422, "\(refused.body)")
            let problems = refused.json["error", "items"]?.items.map {
                "\($0["index"]?.int ?? -1):\($0["field"]?.string ?? ""):\($0["code"]?.string ?? "")"
            }
            #expect(problems == ["2:name:R014"], "\(refused.body)")
            #expect(try await api.get("/v1/submissions/\(id)", key: client.key).json["lines"]?.int == 0)
            // Without it, the other three go through whole.
            let added = try await api.post("/v1/submissions/\(id)/debts", key: client.key,
                                           json: "[" + items.enumerated().filter { $0.offset != 2 }.map(\.element).joined(separator: ",") + "]")
            #expect(added.status == 200)
            let submitted = try await api.request(.post, "/v1/submissions/\(id)/submit", key: client.key)
            let batchID = try #require(submitted.json["id"]?.string, "\(submitted.body)")
            let batch = try await api.finishedBatch(batchID, key: client.key)
            #expect(batch["status"]?.string == "completed" && batch.counts["registered"] == 3, "\(batch)")

            // A file with a NUL in one row: that row is rejected, the others registered.
            let file = Array("external_id;nome;cpf_cnpj;valor;vencimento\nC1;Ana;248.438.034-80;10,00;\(due)\nC2;Bea".utf8) + [0]
                + Array(";248.438.034-80;10,00;\(due)\nC3;Caio;248.438.034-80;10,00;\(due)\n".utf8)
            let fileID = try await api.upload(file, key: client.key, name: "nul.csv")
            let fileBatch = try await api.finishedBatch(fileID, key: client.key)
            #expect(fileBatch["status"]?.string == "completed_with_rejects" && fileBatch.counts["registered"] == 2, "\(fileBatch)")
            #expect(try await Self.rejects(api, fileID, key: client.key) == ["3:name:R014"])
        }
    }

    @Test("one stray byte rejects its row, not the file's accents; UTF-16 (Excel's Texto Unicode) is read", arguments: InProcessEsteira.dialects)
    func encodings(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let due = TestCalendar.day(months: -1)
            // UTF-8 with accents on every row, and one byte 0xFF (never UTF-8) in row 3's name.
            let file = Array("external_id;nome;cpf_cnpj;valor;vencimento\nU1;João Conceição;248.438.034-80;10,00;\(due)\nU2;Zé".utf8) + [0xFF]
                + Array(";248.438.034-80;10,00;\(due)\nU3;Ângela Araújo;248.438.034-80;10,00;\(due)\n".utf8)
            let id = try await api.upload(file, key: client.key, name: "quase-utf8.csv")
            let batch = try await api.finishedBatch(id, key: client.key)
            #expect(batch.counts["registered"] == 2 && batch.counts["rejected"] == 1, "\(batch)")
            #expect(try await api.get("/v1/debts/U1", key: client.key).json["name"]?.string == "João Conceição")
            #expect(try await api.get("/v1/debts/U3", key: client.key).json["name"]?.string == "Ângela Araújo")
            #expect(try await Self.rejects(api, id, key: client.key) == ["3:name:R015"])
            let raw = try await Self.rejectItems(api, id, key: client.key).first?["raw"]?.string ?? ""
            #expect(raw.hasPrefix("U2;Zé\u{FFFD};"), "\(raw)")

            // UTF-16 little-endian with its byte order mark, tab separated, as Excel's "Texto Unicode"
            // saves it; Foundation's encoder writes it, a second implementation to ours.
            let text = "external_id\tnome\tcpf_cnpj\tvalor\tvencimento\r\nW1\tJoão 😀\t248.438.034-80\t1.234,56\t\(due)\r\n"
            let utf16 = [0xFF, 0xFE] + Array(text.data(using: .utf16LittleEndian)!)
            let wid = try await api.upload(utf16, key: client.key, name: "unicode.txt")
            let wbatch = try await api.finishedBatch(wid, key: client.key)
            #expect(wbatch["status"]?.string == "completed" && wbatch.counts["registered"] == 1, "\(wbatch)")
            let w1 = try await api.get("/v1/debts/W1", key: client.key).json
            #expect(w1["name"]?.string == "João 😀" && w1["amount_cents"]?.int == 123_456, "\(w1)")
        }
    }

    /// Found by the fuzzer (scripts/fuzz, target multipart): MultipartKit 4.7.1 trapped on a byte
    /// above 127 in a part's header name, and the upload stopped the process.
    @Test("a multipart header name with an accented letter: 400 invalid_multipart, the server up", arguments: InProcessEsteira.dialects)
    func accentedMultipartHeader(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let body = "--b\r\nContent-Dispositi\u{e9}n: form-data; name=\"file\"\r\n\r\nid;nome\n\r\n--b--\r\n"
            let r = try await api.request(.post, "/v1/batches", key: client.key, body: body, contentType: "multipart/form-data; boundary=b")
            #expect(r.status == 400 && r.json["error", "code"]?.string == "invalid_multipart", "\(r.status) \(r.body)")
            #expect(try await api.get("/health").status == 200)
        }
    }

    /// Found by schemathesis (scripts/api-contract): `?page=2164452804614136320` made the offset
    /// (page − 1) × per_page overflow, and the process stopped.
    @Test("a page far past the last: an empty page, the server up", arguments: InProcessEsteira.dialects)
    func pageFarPastTheEnd(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let page = "page=2164452804614136320&per_page=500"
            for path in ["/v1/batches?\(page)", "/v1/debts?\(page)", "/v1/ledger/accounts/0001/1/statement?\(page)"] {
                let r = try await api.get(path, key: client.key)
                #expect(r.status == 200 || r.status == 404, "\(path): \(r.status) \(r.body)")
            }
            let batches = try await api.get("/v1/batches?\(page)", key: client.key)
            #expect(batches.json["items"]?.items.isEmpty == true, "\(batches.body)")
            #expect(try await api.get("/health").status == 200)
        }
    }

    @Test("/health says unavailable when the blob store cannot take a file, though the database answers", arguments: InProcessEsteira.dialects)
    func healthOfTheBlobStore(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let up = try await api.get("/health")
            #expect(up.status == 200 && up.body == #"{"blobs":"ok","database":"ok","status":"ok"}"#, "\(up.body)")
            // The blob folder replaced by a plain file: nothing can be stored under it.
            let blobs = runtime.settings.store.dataDir + "/blobs"
            try FileManager.default.moveItem(atPath: blobs, toPath: blobs + ".moved")
            FileManager.default.createFile(atPath: blobs, contents: Data("not a folder".utf8))
            let down = try await api.get("/health")
            #expect(down.status == 503 && down.body == #"{"blobs":"unavailable","database":"ok","status":"unavailable"}"#, "\(down.body)")
            try FileManager.default.removeItem(atPath: blobs)
            try FileManager.default.moveItem(atPath: blobs + ".moved", toPath: blobs)
        }
    }

    @Test("messages quote what the client wrote; a client's JSON comes back exact", arguments: InProcessEsteira.dialects)
    func exactAnswers(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            // As `esteira ledger set-event --code pagamento --description "Pagamento recebido" --no-debit`.
            try await LedgerStore(db: runtime.db).saveEvent(LedgerEvent(code: "PAGAMENTO", description: "Pagamento recebido", active: true,
                                                                        allowsDebit: false, allowsCredit: true))
            // R007 quotes 01/01/2099 as written, not as 2099-01-01.
            let future = try await api.post("/v1/debts", key: client.key,
                json: #"{"external_id": "D1", "name": "Ana", "document": "248.438.034-80", "amount": "10,00", "due_date": "01/01/2099"}"#)
            #expect(future.status == 422 && future.body.contains("O vencimento 01/01/2099 é posterior"), "\(future.body)")

            // Details with integers past 2^53 and a long decimal come back digit for digit.
            let key = UUID().uuidString.lowercased()
            let entry = #"{"branch": "0001", "account": "1-2", "amount": 10.5, "side": "C", "event_code": "PAGAMENTO", "description": "Pagamento", "trace_key": "\#(key)", "details": {"pedido": 12345678901234567890, "taxa": 0.1000000000000000055511151231257827, "n": [9007199254740993]}, "reference_date": "\#(TestCalendar.day())"}"#
            let posted = try await api.post("/v1/ledger/entries", key: client.key, json: entry)
            #expect(posted.status == 201, "\(posted.body)")
            #expect(posted.body.contains(#""amount_cents":1050"#))
            let read = try await api.get("/v1/ledger/entries?trace_key=\(key)", key: client.key)
            #expect(read.body.contains(#"{"n":[9007199254740993],"pedido":12345678901234567890,"taxa":0.1000000000000000055511151231257827}"#), "\(read.body)")
        }
    }
}
