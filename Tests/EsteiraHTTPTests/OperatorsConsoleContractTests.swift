import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// A browser's session in the operators' console (or, with `site: "/app"`, in the client's web
/// pages), in process: the form token's cookie and the session's, sent back as a browser would;
/// every POST from the site's own origin.
struct ConsoleSession {
    let api: APITestClient
    /// `/ops` or `/app`.
    let site: String
    var csrf = ""
    var session = ""

    var sessionCookie: String { site == "/app" ? "esteira_sessao" : "esteira_operacao" }

    init(_ api: APITestClient, site: String = "/ops") async throws {
        self.api = api
        self.site = site
        let page = try await api.get(site + "/entrar")
        csrf = Self.cookie(page, "esteira_csrf") ?? ""
    }

    static func cookie(_ r: APIResult, _ name: String) -> String? {
        r.headers[values: .setCookie].compactMap { v -> String? in
            guard v.hasPrefix(name + "=") else { return nil }
            return String(v.dropFirst(name.count + 1).prefix { $0 != ";" })
        }.first
    }

    var cookies: String { "esteira_csrf=\(csrf)" + (session.isEmpty ? "" : "; \(sessionCookie)=\(session)") }

    func get(_ path: String) async throws -> APIResult {
        try await api.request(.get, path, headers: ["Cookie": cookies])
    }

    /// A form posted with the page's token (`token: false` leaves it out).
    func post(_ path: String, _ fields: [(String, String)] = [], token: Bool = true) async throws -> APIResult {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        let target = token ? path + (path.contains("?") ? "&" : "?") + "csrf=\(csrf)" : path
        return try await api.request(.post, target, body: body, contentType: "application/x-www-form-urlencoded",
                                     headers: ["Cookie": cookies, "Origin": "http://localhost"])
    }

    mutating func signIn(_ key: String) async throws -> APIResult {
        let r = try await post(site + "/entrar", [("chave", key)])
        if let s = Self.cookie(r, sessionCookie) { session = s }
        return r
    }
}

