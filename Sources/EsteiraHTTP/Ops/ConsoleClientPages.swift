import EsteiraCore
import EsteiraNotify
import EsteiraStore
import Foundation
import Hummingbird

/// The console's clients (list, creation, settings, keys, deactivation) and operators.
extension ConsoleRoutes {
    func addClients(to ops: RouterGroup<EsteiraRequestContext>) {
        ops.get("clientes", use: clientList)
        ops.post("clientes", use: createClient)
        ops.get("clientes/:id", use: clientPage)
        ops.post("clientes/:id", use: updateClient)
        ops.post("clientes/:id/limites", use: clientLimits)
        ops.post("clientes/:id/cotas", use: clientQuotas)
        ops.post("clientes/:id/chave", use: issueClientKey)
        ops.post("clientes/:id/revogar", use: revokeClientKey)
        ops.post("clientes/:id/chaves", use: issueNamedClientKey)
        ops.post("clientes/:id/chaves/:key/revogar", use: revokeOneClientKey)
        ops.post("clientes/:id/desativar", use: deactivateClient)
        ops.post("clientes/:id/formato", use: clientDefaultFormat)
        ops.post("clientes/:id/webhooks", use: addClientWebhook)
        ops.post("clientes/:id/emails", use: addClientEmail)
        ops.post("clientes/:id/webhooks/:endpoint/remover", use: removeClientWebhook)
        ops.post("clientes/:id/emails/:recipient/remover", use: removeClientEmail)
    }

    func addOperators(to ops: RouterGroup<EsteiraRequestContext>) {
        ops.get("operadores", use: operatorList)
        ops.post("operadores", use: createOperator)
        ops.post("operadores/:id/papel", use: operatorRole)
        ops.post("operadores/:id/chave", use: issueOperatorKey)
        ops.post("operadores/:id/desativar", use: deactivateOperator)
    }

    static func keyText(_ revoked: Bool, _ hint: String?) -> String { revoked ? "revogada" : "…" + (hint ?? "") }

    // MARK: - Clients

    func clientListPage(_ request: Request, _ op: OperatorRecord, secret: (String, String)? = nil, error: String? = nil) async throws -> Response {
        let q = Self.query(request, "q")
        var page = Self.page("Clientes", request)
        if let error { page.error = error }
        page.secret = secret
        page.form(id: "busca", action: "/ops/clientes", method: "get", submit: "Buscar", [.text("Nome, CNPJ/CPF ou id", "q", q)])
        let n = Self.pageNumber(request)
        let list = try await ClientStore(db: db).search(q, page: n, perPage: Self.perPage)
        page.table(id: "clientes", ["Nome", "Documento", "Chave", "Situação", "Linhas por parte", "Desde"], list.items.map { c in
            [.link(c.name, "/ops/clientes/\(c.id)"), .text(TaxID.mask(c.document)), .text(Self.keyText(c.keyRevoked, c.apiKeyHint)),
             .text(c.deactivated ? "desativado" : "ativo"), .number(c.subBatchSize), .text(Self.when(c.createdAt))]
        }, empty: "Nenhum cliente encontrado.")
        page.pager(page: n, perPage: Self.perPage, total: list.total) { Self.address("/ops/clientes", [("q", q), ("pagina", "\($0)")]) }
        if op.role.allows(.admin) {
            page.heading("Novo cliente")
            page.form(id: "novo-cliente", action: "/ops/clientes", submit: "Cadastrar cliente", [
                .text("Nome da empresa", "nome", required: true), .text("CNPJ ou CPF", "documento", required: true),
                .text("Linhas por parte", "parte", "20000", type: "number"),
            ])
        }
        return render(page, op, here: "/ops/clientes", status: error == nil ? .ok : .unprocessableContent)
    }

