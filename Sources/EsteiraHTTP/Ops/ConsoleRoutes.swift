import EsteiraBlobs
import EsteiraCore
import EsteiraRisk
import EsteiraStore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The operators' console under `/ops`, in Portuguese, rendered on the server with no script.
/// Operators sign in with their key and get a session of their own (cookie `esteira_operacao`,
/// path `/ops`: never sent to the clients' pages, nor theirs here). Every page reads; every
/// action is a POST with the form's token, allowed by the operator's role, and recorded in the
/// audit by the store that makes the change. The pages live beside this file by subject.
struct ConsoleRoutes {
    let db: any SQLDatabase
    let blobs: any BlobStore
    let retry: RetryPolicy
    let risk: RiskService
    let jobsReady: @Sendable () async -> Void
    let keys: KeyKeeper
    /// Whether a client's webhook may point at a private address (tests and closed networks).
    var webhooksMayBePrivate = false
    let pages = ConsoleTemplates.library

    static let cookie = "esteira_operacao"
    static let sessionLifetime: TimeInterval = 8 * 3600
    static let perPage = 50

    var operators: OperatorStore { OperatorStore(db: db) }
    var views: ConsoleViews { ConsoleViews(db: db) }

    func add(to router: Router<EsteiraRequestContext>) {
        router.get("ops") { _, _ in WebRoutes.redirect("/ops/visao-geral") }
        let ops = router.group("ops").add(middleware: ConsoleSessionMiddleware(operators: operators))
            .add(middleware: WebCSRFMiddleware(path: "/ops"))
        ops.get("entrar", use: signInPage)
        ops.post("entrar", use: signIn)
        ops.post("sair", use: signOut)
        addOverview(to: ops)
        addBatches(to: ops)
        addJobs(to: ops)
        addClients(to: ops)
        addOperators(to: ops)
        addBlacklist(to: ops)
        addReviews(to: ops)
        addNotifications(to: ops)
        addLake(to: ops)
        addAudit(to: ops)
    }

    // MARK: - Rendering

    static let sections: [(label: String, href: String, role: OperatorRole)] = [
        ("Visão geral", "/ops/visao-geral", .viewer), ("Lotes", "/ops/lotes", .viewer), ("Tarefas", "/ops/tarefas", .viewer),
        ("Clientes", "/ops/clientes", .viewer), ("Bloqueio", "/ops/bloqueio", .viewer), ("Revisão", "/ops/revisao", .viewer),
        ("Notificações", "/ops/notificacoes", .viewer), ("Lago", "/ops/lago", .viewer), ("Auditoria", "/ops/auditoria", .viewer),
        ("Operadores", "/ops/operadores", .admin),
    ]

