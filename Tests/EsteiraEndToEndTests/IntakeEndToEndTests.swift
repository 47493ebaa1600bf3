import EsteiraCore
import EsteiraTestSupport
import Foundation
import Testing

/// A file written by the test, row by row, with what must become of each row.
struct TestFile {
    enum Expect { case registered, duplicate, reject([String]) }
    struct Row { var cells: [String]; var expect: Expect }

    var header: [String]
    var delimiter: String
    var lineEnding: String
    var windows1252: Bool
    var bom: Bool
    var rows: [Row] = []

    mutating func add(_ cells: [String], _ expect: Expect) { rows.append(Row(cells: cells, expect: expect)) }

    func quoted(_ cell: String) -> String {
        if cell.contains(delimiter) || cell.contains("\"") || cell.contains("\n") {
            return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return cell
    }

    /// The bytes, and the line on which each row starts (the header is line 1; a line break inside a
    /// quoted cell makes the row span two lines).
    func build() -> (Data, [Int]) {
        var text = header.map(quoted).joined(separator: delimiter) + lineEnding
        var line = 2
        var starts: [Int] = []
        for r in rows {
            starts.append(line)
            text += r.cells.map(quoted).joined(separator: delimiter) + lineEnding
            line += 1 + r.cells.reduce(0) { $0 + $1.filter { $0 == "\n" }.count }
        }
        // Foundation's own converter makes the Windows-1252 bytes: a second encoder beside Esteira's decoder.
        var data = windows1252 ? text.data(using: .windowsCP1252)! : Data(text.utf8)
        if bom { data = Data([0xEF, 0xBB, 0xBF]) + data }
        return (data, starts)
    }

    var expectedCounts: [String: Int] {
        var c = ["received": rows.count, "registered": 0, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 0, "review": 0]
        // The registered debts the risk rules flag as time-barred on the day the test runs (K007).
        let due = header.firstIndex { $0.lowercased().contains("venc") || $0.lowercased().contains("due") }
        var registeredDue: [String] = []
        for r in rows {
            switch r.expect {
            case .registered:
                c["registered"]! += 1
                if let due { registeredDue.append(Self.iso(r.cells[due])) }
            case .duplicate: c["duplicates"]! += 1
            case .reject: c["rejected"]! += 1
            }
        }
        c["review"] = TestCalendar.timeBarred(registeredDue)
        return c
    }

    /// `DD/MM/AAAA` as `AAAA-MM-DD`; an ISO day as it is.
    static func iso(_ day: String) -> String {
        let parts = day.split(separator: "/")
        return parts.count == 3 ? "\(parts[2])-\(parts[1])-\(parts[0])" : day
    }

    func expectedRejects(starts: [Int]) -> [String] {
        zip(rows, starts).flatMap { row, line -> [String] in
            if case .reject(let issues) = row.expect { return issues.map { "\(line):\($0)" } }
            return []
        }
    }
}

@Suite("End to end: the real binary on the embedded default", .offSharedPool, .serialized)
struct IntakeEndToEndTests {
    @Test("files in both delimiters and both encodings: every count and every reject's line, field and code")
    func intake() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja Exemplo", document: "11.222.333/0001-81", subBatchSize: 4)
        let other = try server.createClient(name: "Outra Loja", document: "12.ABC.345/01DE-35")
        try server.start()

        // File A: semicolons, UTF-8 with BOM, CRLF, Portuguese header.
        var a = TestFile(header: ["id_divida", "nome", "cpf_cnpj", "valor", "vencimento", "email"],
                         delimiter: ";", lineEnding: "\r\n", windows1252: false, bom: true)
        a.add(["A1", "Maria", "248.438.034-80", "1.234,56", "01/02/2024", "maria@example.com"], .registered)
        a.add(["A2", "João da Silva", "111.444.777-35", "10,00", "2024-01-31", ""], .registered)
        a.add(["A3", "Empresa Ltda", "12.ABC.345/01DE-35", "99,90", "15/03/2025", ""], .registered)
        a.add(["A4", "Ana", "248.438.034-70", "5,00", "01/01/2024", ""], .reject(["document:R003"]))
        a.add(["A5", "", "248.438.034-80", "5,00", "01/01/2024", ""], .reject(["name:R001"]))
        a.add(["A6", "Pedro", "012.345.678-90", "abc", "01/01/2024", ""], .reject(["amount:R004"]))
        a.add(["A7", "Pedro", "012.345.678-90", "0,00", "01/01/2024", ""], .reject(["amount:R005"]))
        a.add(["A8", "Pedro", "012.345.678-90", "7,00", "30/02/2024", ""], .reject(["due_date:R006"]))
        a.add(["A9", "Pedro", "012.345.678-90", "7,00", "31/12/2099", ""], .reject(["due_date:R007"]))
        a.add(["A10", "Pedro", "012.345.678-90", "7,00", "01/01/2024", "pedro@"], .reject(["email:R008"]))
        a.add(["A1", "Maria", "248.438.034-80", "1.234,56", "01/02/2024", "maria@example.com"], .duplicate)
        a.add(["A2", "João da Silva", "111.444.777-35", "11,00", "2024-01-31", ""], .reject(["external_id:R009"]))
        a.add(["A11", "Zé \"Aspas\"; de\nSouza", "012.345.678-90", "3", "2024-01-31", ""], .registered)
        a.add(["=1+1", "Fórmula", "012.345.678-90", "-5", "2024-01-31", ""], .reject(["amount:R005"]))
        a.add(["", "", "", "", "", ""], .reject(["external_id:R001", "name:R001", "document:R001", "amount:R001", "due_date:R001"]))