    @Sendable func clientList(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in try await clientListPage(request, op) }
    }

    @Sendable func createClient(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let form = try await Self.form(request)
            let name = (form["nome"] ?? "").trimmingCharacters(in: .whitespaces)
            let size = Int(form["parte"] ?? "") ?? 20_000
            guard !name.isEmpty else { return try await clientListPage(request, op, error: "Informe o nome da empresa.") }
            guard case .success(let document) = TaxID.parse(form["documento"] ?? "") else {
                return try await clientListPage(request, op, error: "O documento não é um CNPJ ou CPF válido.")
            }
            guard (1...1_000_000).contains(size) else {
                return try await clientListPage(request, op, error: "Linhas por parte: de 1 a 1.000.000.")
            }
            let (client, key) = try await ClientStore(db: db).create(name: name, document: document.value, subBatchSize: size,
                                                                     traceID: BatchRecord.newTraceID(), by: .console(op))
            return try await clientListPage(request, op, secret: ("Cliente \(client.name) cadastrado. A chave de API dele é:", key))
        }
    }

    func clientDetail(_ request: Request, _ op: OperatorRecord, id: String, secret: (String, String)? = nil,
                      error: String? = nil) async throws -> Response {
        guard let c = try await ClientStore(db: db).get(id: id) else { return render(Self.notFound("Cliente"), op, status: .notFound) }
        var page = Self.page("Cliente \(c.name)", request)
        page.secret = secret
        if let error { page.error = error }
        let month = try await views.clientMonth(clientID: c.id, today: Day(Date(), in: Day.saoPaulo))
        func rate(_ part: Int) -> String { month.rows == 0 ? "—" : String(format: "%.1f%%", Double(part) * 100 / Double(month.rows)) }
        page.figures([("Situação", c.deactivated ? "desativado" : "ativo", nil, "situacao"), ("Documento", TaxID.mask(c.document), nil, "documento"),
                      ("Chave", Self.keyText(c.keyRevoked, c.apiKeyHint), nil, "chave-atual"),
                      ("Linhas no mês", ConsolePage.grouped(month.rows), "/ops/lotes?cliente=\(c.id)", "linhas-mes"),
                      ("Rejeição no mês", rate(month.rejected), nil, "taxa-rejeicao"), ("Revisão no mês", rate(month.review), nil, "taxa-revisao")])
        if op.role.allows(.admin) && !c.deactivated {
            page.heading("Cadastro")
            page.form(id: "cadastro", action: "/ops/clientes/\(c.id)", submit: "Salvar", [
                .text("Nome da empresa", "nome", c.name, required: true), .text("Linhas por parte", "parte", "\(c.subBatchSize)", type: "number"),
            ])
            page.heading("Limites de valor (regras de risco)")
            page.form(id: "limites", action: "/ops/clientes/\(c.id)/limites", submit: "Salvar limites", [
                .text("Valor máximo (vazio: o padrão)", "maximo", c.maxAmountCents.map { Money.decimalString(cents: $0) } ?? ""),
                .text("Valor mínimo (vazio: o padrão)", "minimo", c.minAmountCents.map { Money.decimalString(cents: $0) } ?? ""),
            ])
            page.heading("Cotas (vazio: o padrão da agência)")
            page.form(id: "cotas", action: "/ops/clientes/\(c.id)/cotas", submit: "Salvar cotas", [
                .text("Requisições por segundo", "requisicoes", c.requestsPerSecond.map { "\($0)" } ?? "", type: "number"),
                .text("Linhas por dia", "linhas", c.rowsPerDay.map { "\($0)" } ?? "", type: "number"),
            ])
            page.heading("Chaves de API")
            let now = Date()
            let keys = try await KeyStore(db: db).list(owner: .client, ownerID: c.id)
            page.table(id: "chaves", ["Nome", "Final", "Criada", "Expira", "Último uso", "Situação", ""], keys.map { k in
                [.text(k.name), .text("…" + k.hint), .text(Self.time.string(from: k.createdAt)),
                 .text(k.expiresAt.map { Self.time.string(from: $0) } ?? "nunca"), .text(k.lastUsedAt.map { Self.time.string(from: $0) } ?? "nunca"),
                 .text(k.revokedAt != nil ? "revogada" : k.live(at: now) ? "válida" : "expirada"),
                 k.revokedAt == nil ? .post("Revogar", "/ops/clientes/\(c.id)/chaves/\(k.id)/revogar", id: "revogar-\(k.id)", danger: true) : .text("")]
            }, empty: "Nenhuma chave.")
            page.form(id: "emitir-chave", action: "/ops/clientes/\(c.id)/chaves", submit: "Emitir chave", [
                .text("Nome (para que serve)", "nome", "", required: true),
                .text("Validade em dias (vazio: sem validade)", "dias", "", type: "number"),
                .choice("Substitui a chave (que continua valendo por 24 horas)", "substitui",
                        [("", "nenhuma")] + keys.filter { $0.live(at: now) }.map { ($0.id, "\($0.name) …\($0.hint)") }, selected: ""),
            ])
            page.form(id: "nova-chave", action: "/ops/clientes/\(c.id)/chave", submit: "Trocar todas as chaves (as atuais param na hora)", [])
            if !c.keyRevoked {
                page.form(id: "revogar-chave", action: "/ops/clientes/\(c.id)/revogar", submit: "Revogar todas as chaves", danger: true, [])
            }
            page.heading("Formato padrão (SFTP e envios que não dizem o formato)")
            let formats = try await ClientFormatStore(db: db).list(clientID: c.id)
            page.form(id: "formato", action: "/ops/clientes/\(c.id)/formato", submit: "Salvar formato padrão", [
                .choice("Formato", "formato", [("", "nenhum (cabeçalho padrão)")] + formats.map { ($0.name, $0.name) },
                        selected: formats.first { $0.isDefault }?.name ?? ""),
            ])
            page.heading("Notificações do cliente")
            let store = NotificationStore(db: db)
            page.table(id: "notificacoes-cliente", ["Canal", "Destino", "Eventos", ""],
                       try await store.endpoints(clientID: c.id).map { e in
                [.text("webhook"), .text(e.url), .text(e.events.map(\.rawValue).joined(separator: ", ")),
                 .post("Remover", "/ops/clientes/\(c.id)/webhooks/\(e.id)/remover", id: "remover-webhook-\(e.id)", danger: true)]
            } + (try await store.recipients(clientID: c.id)).map { r in
                [.text("e-mail"), .text(r.address), .text(r.events.map(\.rawValue).joined(separator: ", ")),
                 .post("Remover", "/ops/clientes/\(c.id)/emails/\(r.id)/remover", id: "remover-email-\(r.id)", danger: true)]
            }, empty: "Nenhum webhook nem e-mail cadastrado.")
            page.paragraph("Eventos: separe por vírgulas (\(NotificationEvent.clientEvents.map(\.rawValue).joined(separator: ", "))); vazio, os de costume.")
            page.form(id: "novo-webhook", action: "/ops/clientes/\(c.id)/webhooks", submit: "Adicionar webhook", [
                .text("URL (https://…)", "url", required: true), .text("Eventos", "eventos"),
            ])
            page.form(id: "novo-email", action: "/ops/clientes/\(c.id)/emails", submit: "Adicionar e-mail", [
                .text("E-mail", "email", required: true), .text("Eventos", "eventos"),
            ])
            page.heading("Desativar")
            page.paragraph("Desativado, o cliente não entra mais (a chave e as sessões param na hora); os lotes, dívidas e o caixa ficam.")
            page.form(id: "desativar", action: "/ops/clientes/\(c.id)/desativar", submit: "Desativar o cliente", danger: true, [])
        }
        page.links([("Lotes deste cliente", "/ops/lotes?cliente=\(c.id)", "lotes-do-cliente"),
                    ("Histórico na auditoria", "/ops/auditoria?alvo=client:\(c.id)", "auditoria-do-cliente")])
        return render(page, op, here: "/ops/clientes", status: error == nil ? .ok : .unprocessableContent)
    }

    @Sendable func clientPage(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in try await clientDetail(request, op, id: context.parameters.get("id") ?? "") }
    }

    @Sendable func updateClient(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? "", form = try await Self.form(request)
            let name = (form["nome"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, let size = Int(form["parte"] ?? ""), (1...1_000_000).contains(size) else {
                return try await clientDetail(request, op, id: id, error: "Informe o nome e as linhas por parte (de 1 a 1.000.000).")
            }
            do { try await ClientStore(db: db).update(id: id, name: name, subBatchSize: size, by: .console(op)) } catch is StoreError {
                return render(Self.notFound("Cliente"), op, status: .notFound)
            }
            return Self.back("/ops/clientes/\(id)", notice: "Cadastro salvo.")
        }
    }

    @Sendable func clientLimits(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? "", form = try await Self.form(request)
            /// The amount typed, nil when empty; or the message for one that is not a positive amount.
            func cents(_ name: String) -> (Int64?, String?) {
                let text = (form[name] ?? "").trimmingCharacters(in: .whitespaces)
                if text.isEmpty { return (nil, nil) }
                guard case .success(let c) = Money.parseCents(text), c > 0 else {
                    return (nil, "O valor \(text) não é um valor positivo (use 1234,56).")
                }
                return (c, nil)
            }
            let (max, maxError) = cents("maximo"), (min, minError) = cents("minimo")
            if let e = maxError ?? minError { return try await clientDetail(request, op, id: id, error: e) }
            if let max, let min, min > max { return try await clientDetail(request, op, id: id, error: "O mínimo passa do máximo.") }
            do {
                try await ClientStore(db: db).setLimits(id: id, maxAmountCents: max, minAmountCents: min, by: .console(op))
            } catch is StoreError {
                return render(Self.notFound("Cliente"), op, status: .notFound)
            }
            return Self.back("/ops/clientes/\(id)", notice: "Limites salvos.")
        }
    }

    @Sendable func issueClientKey(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? ""
            guard let key = try? await ClientStore(db: db).revokeKey(id: id, issueNew: true, by: .console(op)) else {
                return try await clientDetail(request, op, id: id, error: "Cliente desativado ou inexistente: nenhuma chave emitida.")
            }
            return try await clientDetail(request, op, id: id, secret: ("A nova chave de API do cliente é:", key))
        }
    }

    @Sendable func clientQuotas(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? ""
            let form = try await Self.form(request)
            func number(_ name: String, _ range: ClosedRange<Int>) -> Int?? {
                let text = (form[name] ?? "").trimmingCharacters(in: .whitespaces)
                if text.isEmpty { return .some(nil) }
                guard let n = Int(text), range.contains(n) else { return nil }
                return .some(n)
            }
            guard let rate = number("requisicoes", 1...1_000_000), let rows = number("linhas", 1...Int.max) else {
                return try await clientDetail(request, op, id: id, error: "As cotas são números inteiros a partir de 1 (requisições até 1.000.000).")
            }
            do {
                try await ClientStore(db: db).setQuotas(id: id, requestsPerSecond: rate, rowsPerDay: rows, by: .console(op))
            } catch is StoreError {
                return render(Self.notFound("Cliente"), op, status: .notFound)
            }
            return Self.back("/ops/clientes/\(id)", notice: "Cotas salvas.")
        }
    }

    /// A named key, with a validity and, when it replaces one, 24 hours in which both work.
    @Sendable func issueNamedClientKey(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? ""
            let form = try await Self.form(request)
            let name = (form["nome"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let daysText = (form["dias"] ?? "").trimmingCharacters(in: .whitespaces)
            let days = Int(daysText)
            guard (1...80).contains(name.count) else { return try await clientDetail(request, op, id: id, error: "Dê à chave um nome de 1 a 80 caracteres.") }
            guard daysText.isEmpty || days.map({ (1...KeyRoutes.maxDays).contains($0) }) == true else {
                return try await clientDetail(request, op, id: id, error: "A validade vai de 1 a \(KeyRoutes.maxDays) dias.")
            }
            let rotating = form["substitui"].flatMap { $0.isEmpty ? nil : $0 }
            let now = Date()
            guard let (_, secret) = try await KeyStore(db: db).issue(owner: .client, ownerID: id, name: name,
                                                                     expiresAt: days.map { now.addingTimeInterval(Double($0) * 86_400) },
                                                                     rotating: rotating, overlap: 24 * 3600, by: .console(op), now: now) else {
                return try await clientDetail(request, op, id: id, error: "Cliente desativado, ou a chave a substituir não vale mais: nenhuma chave emitida.")
            }
            return try await clientDetail(request, op, id: id, secret: ("A nova chave de API \"\(name)\" do cliente é:", secret))
        }
    }

    @Sendable func revokeOneClientKey(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? "", key = context.parameters.get("key") ?? ""
            let done = try await KeyStore(db: db).revoke(owner: .client, ownerID: id, keyID: key, by: .console(op))
            return Self.back("/ops/clientes/\(id)", notice: done ? "Chave revogada." : nil, error: done ? nil : "Essa chave já não valia.")
        }
    }

    @Sendable func revokeClientKey(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? ""
            _ = try? await ClientStore(db: db).revokeKey(id: id, issueNew: false, by: .console(op))
            return Self.back("/ops/clientes/\(id)", notice: "Chave revogada.")
        }
    }

    @Sendable func deactivateClient(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? ""
            let done = try await ClientStore(db: db).deactivate(id: id, by: .console(op))
            return Self.back("/ops/clientes/\(id)", notice: done ? "Cliente desativado: a chave parou agora." : nil,
                             error: done ? nil : "O cliente já estava desativado.")
        }
    }

    @Sendable func clientDefaultFormat(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? ""
            let name = (try await Self.form(request)["formato"] ?? "").trimmingCharacters(in: .whitespaces)
            let ok = try await ClientFormatStore(db: db).setDefault(clientID: id, name: name.isEmpty ? nil : name, by: .console(op))
            return Self.back("/ops/clientes/\(id)", notice: ok ? "Formato padrão salvo." : nil, error: ok ? nil : "O cliente não tem esse formato.")
        }
    }

    /// The events typed, comma-separated; nil (the defaults) when none is.
    static func eventNames(_ text: String?) -> [String]? {
        let names = (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return names.isEmpty ? nil : names
    }

    @Sendable func addClientWebhook(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? "", form = try await Self.form(request)
            let url = (form["url"] ?? "").trimmingCharacters(in: .whitespaces)
            guard try await ClientStore(db: db).get(id: id) != nil else { return render(Self.notFound("Cliente"), op, status: .notFound) }
            do {
                try NotificationRoutes.requireWebURL(url)
                if !webhooksMayBePrivate, let refusal = await WebhookDestination.check(url: url) {
                    return try await clientDetail(request, op, id: id, error: "URL recusada: \(refusal).")
                }
                let events = try NotificationRoutes.events(Self.eventNames(form["eventos"]))
                let (_, secret) = try await NotificationStore(db: db).createEndpoint(clientID: id, url: url, events: events, by: .console(op))
                return try await clientDetail(request, op, id: id, secret: ("Webhook cadastrado. O segredo de assinatura, para o cliente, é:", secret))
            } catch let e as APIError {
                return try await clientDetail(request, op, id: id, error: e.message)
            }
        }
    }

    @Sendable func addClientEmail(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? "", form = try await Self.form(request)
            guard try await ClientStore(db: db).get(id: id) != nil else { return render(Self.notFound("Cliente"), op, status: .notFound) }
            do {
                let address = try NotificationRoutes.requireEmail(form["email"] ?? "")
                let events = try NotificationRoutes.events(Self.eventNames(form["eventos"]), defaults: NotificationEvent.emailDefaults)
                _ = try await NotificationStore(db: db).createRecipient(clientID: id, address: address, events: events, by: .console(op))
                return Self.back("/ops/clientes/\(id)", notice: "E-mail cadastrado.")
            } catch let e as APIError {
                return try await clientDetail(request, op, id: id, error: e.message)
            }
        }
    }

    @Sendable func removeClientWebhook(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? ""
            let ok = try await NotificationStore(db: db).deleteEndpoint(clientID: id, id: context.parameters.get("endpoint") ?? "", by: .console(op))
            return Self.back("/ops/clientes/\(id)", notice: ok ? "Webhook removido." : nil, error: ok ? nil : "Webhook não encontrado.")
        }
    }

    @Sendable func removeClientEmail(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? ""
            let ok = try await NotificationStore(db: db).deleteRecipient(clientID: id, id: context.parameters.get("recipient") ?? "", by: .console(op))
            return Self.back("/ops/clientes/\(id)", notice: ok ? "E-mail removido." : nil, error: ok ? nil : "E-mail não encontrado.")
        }
    }

    // MARK: - Operators

    static let roles: [(String, String)] = OperatorRole.allCases.map { ($0.rawValue, $0.portugueseName) }

    func operatorListPage(_ request: Request, _ op: OperatorRecord, secret: (String, String)? = nil, error: String? = nil) async throws -> Response {
        var page = Self.page("Operadores", request)
        page.secret = secret
        if let error { page.error = error }
        let all = try await operators.list()
        page.table(id: "operadores", ["Nome", "Papel", "Chave", "Situação", "Desde", "Ações"], all.map { o in
            var actions = ConsolePage.Cell()
            if !o.deactivated {
                actions.posts = OperatorRole.allCases.filter { $0 != o.role }.map {
                    .init(label: "Tornar \($0.portugueseName)", action: "/ops/operadores/\(o.id)/papel?papel=\($0.rawValue)", id: "papel-\(o.id)-\($0.rawValue)")
                } + [.init(label: "Nova chave", action: "/ops/operadores/\(o.id)/chave", id: "chave-\(o.id)")]
                if o.id != op.id {
                    actions.posts.append(.init(label: "Desativar", action: "/ops/operadores/\(o.id)/desativar", id: "desativar-\(o.id)", danger: true))
                }
            }
            return [.text(o.name), .text(o.role.portugueseName), .text(Self.keyText(o.keyRevoked, o.apiKeyHint)),
                    .text(o.deactivated ? "desativado" : "ativo"), .text(Self.when(o.createdAt)), actions]
        })
        page.heading("Novo operador")
        page.form(id: "novo-operador", action: "/ops/operadores", submit: "Cadastrar operador", [
            .text("Nome", "nome", required: true), .choice("Papel", "papel", Self.roles, selected: OperatorRole.viewer.rawValue),
        ])
        return render(page, op, here: "/ops/operadores", status: error == nil ? .ok : .unprocessableContent)
    }

    @Sendable func operatorList(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in try await operatorListPage(request, op) }
    }

    @Sendable func createOperator(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let form = try await Self.form(request)
            let name = (form["nome"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, let role = OperatorRole(rawValue: form["papel"] ?? "") else {
                return try await operatorListPage(request, op, error: "Informe o nome e o papel.")
            }
            let (made, key) = try await operators.create(name: name, role: role, by: .console(op))
            return try await operatorListPage(request, op, secret: ("Operador \(made.name) cadastrado. A chave dele é:", key))
        }
    }

    @Sendable func operatorRole(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? ""
            guard let role = OperatorRole(rawValue: Self.query(request, "papel")) else {
                return try await operatorListPage(request, op, error: "Papel desconhecido.")
            }
            guard id != op.id || role == .admin else {
                return try await operatorListPage(request, op, error: "Você não pode tirar o seu próprio papel de administração.")
            }
            let ok = try await operators.setRole(id: id, role, by: .console(op))
            return Self.back("/ops/operadores", notice: ok ? "Papel alterado." : nil, error: ok ? nil : "Operador não encontrado.")
        }
    }

    @Sendable func issueOperatorKey(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? ""
            guard let key = try await operators.issueKey(id: id, by: .console(op)) else {
                return try await operatorListPage(request, op, error: "Operador desativado ou inexistente.")
            }
            return try await operatorListPage(request, op, secret: ("A nova chave do operador é:", key))
        }
    }

    @Sendable func deactivateOperator(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.admin, context) { op in
            let id = context.parameters.get("id") ?? ""
            guard id != op.id else { return try await operatorListPage(request, op, error: "Você não pode desativar a si mesmo.") }
            let ok = try await operators.deactivate(id: id, by: .console(op))
            return Self.back("/ops/operadores", notice: ok ? "Operador desativado." : nil, error: ok ? nil : "O operador já estava desativado.")
        }
    }
}
