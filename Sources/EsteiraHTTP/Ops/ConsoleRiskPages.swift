import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// The console's blacklist (list, search, add, remove, import, history) and review queue.
extension ConsoleRoutes {
    func addBlacklist(to ops: RouterGroup<EsteiraRequestContext>) {
        ops.get("bloqueio", use: blacklistPage)
        ops.post("bloqueio", use: blacklistAdd)
        ops.post("bloqueio/importar", use: blacklistImport)
        ops.get("bloqueio/:documento", use: blacklistEntry)
        ops.post("bloqueio/:documento/remover", use: blacklistRemove)
    }

    func addReviews(to ops: RouterGroup<EsteiraRequestContext>) {
        ops.get("revisao", use: reviewQueue)
        ops.post("revisao", use: reviewDecide)
    }

    // MARK: - Blacklist

    func blacklistList(_ request: Request, _ op: OperatorRecord, notice: String? = nil, error: String? = nil,
                       status: HTTPResponse.Status = .ok) async throws -> Response {
        let q = Self.query(request, "q")
        var page = Self.page("Lista de bloqueio", request)
        if let notice { page.notice = notice }
        if let error { page.error = error }
        page.form(id: "busca", action: "/ops/bloqueio", method: "get", submit: "Buscar", [.text("Documento ou motivo", "q", q)])
        let n = Self.pageNumber(request)
        let list = try await views.blacklist(search: q, page: n, perPage: Self.perPage)
        page.table(id: "bloqueio", ["Documento", "Motivo", "Desde", "Última mudança"], list.items.map { e in
            [.link(TaxID.mask(e.document), "/ops/bloqueio/\(e.document)"), .text(e.reason), .text(Self.when(e.createdAt)), .text(Self.when(e.updatedAt))]
        }, empty: "Nenhum documento na lista com esta busca.")
        page.pager(page: n, perPage: Self.perPage, total: list.total) { Self.address("/ops/bloqueio", [("q", q), ("pagina", "\($0)")]) }
        if op.role.allows(.operator) {
            page.heading("Incluir ou alterar")
            page.form(id: "incluir", action: "/ops/bloqueio", submit: "Incluir na lista", [
                .text("CPF ou CNPJ", "documento", required: true), .text("Motivo", "motivo", required: true),
            ])
            page.heading("Importar CSV")
            page.paragraph("Cole o CSV: um cabeçalho (documento;motivo) e uma linha por documento. Ou todas as linhas entram, ou nenhuma.")
            page.form(id: "importar", action: "/ops/bloqueio/importar", submit: "Importar", [.area("Conteúdo do CSV", "csv")])
        }
        return render(page, op, here: "/ops/bloqueio", status: status)
    }

