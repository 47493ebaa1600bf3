import EsteiraCore
import Foundation
import HTTPTypes
import Hummingbird

/// Forms under `/app` that only this site can submit. Every POST must come from a page of this
/// site (its `Origin`, or failing that its `Referer`, names the host the request was sent to) and
/// carry the token of its form: a random value kept in a cookie of its own (`HttpOnly`,
/// `SameSite=Strict`, so a cross-site request never sends it) and written into each form's action
/// as `?csrf=` (so that it works for multipart forms too, whose body is streamed). A page on
/// another site can neither read nor send it: a cross-site `POST /app/entrar` cannot sign a
/// victim into the attacker's account.
///
/// The operators' console (`/ops`) has the same guard on its own path, so that the two sites'
/// tokens never mix.
struct WebCSRFMiddleware: RouterMiddleware {
    typealias Context = EsteiraRequestContext
    static let cookie = "esteira_csrf"
    /// The site the guard keeps: `/app` or `/ops`.
    var path = "/app"
    /// The token of the request being handled, for the pages it renders.
    @TaskLocal static var token = ""

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let existing = WebSessionMiddleware.cookie(request, named: Self.cookie)
        if request.method == .post {
            guard Self.sameOrigin(request) else { return Self.refused("o envio veio de outro site", home: path) }
            guard let existing, let sent = request.uri.queryParameters["csrf"].map(String.init),
                  ConstantTime.equal(existing, sent) else {
                return Self.refused("a página expirou", home: path)
            }
        }
        let token = existing ?? Hex.random(bytes: 32)
        var response = try await Self.$token.withValue(token) { try await next(request, context) }
        if existing == nil {
            response.headers.append(HTTPField(name: .setCookie, value: "\(Self.cookie)=\(token); Path=\(path); HttpOnly; SameSite=Strict"))
        }
        return response
    }

    /// The host and port of the page that sent the form are the ones the request was sent to.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let host = request.head.authority else { return false }
        let from = request.headers[.origin].flatMap { $0 == "null" ? nil : $0 } ?? request.headers[.referer]
        guard let from, let url = URL(string: from), let fromHost = url.host else { return false }
        let authority = url.port.map { "\(fromHost):\($0)" } ?? fromHost
        return authority.lowercased() == host.lowercased()
    }

    static func refused(_ why: String, home: String) -> Response {
        let html = """
            <!doctype html><html lang="pt-BR"><head><meta charset="utf-8"><title>Envio recusado</title></head>
            <body><h1>Envio recusado</h1><p id="erro">Não foi possível aceitar este envio: \(why). Volte, recarregue a página e tente de novo.</p>
            <p><a href="\(home)/entrar">Ir para o início</a></p></body></html>
            """
        return Response(status: .forbidden, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

/// Headers every answer carries: `nosniff` everywhere, and for a page (HTML) that set none of
/// its own a strict Content-Security-Policy (no script, no style, nothing from elsewhere, never in
/// a frame), `X-Frame-Options` and `Referrer-Policy`. Pages that need more set their own
/// (`ContentSecurityPolicy`).
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var nosniff: HTTPField.Name { HTTPField.Name("X-Content-Type-Options")! }
    static var frameOptions: HTTPField.Name { HTTPField.Name("X-Frame-Options")! }
    static var csp: HTTPField.Name { HTTPField.Name("Content-Security-Policy")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[Self.nosniff] = "nosniff"
        if response.headers[.contentType]?.lowercased().hasPrefix("text/html") == true {
            if response.headers[Self.csp] == nil {
                response.headers[Self.csp] = ContentSecurityPolicy.plain
            }
            if response.headers[Self.frameOptions] == nil { response.headers[Self.frameOptions] = "DENY" }
            if response.headers[HTTPField.Name("Referrer-Policy")!] == nil { response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin" }
        }
        return response
    }
}