        // File B: commas, Windows-1252, LF, the bankslip seed's header and column order.
        var b = TestFile(header: ["name", "governmentId", "email", "debtAmount", "debtDueDate", "debtId"],
                         delimiter: ",", lineEnding: "\n", windows1252: true, bom: false)
        b.add(["Ação Comercial", "11.222.333/0001-81", "", "1234.56", "2024-06-01", "B1"], .registered)
        b.add(["Conceição", "248.438.034-80", "c@x.com.br", "1,50", "01/01/2024", "B2"], .registered)
        // The same debt as file A's first row, written another way: a duplicate across files.
        b.add(["Maria", "24843803480", "maria@example.com", "1234.56", "2024-02-01", "A1"], .duplicate)
        b.add(["Sem Documento", "", "", "1.00", "2024-01-01", "B3"], .reject(["document:R001"]))
        b.add(["Curto", "123", "", "1.00", "2024-01-01", "B4"], .reject(["document:R002"]))
        b.add(["Outro Nome", "11.222.333/0001-81", "", "1234.56", "2024-06-01", "B1"], .reject(["external_id:R009"]))

        // File D: semicolons, Windows-1252, CRLF.
        var d = TestFile(header: ["ID Dívida", "Devedor", "CPF", "Valor", "Data de Vencimento"],
                         delimiter: ";", lineEnding: "\r\n", windows1252: true, bom: false)
        d.add(["D1", "Órgão Público", "111.444.777-35", "2,5", "2024-01-01"], .registered)
        d.add(["D2", "São João", "248.438.034-80", "1.000,00", "2024-01-01"], .registered)
        d.add(["D1", "Órgão Público", "111.444.777-35", "2,50", "01/01/2024"], .duplicate)

        for (name, file) in [("a.csv", a), ("b.csv", b), ("d.csv", d)] {
            let (bytes, starts) = file.build()
            let id = try await server.upload(bytes, key: client.key, name: name)
            let batch = try await server.waitForBatch(id, key: client.key)
            #expect(batch.counts == file.expectedCounts, "\(name)")
            let anyReject = file.rows.contains { if case .reject = $0.expect { true } else { false } }
            #expect(batch["status"]?.string == (anyReject ? "completed_with_rejects" : "completed"), "\(name)")
            #expect(batch["file_name"]?.string == name)
            let rejects = try await server.request("GET", "/v1/batches/\(id)/rejects?per_page=500", key: client.key).json
            let got = (rejects["items"]?.elements ?? []).map { "\($0["line"]?.text ?? ""):\($0["field"]?.text ?? ""):\($0["code"]?.text ?? "")" }
            #expect(got == file.expectedRejects(starts: starts), "\(name)")
        }

