import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// The console's overview, batches across clients and the job queue.
extension ConsoleRoutes {
    func addOverview(to ops: RouterGroup<EsteiraRequestContext>) {
        ops.get("visao-geral", use: overview)
    }

    func addBatches(to ops: RouterGroup<EsteiraRequestContext>) {
        ops.get("lotes", use: batchList)
        ops.get("lotes/:id", use: batchPage)
        ops.get("lotes/:id/arquivo", use: rawFile)
        ops.post("lotes/:id/reprocessar", use: retryBatch)
        ops.post("lotes/:id/cancelar", use: cancelBatch)
    }

    func addJobs(to ops: RouterGroup<EsteiraRequestContext>) {
        ops.get("tarefas", use: jobList)
        ops.post("tarefas/reprocessar", use: retryMatching)
        ops.post("tarefas/:id/reprocessar", use: retryJob)
    }

    // MARK: - Overview

    @Sendable func overview(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in
            let o = try await views.overview()
            var page = Self.page("Visão geral", request)
            page.refresh = 15
            page.heading("Lotes em andamento")
            // Every status a batch waits in, at zero too: an operator reads the same boxes every day.
            let waiting = Dictionary(o.batchesByStatus, uniquingKeysWith: +)
            page.figures([BatchStatus.received, .processing, .previewed, .stalled].map {
                ($0.portugueseName, ConsolePage.grouped(waiting[$0] ?? 0), "/ops/lotes?situacao=\($0.rawValue)", "lotes-\($0.rawValue)")
            } + [("Linhas nos últimos 15 min", "\(ConsolePage.grouped(o.rowsLast15Minutes)) (\(String(format: "%.1f", Double(o.rowsLast15Minutes) / 900))/s)",
                  "/ops/lotes?situacao=processing", "linhas-por-segundo")])
            page.heading("Fila de tarefas")
            let dead = o.jobs.filter { $0.state == "dead" }.reduce(0) { $0 + $1.count }
            page.figures([("Tarefas paradas", ConsolePage.grouped(dead), "/ops/tarefas", "tarefas-paradas")]
                + o.jobs.filter { $0.state != "dead" }.map { ("\($0.kind) · \(Self.jobState($0.state))", ConsolePage.grouped($0.count),
                                                              "/ops/tarefas?estado=tentando&tipo=\($0.kind)", "fila-\($0.kind)-\($0.state)") })
            page.heading("Notificações")
            let n = Dictionary(o.notifications, uniquingKeysWith: +)
            page.figures([("Pendentes", ConsolePage.grouped(n["pending"] ?? 0), "/ops/notificacoes?estado=pending", "notificacoes-pendentes"),
                          ("Desistidas", ConsolePage.grouped(n["dead"] ?? 0), "/ops/notificacoes?estado=dead", "notificacoes-desistidas")])
            page.heading("Serviço externo, caixa e lago")
            let breaker = risk.validator.map { v in
                Self.breakerText(v.breakerState) + " · " + (v.failureRatio.map { String(format: "%.0f%% de erros", $0 * 100) } ?? "sem chamadas recentes")
            } ?? "não configurado"
            let recon = o.lastReconciliation.map { "\(Self.when($0.ranAt)) · \($0.differences) diferença(s)" } ?? "nunca"
            let runs = o.lakeRunsThisMonth.map { "\($0.count) \(Self.lakeStatus($0.status))" }.joined(separator: ", ")
            page.figures([("Disjuntor do serviço externo (este processo)", breaker, nil, "disjuntor"),
                          ("Última conciliação do caixa", recon, nil, "conciliacao"),
                          ("Rodadas do lago no mês", runs.isEmpty ? "nenhuma" : runs, "/ops/lago", "lago-rodadas"),
                          ("Arquivos do lago atrasados no mês", ConsolePage.grouped(o.lakeFilesLate), "/ops/lago", "lago-atrasados")])
            page.paragraph("Esta página se atualiza a cada 15 segundos.")
            return render(page, op, here: "/ops/visao-geral")
        }
    }

    static func breakerText(_ s: CircuitBreaker.State) -> String {
        switch s {
        case .closed: "fechado (normal)"
        case .open: "aberto (chamadas suspensas)"
        case .halfOpen: "meio aberto (testando)"
        }
    }

    static func jobState(_ s: String) -> String {
        ["queued": "na fila", "running": "rodando", "done": "feita", "dead": "parada"][s] ?? s
    }

    static func lakeStatus(_ s: String) -> String {
        ["running": "em andamento", "completed": "concluída(s)", "failed": "com falha"][s] ?? s
    }

    // MARK: - Batches

    static let sources: [(String, String)] = [("", "todas"), ("api_csv", "API (CSV)"), ("api_multipart", "API (formulário)"),
                                              ("api_lines", "API (linhas)"), ("api_debt", "API (dívida avulsa)"), ("sftp", "SFTP"), ("web", "Web")]

    @Sendable func batchList(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in
            let client = Self.query(request, "cliente"), status = Self.query(request, "situacao"), source = Self.query(request, "origem")
            let from = Self.query(request, "de"), to = Self.query(request, "ate")
            var page = Self.page("Lotes de todos os clientes", request)
            let clients = try await ClientStore(db: db).list()
            page.form(id: "filtro", action: "/ops/lotes", method: "get", submit: "Filtrar", [
                .choice("Cliente", "cliente", [("", "todos")] + clients.map { ($0.id, $0.name) }, selected: client),
                .choice("Situação", "situacao", [("", "todas")] + BatchStatus.allCases.map { ($0.rawValue, $0.portugueseName) }, selected: status),
                .choice("Origem", "origem", Self.sources, selected: source),
                .text("Recebidos de", "de", from, type: "date"), .text("até", "ate", to, type: "date"),
            ])
            let filter = ConsoleViews.BatchFilter(clientID: client, status: BatchStatus(rawValue: status), source: source,
                                                  from: Day.parseISO(from), to: Day.parseISO(to))
            let n = Self.pageNumber(request)
            let list = try await views.batches(filter, page: n, perPage: Self.perPage)
            page.table(id: "lotes", ["Recebido em", "Cliente", "Arquivo", "Origem", "Situação", "Linhas", "Registradas", "Rejeitadas", "Em revisão"],
                       list.items.map { b, name in
                [.text(Self.when(b.createdAt)), .text(name), .link(b.fileName ?? b.id, "/ops/lotes/\(b.id)"),
                 .text(b.source), .text(b.status.portugueseName), .number(b.counts.received),
                 .number(b.counts.registered), .number(b.counts.rejected), .number(b.counts.review)]
            }, empty: "Nenhum lote com estes filtros.")
            page.pager(page: n, perPage: Self.perPage, total: list.total) {
                Self.address("/ops/lotes", [("cliente", client), ("situacao", status), ("origem", source), ("de", from), ("ate", to), ("pagina", "\($0)")])
            }
            return render(page, op, here: "/ops/lotes")
        }
    }

    @Sendable func batchPage(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in
            guard let batch = try await BatchStore(db: db).get(id: context.parameters.get("id") ?? "") else {
                return render(Self.notFound("Lote"), op, status: .notFound)
            }
            let client = try await ClientStore(db: db).get(id: batch.clientID)
            var page = Self.page("Lote \(batch.fileName ?? batch.id)", request)
            let c = batch.counts
            page.figures([("Situação", batch.status.portugueseName, nil, "situacao"), ("Cliente", client?.name ?? batch.clientID, nil, "cliente"),
                          ("Linhas", ConsolePage.grouped(c.received), nil, "recebidas"), ("Registradas", ConsolePage.grouped(c.registered), nil, "registradas"),
                          ("Alteradas", ConsolePage.grouped(c.updated), nil, "alteradas"), ("Baixadas", ConsolePage.grouped(c.withdrawn), nil, "baixadas"),
                          ("Duplicadas", ConsolePage.grouped(c.duplicates), nil, "duplicadas"), ("Rejeitadas", ConsolePage.grouped(c.rejected), nil, "rejeitadas"),
                          ("Em revisão", ConsolePage.grouped(c.review), nil, "revisao")])
            if let stall = batch.stall { page.paragraph("Parado em \(stall.step): \(stall.reason)") }
            if let error = batch.error { page.paragraph("Erro: \(batch.errorCode ?? "") \(error)") }
            page.paragraph("Recebido em \(Self.when(batch.createdAt)) · origem \(batch.source) · \(ConsolePage.grouped(batch.byteSize)) bytes"
                           + " · concluído em \(Self.when(batch.finishedAt)) · rastreio \(batch.traceID)")
            page.links([("Baixar o arquivo recebido", "/ops/lotes/\(batch.id)/arquivo", "baixar-arquivo")])
            let jobs = try await views.jobs(batchID: batch.id)
            if jobs.contains(where: { $0.job.state == .dead }) && op.role.allows(.operator) {
                page.form(id: "reprocessar", action: "/ops/lotes/\(batch.id)/reprocessar", submit: "Reprocessar as etapas paradas", [])
            }
            if !batch.status.isFinal && op.role.allows(.operator) {
                page.form(id: "cancelar", action: "/ops/lotes/\(batch.id)/cancelar",
                          submit: "Cancelar o lote (o que já foi registrado fica)", danger: true, [])
            }
            page.heading("Etapas")
            page.table(id: "etapas", ["Tarefa", "Etapa", "Parte", "Estado", "Tentativas", "Criada", "Última mudança", "Último erro"], jobs.map { j in
                [.text("\(j.job.id)"), .text(j.job.kind.rawValue), .text(j.job.seq >= 0 ? "\(j.job.seq)" : "—"), .text(Self.jobState(j.job.state.rawValue)),
                 .text("\(j.job.attempts)/\(j.job.maxAttempts)"), .text(Self.when(j.createdAt)), .text(Self.when(j.updatedAt)),
                 .text(j.job.lastError.map { String($0.prefix(300)) } ?? "")]
            })
            page.heading("Partes")
            page.table(id: "partes", ["Parte", "Primeira linha", "Linhas", "Estado", "Registradas", "Rejeitadas", "Última mudança"],
                       try await views.subBatches(batchID: batch.id).map { s in
                [.text("\(s.seq)"), .number(s.firstLine), .number(s.records), .text(s.status), .number(s.counts.registered),
                 .number(s.counts.rejected), .text(Self.when(s.updatedAt))]
            }, empty: "O arquivo ainda não foi dividido.")
            let n = Self.pageNumber(request)
            page.heading("Dívidas registradas por este lote")
            let debts = try await views.debts(batchID: batch.id, page: n, perPage: Self.perPage)
            page.table(id: "registradas-lista", ["Dívida", "Valor", "Vencimento", "Situação"], debts.items.map {
                [.text($0.externalID), .text(Money.brazilian(cents: $0.amountCents)), .text($0.dueDate.brazilian), .text($0.status)]
            }, empty: "Nenhuma dívida registrada por este lote.")
            page.heading("Rejeitadas")
            let rejects = try await DebtRegistry(db: db).rejects(batchID: batch.id, page: n, perPage: Self.perPage)
            page.table(id: "rejeicoes", ["Linha", "Campo", "Código", "Motivo"], rejects.items.map {
                [.number($0.line), .text($0.field), .text($0.code), .text($0.message)]
            }, empty: "Nenhuma linha rejeitada.")
            page.pager(page: n, perPage: Self.perPage, total: max(rejects.total, debts.total)) { "/ops/lotes/\(batch.id)?pagina=\($0)" }
            return render(page, op, here: "/ops/lotes")
        }
    }

    static func notFound(_ what: String) -> ConsolePage {
        var page = ConsolePage("Não encontrado")
        page.error = "\(what) não encontrado."
        return page
    }

    /// The file as received, streamed from the blob store.
    @Sendable func rawFile(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in
            guard let batch = try await BatchStore(db: db).get(id: context.parameters.get("id") ?? "") else {
                return render(Self.notFound("Lote"), op, status: .notFound)
            }
            // Past its retention the file is gone (docs/security.md); the batch and its counts stay.
            guard (try? await blobs.size(key: batch.blobKey)) != nil else {
                var page = Self.page("Arquivo do lote", request)
                page.error = "O arquivo deste lote já foi removido pela política de retenção; o lote e suas contagens continuam aqui."
                return render(page, op, status: .gone)
            }
            let blobs = self.blobs, size = batch.byteSize, key = batch.blobKey
            let body = ResponseBody { writer in
                var offset = 0
                while offset < size {
                    let chunk = try await blobs.read(key: key, offset: offset, length: min(1 << 20, size - offset))
                    if chunk.isEmpty { break }
                    try await writer.write(ByteBuffer(bytes: chunk))
                    offset += chunk.count
                }
                try await writer.finish(nil)
            }
            let name = (batch.fileName ?? "lote-\(batch.id)").filter { $0.isLetter || $0.isNumber || "._-".contains($0) }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream", .contentLength: "\(size)",
                                                   .contentDisposition: "attachment; filename=\"\(name.isEmpty ? batch.id : name)\""], body: body)
        }
    }

    /// Puts every dead step of the batch back in the queue: the batch goes on from where it stopped.
    @Sendable func retryBatch(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.operator, context) { op in
            let id = context.parameters.get("id") ?? ""
            let dead = try await views.jobs(batchID: id).filter { $0.job.state == .dead }
            var revived = 0
            for j in dead where try await JobQueue(db: db, retry: retry).retryDead(id: j.job.id, by: .console(op)) { revived += 1 }
            if revived > 0 { await jobsReady() }
            context.logger.info("batch retried from the console", metadata: ["batch_id": "\(id)", "jobs": "\(revived)"])
            return Self.back("/ops/lotes/\(id)", notice: revived > 0 ? "\(revived) etapa(s) de volta à fila." : nil,
                             error: revived == 0 ? "Nenhuma etapa parada neste lote." : nil)
        }
    }

    @Sendable func cancelBatch(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.operator, context) { op in
            let id = context.parameters.get("id") ?? ""
            switch try await BatchStore(db: db).cancel(id: id, by: .console(op), retry: retry) {
            case nil: return render(Self.notFound("Lote"), op, status: .notFound)
            case (_, true)?:
                await jobsReady()
                context.logger.info("batch cancelled from the console", metadata: ["batch_id": "\(id)"])
                return Self.back("/ops/lotes/\(id)", notice: "Lote cancelado: nada mais será registrado.")
            case (let status, false)?:
                return Self.back("/ops/lotes/\(id)", error: "O lote já terminou (\(status.portugueseName)); nada foi mudado.")
            }
        }
    }

    // MARK: - Jobs

    @Sendable func jobList(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.viewer, context) { op in
            let state = Self.query(request, "estado").isEmpty ? "paradas" : Self.query(request, "estado")
            let kindText = Self.query(request, "tipo"), kind = JobKind(rawValue: kindText)
            var page = Self.page("Tarefas", request)
            page.form(id: "filtro", action: "/ops/tarefas", method: "get", submit: "Filtrar", [
                .choice("Estado", "estado", [("paradas", "paradas (sem mais tentativas)"), ("tentando", "tentando de novo")], selected: state),
                .choice("Tipo", "tipo", [("", "todos")] + JobKind.allCases.map { ($0.rawValue, $0.rawValue) }, selected: kindText),
            ])
            let n = Self.pageNumber(request)
            let list = try await views.troubledJobs(dead: state == "paradas", kind: kind, page: n, perPage: Self.perPage)
            if state == "paradas" && list.total > 0 && op.role.allows(.operator) {
                page.form(id: "reprocessar-todas", action: Self.address("/ops/tarefas/reprocessar", [("tipo", kindText)]),
                          submit: "Reprocessar todas as \(list.total) tarefas paradas\(kind.map { " de \($0.rawValue)" } ?? "")", [])
            }
            let canAct = op.role.allows(.operator)
            page.table(id: "tarefas", ["Tarefa", "Tipo", "Lote ou assunto", "Parte", "Tentativas", "Última mudança", "Erro", ""], list.items.map { j in
                let isBatch = [.pick, .transform, .register, .finalize, .cleanup, .preview].contains(j.job.kind)
                return [.text("\(j.job.id)"), .text(j.job.kind.rawValue),
                        isBatch ? .link(j.job.batchID, "/ops/lotes/\(j.job.batchID)") : .text(j.job.batchID),
                        .text(j.job.seq >= 0 ? "\(j.job.seq)" : "—"), .text("\(j.job.attempts)/\(j.job.maxAttempts)"), .text(Self.when(j.updatedAt)),
                        .text(j.job.lastError.map { String($0.prefix(300)) } ?? ""),
                        canAct && j.job.state == .dead ? .post("Reprocessar", "/ops/tarefas/\(j.job.id)/reprocessar", id: "reprocessar-\(j.job.id)") : .text("")]
            }, empty: state == "paradas" ? "Nenhuma tarefa parada." : "Nenhuma tarefa tentando de novo.")
            page.pager(page: n, perPage: Self.perPage, total: list.total) {
                Self.address("/ops/tarefas", [("estado", state), ("tipo", kindText), ("pagina", "\($0)")])
            }
            return render(page, op, here: "/ops/tarefas")
        }
    }

    @Sendable func retryJob(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.operator, context) { op in
            let id = Int(context.parameters.get("id") ?? "") ?? -1
            let ok = try await JobQueue(db: db, retry: retry).retryDead(id: id, by: .console(op))
            if ok { await jobsReady() }
            return Self.back("/ops/tarefas", notice: ok ? "Tarefa \(id) de volta à fila." : nil,
                             error: ok ? nil : "A tarefa \(id) não está parada (ou não existe).")
        }
    }

    /// Every dead job of the kind chosen (all kinds without one), up to 1,000 at a time.
    @Sendable func retryMatching(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        try await with(.operator, context) { op in
            let kind = JobKind(rawValue: Self.query(request, "tipo"))
            var revived = 0
            let queue = JobQueue(db: db, retry: retry)
            for id in try await views.deadJobIDs(kind: kind, limit: 1000) where try await queue.retryDead(id: id, by: .console(op)) {
                revived += 1
            }
            if revived > 0 { await jobsReady() }
            return Self.back("/ops/tarefas", notice: "\(revived) tarefa(s) de volta à fila.")
        }
    }
}