/// The operators' console (`/ops`) and the roles of the operators' API, in process, on SQLite and
/// PostgreSQL: every page renders for a signed-in operator; each role does what it may and gets
/// 403 for the rest; every action lands in the audit, by name, with the values before and after.
@Suite("Operators' console, in process", .serialized)
struct OperatorsConsoleContractTests {
    @Test("every page renders; a viewer reads and is refused every action (403), in the console and the API; actions are audited with before and after",
          arguments: InProcessEsteira.dialects)
    func pagesRolesAndAudit(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect, environment: ["ESTEIRA_WEBHOOK_ALLOW_PRIVATE": "1"]) { api, runtime in
            let operators = OperatorStore(db: runtime.db)
            let (_, adminKey) = try await operators.create(name: "Ana Admin", role: .admin)
            let (_, operatorKey) = try await operators.create(name: "Otto Operador", role: .operator)
            let (_, viewerKey) = try await operators.create(name: "Vera Leitura", role: .viewer)
            let client = try await InProcessEsteira.client(runtime, name: "Loja Exemplo")

            // Without a session every page sends to the sign-in; a wrong key is 401.
            var admin = try await ConsoleSession(api)
            #expect(try await admin.get("/ops/visao-geral").header("Location") == "/ops/entrar")
            #expect(try await admin.signIn("op_" + String(repeating: "0", count: 40)).status == 401)
            #expect(try await admin.signIn(adminKey).header("Location") == "/ops/visao-geral")

            // A batch of three rows, one rejected (check digits of 123456789 are 09: R003).
            let past = TestCalendar.year(-1)
            let file = "external_id,name,document,amount,due_date\nC1,Ana,248.438.034-80,10.00,\(past)-01-01\n"
                + "C2,Bia,123.456.789-00,1.00,\(past)-01-01\nC3,Caio,111.444.777-35,3.00,\(past)-02-01\n"
            let batchID = try await api.upload(Array(file.utf8), key: client.key, name: "carteira.csv")
            _ = try await api.finishedBatch(batchID, key: client.key)

            // Every page, as the admin sees it.
            for (path, expected) in [("/ops/visao-geral", "Linhas nos últimos 15 min"), ("/ops/lotes", "carteira.csv"), ("/ops/lotes?situacao=completed_with_rejects", "carteira.csv"),
                                     ("/ops/lotes/\(batchID)", "R003"), ("/ops/tarefas", "Nenhuma tarefa parada"), ("/ops/tarefas?estado=tentando", "Tarefas"),
                                     ("/ops/clientes", "Loja Exemplo"), ("/ops/clientes?q=exemplo", "Loja Exemplo"), ("/ops/clientes/\(client.id)", "Linhas no mês"),
                                     ("/ops/bloqueio", "Lista de bloqueio"), ("/ops/revisao", "Nenhuma dívida esperando decisão"),
                                     ("/ops/notificacoes", "Notificações"), ("/ops/lago", "Nenhuma rodada do lago ainda"),
                                     ("/ops/auditoria", "Auditoria"), ("/ops/operadores", "Vera Leitura")] {
                let page = try await admin.get(path)
                #expect(page.status == 200, "\(path): \(page.status)")
                #expect(page.body.contains(expected), "\(path) lacks \(expected)")
                #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true, "\(path)")
            }
            // The overview: the batch's 3 rows ended a sub-batch in the last 15 minutes (3 / 900 s = 0.0/s).
            #expect(try await admin.get("/ops/visao-geral").body.contains("3 (0.0/s)"))
            // A search typed with a space, sent as a browser sends a GET form (space as +).
            #expect(try await admin.get("/ops/clientes?q=Loja+Exemplo").body.contains("/ops/clientes/\(client.id)"))
            #expect(try await admin.get("/ops/auditoria?alvo=100%25").body.contains("100%"))
            // The client's month: 3 rows, 1 rejected (33.3%).
            #expect(try await admin.get("/ops/clientes/\(client.id)").body.contains("33.3%"))
            // The raw file, byte for byte.
            #expect(try await admin.get("/ops/lotes/\(batchID)/arquivo").body == file)

            // A form without its token is refused.
            #expect(try await admin.post("/ops/bloqueio", [("documento", "529.982.247-25"), ("motivo", "fraude")], token: false).status == 403)

            // The viewer reads, and is refused every action, in the console and the API.
            var viewer = try await ConsoleSession(api)
            _ = try await viewer.signIn(viewerKey)
            #expect(try await viewer.get("/ops/bloqueio").status == 200)
            #expect(try await viewer.get("/ops/operadores").status == 403)
            for (path, fields) in [("/ops/bloqueio", [("documento", "529.982.247-25"), ("motivo", "fraude")]), ("/ops/tarefas/1/reprocessar", []),
                                   ("/ops/lotes/\(batchID)/reprocessar", []), ("/ops/clientes", [("nome", "X"), ("documento", "11.222.333/0001-81")]),
                                   ("/ops/clientes/\(client.id)/desativar", []), ("/ops/notificacoes/1/reenviar", [])] {
                let r = try await viewer.post(path, fields)
                #expect(r.status == 403, "\(path): \(r.status)")
                #expect(r.body.contains("não permite esta ação"))
            }
            let apiRefused = try await api.request(.put, "/v1/admin/blacklist/52998224725", key: viewerKey, body: #"{"reason": "fraude"}"#)
            #expect(apiRefused.status == 403 && apiRefused.json["error", "code"]?.string == "forbidden", "\(apiRefused.body)")
            #expect(try await api.get("/v1/admin/lake/runs", key: viewerKey).status == 200)
            // An operator acts, but does not manage clients.
            #expect(try await api.request(.put, "/v1/admin/clients/\(client.id)/limits", key: operatorKey, body: "{}").status == 403)

            // The operator keeps the blacklist: add, import (a bad line refuses all, with its report), remove.
            var otto = try await ConsoleSession(api)
            _ = try await otto.signIn(operatorKey)
            #expect(try await otto.post("/ops/bloqueio", [("documento", "529.982.247-25"), ("motivo", "fraude confirmada")]).status == 303)
            #expect(try await otto.get("/ops/bloqueio/52998224725").body.contains("fraude confirmada"))
            let badImport = try await otto.post("/ops/bloqueio/importar", [("csv", "documento;motivo\n111.444.777-35;óbito\n123;x\n")])
            #expect(badImport.status == 422 && badImport.body.contains("B001"), "\(badImport.body)")
            #expect(try await BlacklistStore(db: runtime.db).get(document: "11144477735") == nil)
            #expect(try await otto.post("/ops/bloqueio/importar", [("csv", "documento;motivo\n111.444.777-35;óbito\n248.438.034-80;fraude\n")]).status == 303)
            #expect(try await BlacklistStore(db: runtime.db).get(document: "11144477735")?.reason == "óbito")
            #expect(try await otto.post("/ops/bloqueio/52998224725/remover", [("motivo", "engano")]).status == 303)
            #expect(try await BlacklistStore(db: runtime.db).get(document: "52998224725") == nil)

            // The admin sees the client's notification settings and formats, and changes them.
            let hook = try await api.post("/v1/webhooks", key: client.key, json: #"{"url": "http://127.0.0.1:9/hooks"}"#)
            #expect(hook.status == 201, "\(hook.body)")
            let mapping = #"{"columns": {"external_id": "Código", "name": "Cliente", "document": "CPF", "amount": "Valor", "due_date": "Vencimento"}, "date_format": "auto", "decimal_format": "comma"}"#
            #expect(try await api.request(.put, "/v1/formats/mensal", key: client.key, body: mapping).status < 300)
            let settingsPage = try await admin.get("/ops/clientes/\(client.id)")
            #expect(settingsPage.body.contains("http://127.0.0.1:9/hooks") && settingsPage.body.contains("mensal"))
            #expect(try await admin.post("/ops/clientes/\(client.id)/formato", [("formato", "mensal")]).status == 303)
            #expect(try await ClientFormatStore(db: runtime.db).defaultFormat(clientID: client.id)?.name == "mensal")
            let hookID = try #require(hook.json["id"]?.string)
            #expect(try await admin.post("/ops/clientes/\(client.id)/webhooks/\(hookID)/remover").status == 303)
            #expect(try await NotificationStore(db: runtime.db).endpoints(clientID: client.id).isEmpty)
            // … and adds them for the client: a webhook, whose signing secret is shown once, and an address.
            let added = try await admin.post("/ops/clientes/\(client.id)/webhooks", [("url", "http://127.0.0.1:9/novo"), ("eventos", "batch.stalled, batch.failed")])
            #expect(added.status == 200 && added.body.firstMatch(of: /whsec_[0-9a-f]{48}/) != nil, "\(added.status)")
            #expect(try await NotificationStore(db: runtime.db).endpoints(clientID: client.id).map(\.events) == [[.batchStalled, .batchFailed]])
            let badEvent = try await admin.post("/ops/clientes/\(client.id)/webhooks", [("url", "http://127.0.0.1:9/x"), ("eventos", "tudo")])
            #expect(badEvent.status == 422 && badEvent.body.contains("Evento tudo desconhecido"))
            #expect(try await admin.post("/ops/clientes/\(client.id)/emails", [("email", "cobranca@loja.test")]).status == 303)
            #expect(try await NotificationStore(db: runtime.db).recipients(clientID: client.id).map(\.address) == ["cobranca@loja.test"])
            #expect(try await admin.post("/ops/clientes/\(client.id)/emails", [("email", "não é e-mail")]).status == 422)

            // The admin manages the client: name, limits, a new key (the old one stops), deactivation.
            #expect(try await admin.post("/ops/clientes/\(client.id)", [("nome", "Loja Exemplo S.A."), ("parte", "500")]).status == 303)
            #expect(try await admin.post("/ops/clientes/\(client.id)/limites", [("maximo", "1.000,00"), ("minimo", "")]).status == 303)
            #expect(try await ClientStore(db: runtime.db).get(id: client.id)?.maxAmountCents == 100_000)  // R$ 1.000,00
            let newKeyPage = try await admin.post("/ops/clientes/\(client.id)/chave")
            let newKey = try #require(newKeyPage.body.firstMatch(of: /est_[0-9a-f]{40}/).map { String($0.output) }, "\(newKeyPage.body)")
            #expect(try await api.get("/v1/batches", key: client.key).status == 401)
            #expect(try await api.get("/v1/batches", key: newKey).status == 200)
            #expect(try await admin.post("/ops/clientes/\(client.id)/desativar").status == 303)
            #expect(try await api.get("/v1/batches", key: newKey).status == 401)
            #expect(try await admin.get("/ops/clientes/\(client.id)").body.contains("desativado"))

            // The admin makes an operator; its key, shown once, works in the API.
            let made = try await admin.post("/ops/operadores", [("nome", "Nina Nova"), ("papel", "viewer")])
            let nina = try #require(made.body.firstMatch(of: /op_[0-9a-f]{40}/).map { String($0.output) }, "\(made.body)")
            #expect(try await api.get("/v1/admin/lake/runs", key: nina).status == 200)

            // The audit: who by name, the target, before and after; filterable, and as CSV.
            let audit = try await AuditLog(db: runtime.db).list(AuditFilter(), page: 1, perPage: 100).items
            func entry(_ action: String) -> AuditEntry? { audit.first { $0.action == action } }
            #expect(entry("blacklist.add")?.actor.name == "Otto Operador")
            #expect(entry("blacklist.add")?.after == #"{"reason":"fraude confirmada"}"#)
            #expect(entry("blacklist.add")?.before == nil)
            #expect(entry("blacklist.import")?.after == #"{"added":"2","changed":"0"}"#)
            #expect(entry("blacklist.remove")?.before == #"{"reason":"fraude confirmada"}"#)
            #expect(entry("client.update")?.before == #"{"name":"Loja Exemplo","sub_batch_size":"2"}"#)
            #expect(entry("client.update")?.after == #"{"name":"Loja Exemplo S.A.","sub_batch_size":"500"}"#)
            #expect(entry("client.limits")?.after == #"{"max_amount_cents":"100000","min_amount_cents":null}"#)
            #expect(entry("client.key_issue")?.after == #"{"key":"…\#(newKey.suffix(4))"}"#)
            #expect(entry("client.deactivate")?.actor.name == "Ana Admin")
            #expect(entry("client.deactivate")?.actor.channel == "console")
            #expect(entry("operator.create")?.after?.contains(#""role":"viewer""#) == true)
            #expect(entry("client.default_format")?.before == #"{"default_format":null}"#)
            #expect(entry("client.default_format")?.after == #"{"default_format":"mensal"}"#)
            #expect(entry("client.webhook_remove")?.before == #"{"webhook":"http://127.0.0.1:9/hooks"}"#)
            #expect(entry("client.webhook_add")?.after == #"{"events":"batch.stalled,batch.failed","webhook":"http://127.0.0.1:9/novo"}"#)
            #expect(entry("client.email_add")?.after?.contains(#""email":"cobranca@loja.test""#) == true)
            #expect(!audit.contains { ($0.after ?? "").contains("whsec_") })
            // No action was recorded for the refused viewer: only her sign-in, a security event.
            #expect(audit.filter { $0.actor.name == "Vera Leitura" }.map(\.action) == ["signin.ok"])
            // No key is ever in the audit.
            #expect(!audit.contains { ($0.after ?? "").contains(newKey) || ($0.after ?? "").contains(nina) })
            let filtered = try await admin.get("/ops/auditoria?operador=otto")
            #expect(filtered.body.contains("blacklist.add") && !filtered.body.contains("client.deactivate"))
            let csv = try await admin.get("/ops/auditoria.csv?acao=client.")
            #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
            #expect(csv.body.contains("client.deactivate") && !csv.body.contains("blacklist.add"), "\(csv.body)")

            // Signed out, the session no longer opens pages.
            #expect(try await admin.post("/ops/sair").status == 303)
            #expect(try await admin.get("/ops/lotes").header("Location") == "/ops/entrar")
        }
    }

    /// Due six years ago: the risk rules flag the debt for review (K007, time-barred after five).
    @Test("the review queue decides flagged debts in bulk with a note; a dead notification is redelivered; the lake refuses a month without its files",
          arguments: InProcessEsteira.dialects)
    func reviewsNotificationsLake(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (_, key) = try await OperatorStore(db: runtime.db).create(name: "Otto Operador", role: .operator)
            let client = try await InProcessEsteira.client(runtime)
            for (id, due) in [("R1", TestCalendar.day(years: -6)), ("R2", TestCalendar.day(years: -6))] {
                let r = try await api.post("/v1/debts", key: client.key, json: #"{"external_id": "\#(id)", "name": "Ana", "document": "248.438.034-80", "amount": "50,00", "due_date": "\#(due)"}"#)
                #expect(r.status == 201, "\(r.body)")
            }
            var otto = try await ConsoleSession(api)
            _ = try await otto.signIn(key)
            let queue = try await otto.get("/ops/revisao?regra=K007")
            #expect(queue.body.contains("R1") && queue.body.contains("R2") && queue.body.contains("K007"), "\(queue.body)")
            #expect(!(try await otto.get("/ops/revisao?regra=K002").body.contains("R1")))
            let decided = try await otto.post("/ops/revisao", [("divida", "\(client.id)/R1"), ("divida", "\(client.id)/R2"),
                                                                ("decisao", "reject"), ("nota", "Prescrita")])
            #expect(decided.status == 303 && (decided.header("Location") ?? "").contains("aviso="), "\(decided.header("Location") ?? "")")
            #expect(try await api.get("/v1/debts/R1", key: client.key).json["status"]?.string == "rejected")
            #expect(try await api.get("/v1/debts/R2", key: client.key).json["status"]?.string == "rejected")
            let audit = try await AuditLog(db: runtime.db).list(AuditFilter(action: "review."), page: 1, perPage: 10).items
            #expect(audit.count == 2)
            #expect(audit.allSatisfy { $0.before == #"{"status":"review"}"# && $0.after == #"{"note":"Prescrita","status":"rejected"}"# })
            // Deciding again is refused whole, with the reason.
            let again = try await otto.post("/ops/revisao", [("divida", "\(client.id)/R1"), ("decisao", "approve")])
            #expect((again.header("Location") ?? "").contains("erro="))

            // A notification given up is sent again.
            try await runtime.db.write { c in
                try await c.execute("""
                    INSERT INTO notifications (client_id, batch_id, event, endpoint_id, payload, state, attempts, next_at, created_at)
                    VALUES (\(client.id), 'b-1', 'batch.completed', 'e-1', '{}', 'dead', 8, \(Date()), \(Date()))
                    """)
            }
            let dead = try await otto.get("/ops/notificacoes?estado=dead")
            let id = try #require(dead.body.firstMatch(of: /reenviar-(\d+)/).map { String($0.output.1) })
            #expect(try await otto.post("/ops/notificacoes/\(id)/reenviar").status == 303)
            #expect(try await InProcessEsteira.sql(runtime, "SELECT state FROM notifications WHERE id = \(id)") == "pending")
            #expect(try await otto.post("/ops/notificacoes/\(id)/reenviar").header("Location")?.contains("erro=") == true)

            // The lake: a month whose files are not in the inbox is refused, naming the file.
            let lake = try await otto.post("/ops/lago/rodar", [("mes", "2025-03")])
            #expect((lake.header("Location") ?? "").contains("tb_faturas_202503.csv"), "\(lake.header("Location") ?? "")")
        }
    }

    /// Held back from finalizing (the in-process worker takes every step but finalize), a batch
    /// has registered both its sub-batches and reads `processing`.
    @Test("a cancelled batch ends cancelled, registers nothing more, and keeps and lists what it registered; a viewer cannot cancel",
          arguments: InProcessEsteira.dialects)
    func cancelBatch(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect, kinds: JobKind.allCases.filter { $0 != .finalize }) { api, runtime in
            let (_, key) = try await OperatorStore(db: runtime.db).create(name: "Otto Operador", role: .operator)
            let (_, viewerKey) = try await OperatorStore(db: runtime.db).create(name: "Vera Leitura", role: .viewer)
            let client = try await InProcessEsteira.client(runtime)
            let past = TestCalendar.year(-1)
            // Four rows, two sub-batches of two (the test client's size).
            let file = "external_id,name,document,amount,due_date\nK1,Ana,248.438.034-80,10.00,\(past)-01-01\n"
                + "K2,Bia,111.444.777-35,1.00,\(past)-01-01\nK3,Caio,529.982.247-25,3.00,\(past)-02-01\nK4,Davi,248.438.034-80,4.00,\(past)-02-01\n"
            let id = try await api.upload(Array(file.utf8), key: client.key, name: "cancelar.csv")
            let queue = JobQueue(db: runtime.db)
            for _ in 0..<400 {
                if try await queue.list(state: .queued).contains(where: { $0.batchID == id && $0.kind == .finalize }) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await api.get("/v1/batches/\(id)", key: client.key).json["status"]?.string == "processing")

            var viewer = try await ConsoleSession(api)
            _ = try await viewer.signIn(viewerKey)
            #expect(try await viewer.post("/ops/lotes/\(id)/cancelar").status == 403)
            var otto = try await ConsoleSession(api)
            _ = try await otto.signIn(key)
            #expect(try await otto.get("/ops/lotes/\(id)").body.contains("id=\"cancelar\""))
            let cancelled = try await otto.post("/ops/lotes/\(id)/cancelar")
            #expect(cancelled.status == 303 && (cancelled.header("Location") ?? "").contains("aviso="), "\(cancelled.header("Location") ?? "")")

            // Both sub-batches had committed: 4 registered stay; nothing else runs for it.
            let batch = try await api.get("/v1/batches/\(id)", key: client.key).json
            #expect(batch["status"]?.string == "cancelled", "\(batch)")
            #expect(batch["counts", "registered"]?.int == 4)
            #expect(try await api.get("/v1/debts/K3", key: client.key).json["status"]?.string == "registered")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT state || ':' || COALESCE(last_error, '') FROM jobs WHERE batch_id = '\(id)' AND kind = 'finalize'")
                    == "done:cancelado pela operação")
            let page = try await otto.get("/ops/lotes/\(id)").body
            #expect(page.contains("Cancelado pela equipe de operação") && page.contains("K1") && page.contains("K4"))
            #expect(!page.contains("id=\"cancelar\""))
            // Once final, a second cancellation changes nothing.
            #expect((try await otto.post("/ops/lotes/\(id)/cancelar").header("Location") ?? "").contains("erro="))
            let audit = try await AuditLog(db: runtime.db).list(AuditFilter(action: "batch.cancel"), page: 1, perPage: 10).items
            #expect(audit.count == 1)
            #expect(audit.first?.before == #"{"status":"processing"}"#)
            #expect(audit.first?.after == #"{"registered":"4","status":"cancelled"}"#)
        }
    }

    /// The in-process worker takes every kind of job but `transform` and `cleanup`, so the dead
    /// jobs of those kinds made here stay where the console puts them.
    @Test("admins make clients and operators, change roles, issue and revoke keys, deactivate; operators retry one job, a batch's or every dead job of a kind, and run a lake month; the API's alert targets and ledger events are audited",
          arguments: InProcessEsteira.dialects)
    func managementAndRetries(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect, kinds: JobKind.allCases.filter { $0 != .cleanup && $0 != .transform }) { api, runtime in
            let operators = OperatorStore(db: runtime.db)
            let (_, adminKey) = try await operators.create(name: "Ana Admin", role: .admin)
            var admin = try await ConsoleSession(api)
            _ = try await admin.signIn(adminKey)

            // A client made in the console: its key, shown once, works; revoked, it stops.
            let made = try await admin.post("/ops/clientes", [("nome", "Nova Loja"), ("documento", "11.222.333/0001-81"), ("parte", "100")])
            #expect(made.status == 200, "\(made.status)")
            let key = try #require(made.body.firstMatch(of: /est_[0-9a-f]{40}/).map { String($0.output) })
            #expect(try await api.get("/v1/batches", key: key).status == 200)
            let bad = try await admin.post("/ops/clientes", [("nome", "X"), ("documento", "11.222.333/0001-00")])
            #expect(bad.status == 422 && bad.body.contains("não é um CNPJ ou CPF válido"))
            let client = try #require(try await ClientStore(db: runtime.db).list().first { $0.name == "Nova Loja" })
            #expect(client.subBatchSize == 100)
            #expect(try await admin.post("/ops/clientes/\(client.id)/revogar").status == 303)
            #expect(try await api.get("/v1/batches", key: key).status == 401)

            // An operator made viewer, then given the operator's role, then a new key, then deactivated.
            let page = try await admin.post("/ops/operadores", [("nome", "Rui Rodrigues"), ("papel", "viewer")])
            let ruiKey = try #require(page.body.firstMatch(of: /op_[0-9a-f]{40}/).map { String($0.output) })
            let rui = try #require(try await operators.list().first { $0.name == "Rui Rodrigues" })
            var ruiSession = try await ConsoleSession(api)
            _ = try await ruiSession.signIn(ruiKey)
            #expect(try await ruiSession.post("/ops/tarefas/reprocessar").status == 403)
            #expect(try await admin.post("/ops/operadores/\(rui.id)/papel?papel=operator").status == 303)
            #expect(try await ruiSession.post("/ops/tarefas/reprocessar").status == 303)  // the same session, the new role
            let renewed = try await admin.post("/ops/operadores/\(rui.id)/chave")
            let ruiNewKey = try #require(renewed.body.firstMatch(of: /op_[0-9a-f]{40}/).map { String($0.output) })
            #expect(try await api.get("/v1/admin/lake/runs", key: ruiKey).status == 401)
            #expect(try await api.get("/v1/admin/lake/runs", key: ruiNewKey).status == 200)
            // The key changed: the session opened with the old one still holds (it is the
            // operator's, not the key's); deactivation ends it.
            #expect(try await admin.post("/ops/operadores/\(rui.id)/desativar").status == 303)
            #expect(try await ruiSession.get("/ops/lotes").header("Location") == "/ops/entrar")
            #expect(try await api.get("/v1/admin/lake/runs", key: ruiNewKey).status == 401)
            // An admin may not deactivate itself nor drop its own role.
            let me = try #require(try await operators.list().first { $0.name == "Ana Admin" })
            #expect(try await admin.post("/ops/operadores/\(me.id)/desativar").status == 422)
            #expect(try await admin.post("/ops/operadores/\(me.id)/papel?papel=viewer").status == 422)

            // Dead jobs: two transforms of one batch and a cleanup of another; retried one, then by
            // batch, then by kind.
            let queue = JobQueue(db: runtime.db)
            try await runtime.db.write { c in
                for (kind, batch, seq) in [("transform", "b-1", 0), ("transform", "b-1", 1), ("cleanup", "b-2", -1)] {
                    try await c.execute(SQL(stringLiteral: """
                        INSERT INTO jobs (kind, batch_id, seq, state, attempts, max_attempts, run_at, last_error, trace_id, created_at, updated_at)
                        VALUES ('\(kind)', '\(batch)', \(seq), 'dead', 2, 2, '2020-01-01T00:00:00.000Z', 'falhou', 't', '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z')
                        """))
                }
            }
            let dead = try await queue.list(state: .dead)
            #expect(dead.count == 3)
            let jobsPage = try await admin.get("/ops/tarefas")
            #expect(jobsPage.body.contains("reprocessar-\(dead[0].id)") && jobsPage.body.contains("Reprocessar todas as 3"))
            #expect(try await admin.post("/ops/tarefas/\(dead[0].id)/reprocessar").status == 303)
            #expect(try await queue.get(id: dead[0].id)?.state == .queued)
            #expect(try await admin.post("/ops/lotes/b-1/reprocessar").status == 303)
            #expect(try await queue.get(id: dead[1].id)?.state == .queued)
            #expect(try await queue.get(id: dead[2].id)?.state == .dead)
            #expect(try await admin.post("/ops/tarefas/reprocessar?tipo=transform").status == 303)
            #expect(try await queue.get(id: dead[2].id)?.state == .dead)
            #expect(try await admin.post("/ops/tarefas/reprocessar?tipo=cleanup").status == 303)
            #expect(try await queue.list(state: .dead).isEmpty)

            // A lake month whose files are in the inbox starts a run.
            for table in LakeTable.allCases {
                try await runtime.blobs.put(key: LakeMonth("2025-03")!.inboxKey(table), bytes: Array("x\n".utf8))
            }
            let started = try await admin.post("/ops/lago/rodar", [("mes", "2025-03")])
            #expect((started.header("Location") ?? "").contains("aviso="), "\(started.header("Location") ?? "")")
            #expect(try await LakeRunStore(db: runtime.db).list().first?.month == "2025-03")

            // The operators' API's own actions are audited too.
            let target = try await api.post("/v1/admin/alert-targets", key: adminKey, json: #"{"address": "operacao@agencia.test"}"#)
            #expect(target.status == 201, "\(target.body)")
            #expect(try await api.request(.put, "/v1/admin/ledger/events/PIX", key: adminKey,
                                          body: #"{"description": "PIX recebido", "active": true, "allows_debit": false, "allows_credit": true}"#).status == 200)

            let audit = try await AuditLog(db: runtime.db).list(AuditFilter(), page: 1, perPage: 100).items
            let actions = audit.map(\.action)
            for action in ["client.create", "client.key_revoke", "operator.create", "operator.role", "operator.key_issue", "operator.deactivate",
                           "job.retry", "lake.run", "alert_target.create", "ledger.event"] {
                #expect(actions.contains(action), "no \(action) in \(actions)")
            }
            #expect(actions.filter { $0 == "job.retry" }.count == 3)
            #expect(audit.first { $0.action == "operator.role" }?.before == #"{"role":"viewer"}"#)
            #expect(audit.first { $0.action == "operator.role" }?.after == #"{"role":"operator"}"#)
            #expect(audit.first { $0.action == "alert_target.create" }?.actor.channel == "api")
            #expect(audit.first { $0.action == "ledger.event" }?.before == nil)
        }
    }
}