        // File C: commas, UTF-8, sent as a multipart form.
        let boundary = "esteira-test-boundary"
        var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n".utf8)
        form += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\nContent-Type: text/csv\r\n\r\n".utf8)
        form += Data("external_id,name,document,amount,due_date\nC1,Carla,111.444.777-35,\"1,00\",2024-01-01\nC2,Zero,00000000000,1,2024-01-01\n".utf8)
        form += Data("\r\n--\(boundary)--\r\n".utf8)
        let up = try await server.request("POST", "/v1/batches", key: client.key, body: form,
                                          contentType: "multipart/form-data; boundary=\(boundary)")
        #expect(up.status == 202)
        #expect(up.header("Location") == "/v1/batches/\(up.json["id"]?.string ?? "")")
        let c = try await server.waitForBatch(try #require(up.json["id"]?.string), key: client.key)
        #expect(c.counts == ["received": 2, "registered": 1, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 1, "review": TestCalendar.timeBarred(["2024-01-01"])])
        #expect(c["file_name"]?.string == "c.csv")
        #expect(c["source"]?.string == "api_multipart")

        // The registry, in the API's own words.
        let a1 = try await server.request("GET", "/v1/debts/A1", key: client.key).json
        #expect(a1["amount"]?.string == "1234.56")
        #expect(a1["amount_cents"]?.int == 123_456)
        #expect(a1["due_date"]?.string == "2024-02-01")
        #expect(a1["document"]?.string == "24843803480")
        #expect(a1["line"]?.int == 2)
        #expect(try await server.request("GET", "/v1/debts/D2", key: client.key).json["amount_cents"]?.int == 100_000)
        #expect(try await server.request("GET", "/v1/debts/A11", key: client.key).json["name"]?.string == "Zé \"Aspas\"; de\nSouza")
        #expect(try await server.request("GET", "/v1/debts/B1", key: client.key).json["name"]?.string == "Ação Comercial")
        let byDocument = try await server.request("GET", "/v1/debts?document=248.438.034-80", key: client.key).json
        // A1, B2 and D2 carry this CPF.
        #expect(byDocument["total"]?.int == 3)
        let page = try await server.request("GET", "/v1/debts?per_page=3&page=2", key: client.key).json
        #expect((page["items"]?.elements)?.count == 3 && page["page"]?.int == 2 && page["per_page"]?.int == 3)
        // A1 A2 A3 A11 B1 B2 D1 D2 C1 = 9 registered debts.
        #expect(page["total"]?.int == 9)

        // The reject report opens safely in a spreadsheet.
        let batches = try await server.request("GET", "/v1/batches?status=completed_with_rejects", key: client.key).json
        // a.csv, b.csv and the multipart c.csv have rejects; d.csv has none.
        #expect(batches["total"]?.int == 3)
        let aID = ((batches["items"]?.elements)?.first { $0["file_name"]?.string == "a.csv" }?["id"]?.string) ?? ""
        let csv = try await server.request("GET", "/v1/batches/\(aID)/rejects.csv", key: client.key)
        #expect(csv.status == 200)
        #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
        // As a Brazilian Excel opens it: BOM, `;`, Portuguese headers and field names; a cell
        // that would start with `=`, `+`, `-` or `@` under either separator is neutralized.
        #expect(csv.body.hasPrefix("\u{FEFF}linha;campo;código;mensagem;conteúdo original\r\n"))
        #expect(csv.body.contains(";\"valor\";R005;"))
        #expect(csv.body.contains(";\"'=1+1;Fórmula;012.345.678-90;'-5;"))
        #expect(!csv.body.contains("\"=1+1") && !csv.body.contains(";-5;"))

        // Keys and isolation: no key or a wrong one is 401; another client's data is 404.
        #expect(try await server.request("GET", "/v1/batches", key: nil).status == 401)
        #expect(try await server.request("GET", "/v1/batches", key: "est_wrong").status == 401)
        #expect(try await server.request("GET", "/v1/batches/\(aID)", key: other.key).status == 404)
        #expect(try await server.request("GET", "/v1/batches/\(aID)/rejects.csv", key: other.key).status == 404)
        #expect(try await server.request("GET", "/v1/debts/A1", key: other.key).status == 404)
        #expect(try await server.request("GET", "/v1/batches", key: other.key).json["total"]?.int == 0)

        // A file unusable as a whole fails, with the reason in Portuguese.
        let empty = try await server.upload(Data(), key: client.key, name: "vazio.csv")
        let failed = try await server.waitForBatch(empty, key: client.key)
        #expect(failed["status"]?.string == "failed")
        #expect(failed["error"]?.string == "O arquivo está vazio.")
        let noColumn = try await server.upload(Data("nome;cpf\nMaria;248.438.034-80\n".utf8), key: client.key, name: "x.csv")
        let failed2 = try await server.waitForBatch(noColumn, key: client.key)
        #expect((failed2["error"]?.string)?.contains("Coluna obrigatória ausente") == true)

        // Operations.
        #expect(try await server.request("GET", "/health", key: nil).status == 200)
        let metrics = try await server.request("GET", "/metrics", key: nil).body
        #expect(metrics.contains("esteira_rows_registered_total{client=\"\(client.id)\"} 9"))
        #expect(metrics.contains("esteira_jobs{state=\"done\"}"))

        // Logs are JSON lines and never carry a whole document.
        let log = try String(contentsOfFile: server.dataDir + "/server.log", encoding: .utf8)
        for line in log.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "not JSON: \(line)")
        }
        #expect(!log.contains("24843803480") && !log.contains("248.438.034-80"))
    }
}