    @Sendable func blacklistPage(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in try await blacklistList(request, op) }
    }

    @Sendable func blacklistAdd(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.operator, context) { op in
            let form = try await Self.form(request)
            let reason = (form["motivo"] ?? "").trimmingCharacters(in: .whitespaces)
            guard case .success(let document) = TaxID.parse(form["documento"] ?? "") else {
                return try await blacklistList(request, op, error: "O documento não é um CPF ou CNPJ válido.", status: .unprocessableContent)
            }
            guard !reason.isEmpty else { return try await blacklistList(request, op, error: "Informe o motivo.", status: .unprocessableContent) }
            try await BlacklistStore(db: db).put([(document.value, reason)], by: .console(op))
            risk.blacklist.invalidate()
            return Self.back("/ops/bloqueio/\(document.value)", notice: "Documento na lista de bloqueio.")
        }
    }

    @Sendable func blacklistImport(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.operator, context) { op in
            let form = FormBody.parse(try await request.body.collect(atMost: 32 << 20))
            let parsed: (items: [(document: String, reason: String)], errors: [AdminRoutes.ImportError])
            do {
                parsed = try AdminRoutes.parseImport(Array((form["csv"] ?? "").utf8))
            } catch let e as APIError {
                return try await blacklistList(request, op, error: e.message, status: .unprocessableContent)
            }
            guard parsed.errors.isEmpty else {
                var page = Self.page("Importação recusada", request)
                page.error = "Nenhuma linha foi importada: corrija as \(parsed.errors.count) linha(s) listadas e importe de novo."
                page.table(id: "relatorio", ["Linha", "Campo", "Código", "Motivo"], parsed.errors.map {
                    [.number($0.line), .text($0.field ?? ""), .text($0.code), .text($0.message)]
                })
                page.links([("Voltar à lista", "/ops/bloqueio", "voltar")])
                return render(page, op, here: "/ops/bloqueio", status: .unprocessableContent)
            }
            let added = try await BlacklistStore(db: db).put(parsed.items, by: .console(op))
            risk.blacklist.invalidate()
            return Self.back("/ops/bloqueio", notice: "Importação concluída: \(added) incluído(s), \(parsed.items.count - added) alterado(s).")
        }
    }

    @Sendable func blacklistEntry(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in
            guard case .success(let id) = TaxID.parse(context.parameters.get("documento") ?? "") else {
                return render(Self.notFound("Documento"), op, status: .notFound)
            }
            let store = BlacklistStore(db: db)
            var page = Self.page("Documento \(TaxID.mask(id.value))", request)
            let names = Dictionary(uniqueKeysWithValues: try await operators.list().map { ($0.id, $0.name) })
            if let e = try await store.get(document: id.value) {
                page.figures([("Situação", "bloqueado", nil, "situacao"), ("Motivo", e.reason, nil, "motivo")])
                if op.role.allows(.operator) {
                    page.form(id: "remover", action: "/ops/bloqueio/\(id.value)/remover", submit: "Remover da lista", danger: true,
                              [.text("Motivo da remoção", "motivo")])
                }
            } else {
                page.figures([("Situação", "fora da lista", nil, "situacao")])
            }
            page.heading("Histórico")
            page.table(id: "historico", ["Quando", "Ação", "Motivo", "Operador"], try await store.history(document: id.value).reversed().map { h in
                [.text(Self.when(h.at)), .text(["added": "incluído", "changed": "alterado", "removed": "removido"][h.action] ?? h.action),
                 .text(h.reason ?? ""), .text(names[h.operatorID] ?? h.operatorID)]
            }, empty: "Este documento nunca esteve na lista.")
            return render(page, op, here: "/ops/bloqueio")
        }
    }

    @Sendable func blacklistRemove(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.operator, context) { op in
            let document = context.parameters.get("documento") ?? ""
            let reason = (try await Self.form(request)["motivo"] ?? "").trimmingCharacters(in: .whitespaces)
            let removed = try await BlacklistStore(db: db).delete(document: document, reason: reason.isEmpty ? nil : reason, by: .console(op))
            risk.blacklist.invalidate()
            return Self.back("/ops/bloqueio/\(document)", notice: removed ? "Documento removido da lista." : nil,
                             error: removed ? nil : "O documento não estava na lista.")
        }
    }

    // MARK: - Reviews

    @Sendable func reviewQueue(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in
            let rule = Self.query(request, "regra")
            var page = Self.page("Revisão de dívidas marcadas", request)
            page.form(id: "filtro", action: "/ops/revisao", method: "get", submit: "Filtrar", [
                .choice("Regra", "regra", [("", "todas")] + RiskRule.allCases.map { ($0.rawValue, $0.rawValue) }, selected: rule),
            ])
            let n = Self.pageNumber(request)
            let list = try await views.reviewQueue(rule: rule, page: n, perPage: Self.perPage)
            let canAct = op.role.allows(.operator)
            page.table(id: "revisao", (canAct ? [""] : []) + ["Cliente", "Dívida", "Documento", "Valor", "Vencimento", "Regras"], list.items.map { d in
                (canAct ? [.check(form: "decidir", name: "divida", value: "\(d.clientID)/\(d.externalID)")] : [])
                + [.text(d.clientName), .text(d.externalID), .text(TaxID.mask(d.document)), .text(Money.brazilian(cents: d.amountCents)),
                   .text(d.dueDate.brazilian), .text(d.reasons.map { "\($0.rule.rawValue): \($0.message)" }.joined(separator: "; "))]
            }, empty: "Nenhuma dívida esperando decisão.")
            page.pager(page: n, perPage: Self.perPage, total: list.total) { Self.address("/ops/revisao", [("regra", rule), ("pagina", "\($0)")]) }
            if canAct && list.total > 0 {
                page.form(id: "decidir", action: Self.address("/ops/revisao", [("regra", rule)]), submit: "Aplicar às marcadas", [
                    .choice("Decisão", "decisao", [("approve", "aprovar (registrar)"), ("reject", "rejeitar")], selected: "approve"),
                    .text("Observação", "nota"),
                ])
            }
            return render(page, op, here: "/ops/revisao")
        }
    }

    @Sendable func reviewDecide(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.operator, context) { op in
            let pairs = FormBody.pairs(try await request.body.collect(atMost: 256 * 1024))
            let decisionText = pairs.last { $0.name == "decisao" }?.value ?? ""
            let note = (pairs.last { $0.name == "nota" }?.value ?? "").trimmingCharacters(in: .whitespaces)
            let chosen = pairs.filter { $0.name == "divida" }.compactMap { p -> (String, String)? in
                guard let slash = p.value.firstIndex(of: "/") else { return nil }
                return (String(p.value[..<slash]), String(p.value[p.value.index(after: slash)...]))
            }
            let back = Self.address("/ops/revisao", [("regra", Self.query(request, "regra"))])
            guard let decision = ReviewDecision(rawValue: decisionText) else { return Self.back(back, error: "Escolha aprovar ou rejeitar.") }
            guard !chosen.isEmpty, chosen.count <= ReviewRoutes.maxDecisions else {
                return Self.back(back, error: "Marque de 1 a \(ReviewRoutes.maxDecisions) dívidas.")
            }
            guard note.count <= 500, ControlCharacters.first(in: note) == nil else {
                return Self.back(back, error: "A observação tem até 500 caracteres, sem caracteres de controle.")
            }
            do {
                _ = try await DebtReviews(db: db).decide(chosen.map {
                    ReviewDecisionRequest(clientID: $0.0, externalID: $0.1, decision: decision, note: note.isEmpty ? nil : note)
                }, by: .console(op))
            } catch let refusal as ReviewRefusal {
                return Self.back(back, error: "Nada foi decidido: " + refusal.issues.map(\.message).joined(separator: " "))
            }
            return Self.back(back, notice: "\(chosen.count) dívida(s) \(decision == .approve ? "aprovada(s)" : "rejeitada(s)").")
        }
    }
}
