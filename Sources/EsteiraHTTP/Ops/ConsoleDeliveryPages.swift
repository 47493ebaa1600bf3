import EsteiraCore
import EsteiraLake
import EsteiraPipeline
import EsteiraStore
import Foundation
import Hummingbird

/// The console's notifications (deliveries by state, redelivery), the lake's runs and late
/// files, and the audit.
extension ConsoleRoutes {
    func addNotifications(to ops: RouterGroup<EsteiraRequestContext>) {
        ops.get("notificacoes", use: notificationList)
        ops.post("notificacoes/:id/reenviar", use: redeliver)
    }

    func addLake(to ops: RouterGroup<EsteiraRequestContext>) {
        ops.get("lago", use: lakePage)
        ops.post("lago/rodar", use: lakeRun)
    }

    func addAudit(to ops: RouterGroup<EsteiraRequestContext>) {
        ops.get("auditoria", use: auditPage)
        ops.get("auditoria.csv", use: auditCSV)
    }

    // MARK: - Notifications

    static let deliveryStates: [(String, String)] = [("dead", "desistidas"), ("pending", "pendentes"), ("delivered", "entregues")]

    @Sendable func notificationList(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in
            let state = Self.deliveryStates.contains { $0.0 == Self.query(request, "estado") } ? Self.query(request, "estado") : "dead"
            var page = Self.page("Notificações", request)
            page.form(id: "filtro", action: "/ops/notificacoes", method: "get", submit: "Filtrar",
                      [.choice("Estado", "estado", Self.deliveryStates, selected: state)])
            let n = Self.pageNumber(request)
            let list = try await views.notifications(state: state, page: n, perPage: Self.perPage)
            let names = Dictionary(uniqueKeysWithValues: try await ClientStore(db: db).list().map { ($0.id, $0.name) })
            let canAct = op.role.allows(.operator)
            page.table(id: "notificacoes", ["Id", "Para", "Evento", "Canal e destino", "Criada", "Tentativas", "Último erro", ""], list.items.map { n, client in
                let last = n.attempts.last
                let error = last.map { a in [a.statusCode.map { "HTTP \($0)" }, a.error].compactMap { $0 }.joined(separator: " · ") } ?? ""
                return [.text("\(n.id)"), .text(client == NotificationEvent.agency ? "operação (alerta)" : names[client] ?? client), .text(n.event),
                        .text("\(n.channel) \(n.url ?? n.address ?? "")"), .text(Self.when(n.createdAt)), .number(n.attempts.count),
                        .text(String(error.prefix(300))),
                        canAct && state != "pending" ? .post("Reenviar", "/ops/notificacoes/\(n.id)/reenviar", id: "reenviar-\(n.id)") : .text("")]
            }, empty: "Nenhuma notificação neste estado.")
            page.pager(page: n, perPage: Self.perPage, total: list.total) { Self.address("/ops/notificacoes", [("estado", state), ("pagina", "\($0)")]) }
            return render(page, op, here: "/ops/notificacoes")
        }
    }

    @Sendable func redeliver(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.operator, context) { op in
            let id = Int(context.parameters.get("id") ?? "") ?? -1
            let ok = try await views.redeliver(id: id, by: .console(op))
            return Self.back("/ops/notificacoes", notice: ok ? "Notificação \(id) será enviada de novo." : nil,
                             error: ok ? nil : "A notificação \(id) já está pendente (ou não existe).")
        }
    }

    // MARK: - Lake

    @Sendable func lakePage(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in
            var page = Self.page("Lago de dados", request)
            let runs = try await LakeRunStore(db: db).list(limit: 50)
            page.table(id: "rodadas", ["Mês", "Situação", "Início", "Fim", "Etapas", "Erro"], runs.map { r in
                let steps = ((try? r.stepList()) ?? []).map { "\($0.name): \($0.status)" }.joined(separator: " · ")
                return [.text(r.month), .text(Self.lakeStatus(r.status)), .text(Self.when(r.startedAt)), .text(Self.when(r.finishedAt)),
                        .text(steps), .text(r.error ?? "")]
            }, empty: "Nenhuma rodada do lago ainda.")
            page.heading("Arquivos atrasados")
            let late = try await NotificationStore(db: db).alerts(limit: 500).filter { $0.event == NotificationEvent.lakeFilesLate.rawValue }
            page.table(id: "atrasados", ["Aviso", "Quando"], late.map { [.text($0.batchID), .text(Self.when($0.createdAt))] },
                       empty: "Nenhum arquivo do lago atrasado.")
            if op.role.allows(.operator) {
                page.heading("Rodar um mês de novo")
                page.paragraph("Os arquivos do mês (tb_faturas_AAAAMM.csv e tb_pagamentos_AAAAMM.csv) devem estar na caixa de entrada do lago.")
                page.form(id: "rodar", action: "/ops/lago/rodar", submit: "Rodar o mês", [.text("Mês (AAAA-MM)", "mes", required: true)])
            }
            return render(page, op, here: "/ops/lago")
        }
    }

    @Sendable func lakeRun(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.operator, context) { op in
            let text = (try await Self.form(request)["mes"] ?? "").trimmingCharacters(in: .whitespaces)
            guard let month = LakeMonth(text) else { return Self.back("/ops/lago", error: "Informe o mês como AAAA-MM.") }
            for table in LakeTable.allCases {
                guard (try? await blobs.read(key: month.inboxKey(table), offset: 0, length: 1)) != nil else {
                    return Self.back("/ops/lago", error: "\(month.fileName(table)) não está na caixa de entrada do lago.")
                }
            }
            var pipeline = Pipeline(db: db, blobs: blobs, logger: context.logger, risk: risk)
            pipeline.retry = retry
            _ = try await LakeRuns.start(pipeline: pipeline, month: month, reference: month.adding(months: 1).first, by: .console(op))
            await jobsReady()
            return Self.back("/ops/lago", notice: "Rodada de \(text) iniciada.")
        }
    }

    // MARK: - Audit

    static func auditFilter(_ request: Request) -> AuditFilter {
        AuditFilter(operatorName: query(request, "operador"), action: query(request, "acao"), target: query(request, "alvo"),
                    from: Day.parseISO(query(request, "de"))?.start(in: Day.saoPaulo),
                    to: Day.parseISO(query(request, "ate"))?.adding(days: 1).start(in: Day.saoPaulo))
    }

    static func auditItems(_ request: Request) -> [(String, String)] {
        ["operador", "acao", "alvo", "de", "ate"].map { ($0, query(request, $0)) }
    }

    @Sendable func auditPage(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in
            var page = Self.page("Auditoria", request)
            let items = Self.auditItems(request)
            page.form(id: "filtro", action: "/ops/auditoria", method: "get", submit: "Filtrar", [
                .text("Operador", "operador", items[0].1), .text("Ação (início)", "acao", items[1].1), .text("Alvo", "alvo", items[2].1),
                .text("De", "de", items[3].1, type: "date"), .text("Até", "ate", items[4].1, type: "date"),
            ])
            page.links([("Exportar CSV com estes filtros", Self.address("/ops/auditoria.csv", items), "exportar")])
            let n = Self.pageNumber(request)
            let list = try await AuditLog(db: db).list(Self.auditFilter(request), page: n, perPage: Self.perPage)
            page.table(id: "auditoria", ["Quando", "Operador", "Canal", "Ação", "Alvo", "Antes", "Depois"], list.items.map { e in
                [.text(Self.when(e.at)), .text(e.actor.name), .text(e.actor.channel), .text(e.action), .text(e.target),
                 .text(e.before ?? ""), .text(e.after ?? "")]
            }, empty: "Nenhuma ação registrada com estes filtros.")
            page.pager(page: n, perPage: Self.perPage, total: list.total) { Self.address("/ops/auditoria", items + [("pagina", "\($0)")]) }
            return render(page, op, here: "/ops/auditoria")
        }
    }

    @Sendable func auditCSV(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { _ in
            let filter = Self.auditFilter(request), log = AuditLog(db: db)
            let body = ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "\u{FEFF}quando;operador;canal;acao;alvo;antes;depois\r\n"))
                try await log.each(filter) { rows in
                    var text = ""
                    for e in rows {
                        text += [Timestamp.iso(e.at), e.actor.name, e.actor.channel, e.action, e.target, e.before ?? "", e.after ?? ""]
                            .map(SpreadsheetCSV.cell).joined(separator: ";") + "\r\n"
                    }
                    try await writer.write(ByteBuffer(string: text))
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                                   .contentDisposition: "attachment; filename=\"auditoria.csv\""], body: body)
        }
    }
}
