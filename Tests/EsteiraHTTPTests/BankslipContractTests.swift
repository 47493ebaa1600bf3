import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import HTTPTypes
import Testing

/// Bankslips (boleto and PIX) for registered debts, in process, on SQLite and on PostgreSQL.
@Suite("API contract, in process: bankslips for registered debts")
struct BankslipContractTests {
    @Test("settings checked; one slip per registered debt, never a second; the page's QR code and barcode read back by ZBar",
          arguments: InProcessEsteira.dialects)
    func bankslips(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> APIResult {
                try await api.request(method, path, key: client.key, body: body)
            }

            // A debt registered before any settings: no slip yet, and asking says why.
            let early = try await call(.post, "/v1/debts", #"{"external_id": "E1", "name": "Ana", "document": "248.438.034-80", "amount": "50,00", "due_date": "\#(TestCalendar.day(months: -1))"}"#)
            #expect(early.status == 201)
            let none = try await call(.get, "/v1/debts/E1/bankslip")
            #expect(none.status == 409 && none.body.contains("no_collection_settings"))

            // Settings: each field checked and named.
            let settings = InProcessEsteira.collectionSettings
            let otherBank = try await call(.put, "/v1/collection", settings.replacingOccurrences(of: #""237""#, with: #""001""#))
            #expect(otherBank.status == 422 && otherBank.json["error", "field"]?.string == "bank")
            let badDays = try await call(.put, "/v1/collection", settings.replacingOccurrences(of: "10}", with: "0}"))
            #expect(badDays.status == 422 && badDays.json["error", "field"]?.string == "due_days")
            #expect(try await call(.put, "/v1/collection", "{").status == 400)
            #expect(try await call(.put, "/v1/collection", settings).status == 200)
            #expect(try await call(.get, "/v1/collection").json["agency"]?.string == "2949")

            // A batch of three: each registered debt gets its slip, numbered in file order.
            let due = TestCalendar.day(months: -1)
            let file = "external_id,name,document,amount,due_date\nB1,Bruno,529.982.247-25,1234.56,\(due)\n"
                + "B2,Carla,111.444.777-35,10.00,\(due)\nB3,Davi,123.456.789-09,99.90,\(due)\n"
            let id = try await api.upload(Array(file.utf8), key: client.key, name: "lote.csv")
            #expect(try await api.finishedBatch(id, key: client.key).counts["registered"] == 3)
            var numbers: [Int] = []
            for externalID in ["B1", "B2", "B3"] {
                let slip = try await call(.get, "/v1/debts/\(externalID)/bankslip").json
                let number = slip["our_number"]?.int ?? 0
                numbers.append(number)
                // The free field by hand from the settings (Bradesco): agency 2949, wallet 06, the
                // our-number in 11 digits, account 0006580, 0.
                let barcode = slip["barcode"]?.string ?? ""
                #expect(barcode.hasPrefix("2379"))
                #expect(barcode.suffix(25) == "294906" + String(format: "%011d", number) + "00065800")
            }
            #expect(numbers == [1, 2, 3])
            let b1 = try await call(.get, "/v1/debts/B1/bankslip").json
            #expect(b1["amount_cents"]?.int == 123_456)
            #expect((b1["barcode"]?.string ?? "").dropFirst(9).prefix(10) == "0000123456")
            #expect((b1["pix_copia_e_cola"]?.string ?? "").contains("54071234.56"))

            // The same file again: duplicates, no new slip; asking again gives the same slip.
            let again = try await api.upload(Array(file.utf8), key: client.key, name: "lote.csv")
            #expect(try await api.finishedBatch(again, key: client.key).counts["duplicates"] == 3)
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM bankslips") == "3")
            #expect(try await call(.get, "/v1/debts/B1/bankslip").json["our_number"]?.int == 1)

            // The early debt gets its slip when asked, once.
            #expect(try await call(.get, "/v1/debts/E1/bankslip").json["our_number"]?.int == 4)
            #expect(try await call(.get, "/v1/debts/E1/bankslip").json["our_number"]?.int == 4)
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM bankslips") == "4")

            // The printable page: its QR code and its barcode, read by ZBar, are the slip's.
            let page = try await call(.get, "/v1/debts/B1/bankslip.html")
            #expect(page.status == 200 && page.body.contains("Pague com PIX") && page.body.contains("R$ 1.234,56"))
            // Served as a page that runs no script, loads nothing from elsewhere and is never framed.
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true, "\(page.headers)")
            #expect(page.header("X-Content-Type-Options") == "nosniff" && page.header("X-Frame-Options") == "DENY")
            func svg(after marker: String) -> String {
                guard let start = page.body.range(of: marker), let open = page.body.range(of: "<svg", range: start.upperBound..<page.body.endIndex),
                      let close = page.body.range(of: "</svg>", range: open.lowerBound..<page.body.endIndex) else { return "" }
                return String(page.body[open.lowerBound..<close.upperBound])
            }
            #expect(try BarcodeReader.decode(svg: svg(after: #"id="qrcode""#)) == b1["pix_copia_e_cola"]?.string, "the QR code")
            #expect(try BarcodeReader.decode(svg: svg(after: #"id="codigo-de-barras""#)) == b1["barcode"]?.string, "the barcode")
            #expect(page.body.contains(b1["digitable_line"]?.string ?? "-"))
            #expect(try await call(.get, "/v1/debts/NAO/bankslip").status == 404)
        }
    }
}