    func render(_ page: ConsolePage, _ op: OperatorRecord?, here: String = "", status: HTTPResponse.Status = .ok) -> Response {
        let body = pages.render(page.values, withTemplate: "ops_page") ?? ""
        var layout: [String: Any] = ["title": page.title, "body": body, "csrf": WebCSRFMiddleware.token]
        if let refresh = page.refresh { layout["refresh"] = "\(refresh)" }
        if let op {
            layout["operator"] = [
                "o_name": op.name, "o_role": op.role.portugueseName,
                "nav": Self.sections.filter { op.role.allows($0.role) }.map { s -> [String: Any] in
                    var out: [String: Any] = ["n_label": s.label, "n_href": s.href]
                    if s.href == here { out["n_here"] = true }
                    return out
                },
            ] as [String: Any]
        }
        let html = pages.render(layout, withTemplate: "ops_layout") ?? body
        return Response(status: status, headers: Self.htmlHeaders, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// No script runs on these pages, none is allowed; forms post only here; never in a frame.
    static let htmlHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
        ContentSecurityPolicy.name: ContentSecurityPolicy.console,
        HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    /// The signed-in operator, or the answer to give instead: the sign-in page for a reader
    /// without a session, 403 for a role that may not do this.
    func require(_ role: OperatorRole, _ context: EsteiraRequestContext) -> Result<OperatorRecord, ConsoleRefusal> {
        guard let op = context.operatorRecord else { return .failure(ConsoleRefusal(response: WebRoutes.redirect("/ops/entrar"))) }
        guard op.role.allows(role) else {
            var page = ConsolePage("Ação não permitida")
            page.error = "O seu papel (\(op.role.portugueseName)) não permite esta ação; ela pede o papel \(role.portugueseName)."
            return .failure(ConsoleRefusal(response: render(page, op, status: .forbidden)))
        }
        return .success(op)
    }

    /// Runs `body` for an operator whose role allows `role`; otherwise answers as `require` says.
    func with(_ role: OperatorRole, _ context: EsteiraRequestContext,
              _ body: (OperatorRecord) async throws -> Response) async throws -> Response {
        switch require(role, context) {
        case .failure(let refusal): return refusal.response
        case .success(let op): return try await body(op)
        }
    }

    /// Back to a page with a message to show once (`?aviso=` or `?erro=`).
    static func back(_ path: String, notice: String? = nil, error: String? = nil) -> Response {
        var items: [String] = []
        if let notice { items.append("aviso=" + Self.escape(notice)) }
        if let error { items.append("erro=" + Self.escape(error)) }
        let sep = path.contains("?") ? "&" : "?"
        return WebRoutes.redirect(items.isEmpty ? path : path + sep + items.joined(separator: "&"))
    }

    static func escape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A page with the message its address carries, if any.
    static func page(_ title: String, _ request: Request) -> ConsolePage {
        var page = ConsolePage(title)
        let query = FormBody.parse(request.uri.query ?? "")
        page.notice = query["aviso"]
        page.error = query["erro"]
        return page
    }

    /// A query parameter as the page's GET form sent it, trimmed; empty when absent.
    static func query(_ request: Request, _ name: String) -> String {
        (FormBody.parse(request.uri.query ?? "")[name] ?? "").trimmingCharacters(in: .whitespaces)
    }

    static func pageNumber(_ request: Request) -> Int { max(1, Int(query(request, "pagina")) ?? 1) }

    /// `path?a=1&b=2`, leaving out empty values.
    static func address(_ path: String, _ items: [(String, String)]) -> String {
        let kept = items.filter { !$0.1.isEmpty }.map { "\($0.0)=\(escape($0.1))" }
        return kept.isEmpty ? path : path + "?" + kept.joined(separator: "&")
    }

    static func form(_ request: Request) async throws -> [String: String] {
        FormBody.parse(try await request.body.collect(atMost: 64 * 1024))
    }

    static let time: DateFormatter = WebRoutes.saoPauloTime
    static func when(_ date: Date?) -> String { date.map { time.string(from: $0) } ?? "—" }

    // MARK: - Sign in and out

    @Sendable func signInPage(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        if context.operatorRecord != nil { return WebRoutes.redirect("/ops/visao-geral") }
        return render(Self.signInForm(error: nil), nil)
    }

    static func signInForm(error: String?) -> ConsolePage {
        var page = ConsolePage("Entrar na operação")
        page.error = error
        page.form(id: "entrar", action: "/ops/entrar", submit: "Entrar", [.text("Chave de operador", "chave", required: true, type: "password")])
        page.paragraph("A chave (op_…) é entregue a cada operador por um administrador. A sessão dura 8 horas e fica só neste navegador.")
        return page
    }

    @Sendable func signIn(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let address = keys.guardian.address(request, context)
        if let after = keys.guardian.refusal(address) {
            var response = render(Self.signInForm(error: "Muitas tentativas com chave inválida a partir deste endereço. Tente de novo em \(after) segundos."),
                                  nil, status: .tooManyRequests)
            response.headers[.retryAfter] = "\(after)"
            return response
        }
        let key = (try await Self.form(request)["chave"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty, let (op, match) = try await operators.match(apiKey: key) else {
            try await keys.signInFailed(address, channel: "console")
            return render(Self.signInForm(error: "Chave de operador inválida, revogada ou desativada."), nil, status: .unauthorized)
        }
        if match.expired(at: Date()), let expiry = match.expiresAt {
            return render(Self.signInForm(error: "Esta chave expirou em \(Self.time.string(from: expiry)). Peça uma nova a um administrador."),
                          nil, status: .unauthorized)
        }
        let token = try await operators.openSession(operatorID: op.id, keyID: match.keyID, lifetime: Self.sessionLifetime)
        try await keys.signedIn(.console(op), address: address, key: key)
        context.logger.info("operator signed in to the console", metadata: ["operator_id": "\(op.id)"])
        let secure = request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https" ? "; Secure" : ""
        return WebRoutes.redirect("/ops/visao-geral", headers: [
            .setCookie: "\(Self.cookie)=\(token); Path=/ops; HttpOnly; SameSite=Strict; Max-Age=\(Int(Self.sessionLifetime))\(secure)",
        ])
    }

    @Sendable func signOut(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        if let token = WebSessionMiddleware.cookie(request, named: Self.cookie) { try await operators.closeSession(token: token) }
        return WebRoutes.redirect("/ops/entrar", headers: [.setCookie: "\(Self.cookie)=; Path=/ops; HttpOnly; SameSite=Strict; Max-Age=0"])
    }
}

/// What the console answers instead of the page asked for.
struct ConsoleRefusal: Error {
    var response: Response
}

/// Finds the operator of the console's session cookie, if any; the pages decide what a missing
/// one means.
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = EsteiraRequestContext
    let operators: OperatorStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let token = WebSessionMiddleware.cookie(request, named: ConsoleRoutes.cookie),
           let op = try await operators.sessionOperator(token: token) {
            context.operatorRecord = op
            context.logger[metadataKey: "operator_id"] = "\(op.id)"
        }
        return try await next(request, context)
    }
}
