import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// The headers of every kind of page, in process, on SQLite and PostgreSQL: a
/// Content-Security-Policy without `unsafe-inline` whose style hashes are those of the pages'
/// own `<style>` blocks as openssl computes them, no inline script, never in a frame, `nosniff`,
/// a referrer policy; and forms refused without their token.
@Suite("Web hardening: headers and forms", .serialized)
struct WebHardeningContractTests {
    /// `'sha256-…'` of `text` by openssl, not by Esteira's code.
    static func opensslHash(_ text: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-style-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let digest = try Shell.run("openssl dgst -sha256 -binary '\(file)' | openssl base64 -A", in: "/")
        return "'sha256-\(digest.trimmingCharacters(in: .whitespacesAndNewlines))'"
    }

    /// Every `<style>` block's text and every `<script …>` tag of a page.
    static func inline(_ html: String) -> (styles: [String], scripts: [String]) {
        var styles: [String] = [], scripts: [String] = []
        var rest = html[...]
        while let open = rest.range(of: "<style>"), let close = rest.range(of: "</style>", range: open.upperBound..<rest.endIndex) {
            styles.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        rest = html[...]
        while let open = rest.range(of: "<script"), let end = rest.range(of: ">", range: open.upperBound..<rest.endIndex) {
            scripts.append(String(rest[open.lowerBound..<end.upperBound]))
            rest = rest[end.upperBound...]
        }
        return (styles, scripts)
    }

    static func checkPage(_ r: APIResult, _ what: String) throws {
        #expect(r.header("Content-Type")?.hasPrefix("text/html") == true, "\(what)")
        let csp = try #require(r.header("Content-Security-Policy"), "\(what) has no CSP")
        #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "\(what): \(csp)")
        #expect(csp.contains("frame-ancestors 'none'"), "\(what): \(csp)")
        #expect(r.header("X-Content-Type-Options") == "nosniff", "\(what)")
        #expect(r.header("Referrer-Policy") == "same-origin", "\(what)")
        #expect(r.header("X-Frame-Options") == "DENY", "\(what)")
        let (styles, scripts) = inline(r.body)
        for style in styles {
            #expect(csp.contains(try opensslHash(style)), "\(what): a <style> block whose hash the policy lacks")
        }
        // Scripts only from files of this site; no inline handlers nor style attributes.
        for script in scripts { #expect(script.contains(" src=\"/"), "\(what): inline \(script)") }
        #expect(!r.body.contains(" style=\"") && !r.body.contains(" onclick="), "\(what)")
    }

    @Test("every kind of page: a CSP without unsafe-inline, its style hashes right, no inline script, never framed; /app's script a served file",
          arguments: InProcessEsteira.dialects)
    func pageHeaders(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let (_, operatorKey) = try await OperatorStore(db: runtime.db).create(name: "Ana", role: .admin)
            let due = TestCalendar.day(months: -1)
            let batch = try await api.upload(Array("id_divida;nome;cpf;valor;vencimento\nH1;Ana;248.438.034-80;10,00;\(due)\n".utf8),
                                             key: client.key, name: "h.csv")
            _ = try await api.finishedBatch(batch, key: client.key)

            var web = try await ConsoleSession(api, site: "/app")
            try Self.checkPage(try await web.get("/app/entrar"), "/app/entrar")
            #expect(try await web.signIn(client.key).status == 303)
            for path in ["/app/lotes", "/app/enviar", "/app/lotes/\(batch)"] {
                try Self.checkPage(try await web.get(path), path)
            }
            #expect(try await web.get("/app/lotes/\(batch)").body.contains(#"<script src="/app/lote.js" defer></script>"#))
            let script = try await api.get("/app/lote.js")
            #expect(script.status == 200 && script.header("Content-Type")?.hasPrefix("text/javascript") == true)
            #expect(script.body.contains("dataset.estado"))

            var console = try await ConsoleSession(api)
            try Self.checkPage(try await console.get("/ops/entrar"), "/ops/entrar")
            #expect(try await console.signIn(operatorKey).status == 303)
            for path in ["/ops/visao-geral", "/ops/lotes", "/ops/clientes/\(client.id)"] {
                try Self.checkPage(try await console.get(path), path)
            }

            // The printable bankslip, for a client collecting through Esteira.
            #expect(try await api.request(.put, "/v1/collection", key: client.key, body: InProcessEsteira.collectionSettings).status == 200)
            let debt = try await api.post("/v1/debts", key: client.key,
                                          json: #"{"external_id": "B1", "name": "Ana", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(TestCalendar.day(months: -1))"}"#)
            #expect(debt.status == 201, "\(debt.body)")
            let slip = try await api.get("/v1/debts/B1/bankslip.html", key: client.key)
            #expect(slip.status == 200, "\(slip.body.prefix(200))")
            try Self.checkPage(slip, "bankslip")

            // A page refused (a form without its token) still carries the strict default.
            let refused = try await web.post("/app/sair", token: false)
            #expect(refused.status == 403)
            try Self.checkPage(refused, "refusal")
            // JSON answers carry nosniff too.
            #expect(try await api.get("/v1/batches", key: client.key).header("X-Content-Type-Options") == "nosniff")
        }
    }

    @Test("a POST without the form's token is refused with 403 on both sites, and one from another origin too", arguments: InProcessEsteira.dialects)
    func formsWithoutToken(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let (_, operatorKey) = try await OperatorStore(db: runtime.db).create(name: "Ana", role: .admin)
            var web = try await ConsoleSession(api, site: "/app")
            #expect(try await web.signIn(client.key).status == 303)
            var console = try await ConsoleSession(api)
            #expect(try await console.signIn(operatorKey).status == 303)
            for (session, path) in [(web, "/app/sair"), (console, "/ops/sair"), (console, "/ops/clientes/\(client.id)/cotas")] {
                let r = try await session.post(path, [("linhas", "1")], token: false)
                #expect(r.status == 403, "\(path)")
                #expect(r.body.contains("Envio recusado"), "\(path)")
            }
            // With the token but from another site's page.
            let forged = try await api.request(.post, "/ops/sair?csrf=\(console.csrf)", body: "",
                                               contentType: "application/x-www-form-urlencoded",
                                               headers: ["Cookie": console.cookies, "Origin": "http://evil.example"])
            #expect(forged.status == 403)
            // Nothing changed: the client's quota was never set, both sessions still open.
            #expect(try await ClientStore(db: runtime.db).get(id: client.id)?.rowsPerDay == nil)
            #expect(try await web.get("/app/lotes").status == 200)
            #expect(try await console.get("/ops/lotes").status == 200)
        }
    }
}
