import EsteiraTestSupport
import Foundation
import Testing

@Suite("End to end: bankslips (boleto and PIX) for registered debts", .offSharedPool, .serialized)
struct BankslipEndToEndTests {
    @Test("settings checked; one slip per registered debt, never a second; the page's QR code and barcode read back by ZBar")
    func bankslips() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start()
        func json(_ method: String, _ path: String, _ body: String) async throws -> EsteiraProcess.HTTPResult {
            try await server.request(method, path, key: client.key, body: Data(body.utf8), contentType: "application/json")
        }

        // A debt registered before any settings: no slip yet, and asking says why.
        let early = try await json("POST", "/v1/debts",
                                   #"{"external_id": "E1", "name": "Ana", "document": "248.438.034-80", "amount": "50,00", "due_date": "2025-01-01"}"#)
        #expect(early.status == 201)
        let none = try await server.request("GET", "/v1/debts/E1/bankslip", key: client.key)
        #expect(none.status == 409 && none.text.contains("no_collection_settings"))

        // Settings: each field checked and named.
        let settings = #"{"bank": "237", "agency": "2949", "account": "6580", "wallet": "6", "pix_key": "11222333000181", "beneficiary_name": "Loja Exemplo Ltda", "beneficiary_city": "São Paulo", "due_days": 10}"#
        let otherBank = try await json("PUT", "/v1/collection", settings.replacingOccurrences(of: #""237""#, with: #""001""#))
        #expect(otherBank.status == 422 && (otherBank.object["error"] as? [String: Any])?["field"] as? String == "bank")
        let badDays = try await json("PUT", "/v1/collection", settings.replacingOccurrences(of: "10}", with: "0}"))
        #expect(badDays.status == 422 && (badDays.object["error"] as? [String: Any])?["field"] as? String == "due_days")
        #expect(try await json("PUT", "/v1/collection", "{").status == 400)
        #expect(try await json("PUT", "/v1/collection", settings).status == 200)
        #expect(try await server.request("GET", "/v1/collection", key: client.key).object["agency"] as? String == "2949")

        // A batch of three: each registered debt gets its slip, numbered in file order.
        let file = "external_id,name,document,amount,due_date\nB1,Bruno,529.982.247-25,1234.56,2025-06-01\n"
            + "B2,Carla,111.444.777-35,10.00,2025-06-01\nB3,Davi,123.456.789-09,99.90,2025-06-01\n"
        let id = try await server.upload(Data(file.utf8), key: client.key, name: "lote.csv")
        #expect(try await server.waitForBatch(id, key: client.key, timeout: 120).counts()["registered"] == 3)
        var numbers: [Int] = []
        for externalID in ["B1", "B2", "B3"] {
            let slip = try await server.request("GET", "/v1/debts/\(externalID)/bankslip", key: client.key).object
            numbers.append(slip["our_number"] as? Int ?? 0)
            // The free field by hand from the settings (Bradesco): agency 2949, wallet 06, the
            // our-number in 11 digits, account 0006580, 0.
            let barcode = slip["barcode"] as? String ?? ""
            #expect(barcode.hasPrefix("2379"))
            #expect(barcode.suffix(25) == "294906" + String(format: "%011d", slip["our_number"] as? Int ?? 0) + "00065800")
        }
        #expect(numbers == [1, 2, 3])
        let b1 = try await server.request("GET", "/v1/debts/B1/bankslip", key: client.key).object
        #expect(b1["amount_cents"] as? Int == 123_456)
        #expect((b1["barcode"] as? String ?? "").dropFirst(9).prefix(10) == "0000123456")
        #expect((b1["pix_copia_e_cola"] as? String ?? "").contains("54071234.56"))

        // The same file again: duplicates, no new slip; asking again gives the same slip.
        let again = try await server.upload(Data(file.utf8), key: client.key, name: "lote.csv")
        #expect(try await server.waitForBatch(again, key: client.key, timeout: 120).counts()["duplicates"] == 3)
        #expect(try server.sql("SELECT COUNT(*) FROM bankslips") == "3")
        #expect(try await server.request("GET", "/v1/debts/B1/bankslip", key: client.key).object["our_number"] as? Int == 1)

        // The early debt gets its slip when asked, once.
        let e1 = try await server.request("GET", "/v1/debts/E1/bankslip", key: client.key).object
        #expect(e1["our_number"] as? Int == 4)
        #expect(try await server.request("GET", "/v1/debts/E1/bankslip", key: client.key).object["our_number"] as? Int == 4)
        #expect(try server.sql("SELECT COUNT(*) FROM bankslips") == "4")

        // The printable page: its QR code and its barcode, read by ZBar, are the slip's.
        let page = try await server.request("GET", "/v1/debts/B1/bankslip.html", key: client.key)
        #expect(page.status == 200 && page.text.contains("Pague com PIX") && page.text.contains("R$ 1.234,56"))
        // Served as a page that runs no script, loads nothing from elsewhere and is never framed.
        #expect(page.headers["content-security-policy"]?.contains("default-src 'none'") == true, "\(page.headers)")
        #expect(page.headers["x-content-type-options"] == "nosniff" && page.headers["x-frame-options"] == "DENY")
        func svg(after marker: String) -> String {
            guard let start = page.text.range(of: marker), let open = page.text.range(of: "<svg", range: start.upperBound..<page.text.endIndex),
                  let close = page.text.range(of: "</svg>", range: open.lowerBound..<page.text.endIndex) else { return "" }
            return String(page.text[open.lowerBound..<close.upperBound])
        }
        #expect(try BarcodeReader.decode(svg: svg(after: #"id="qrcode""#)) == b1["pix_copia_e_cola"] as? String, "the QR code")
        #expect(try BarcodeReader.decode(svg: svg(after: #"id="codigo-de-barras""#)) == b1["barcode"] as? String, "the barcode")
        #expect(page.text.contains(b1["digitable_line"] as? String ?? "-"))
        #expect(try await server.request("GET", "/v1/debts/NAO/bankslip", key: client.key).status == 404)
    }
}
