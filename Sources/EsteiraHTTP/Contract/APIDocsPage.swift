import EsteiraCore
import Foundation
import Hummingbird

/// `/docs`: the contract as a page a person reads, written by Esteira from `APIContract`. No
/// script, and nothing from the network: one style block, allowed by its hash.
enum APIDocsPage {
    static let style = """
        body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d2330}
        h2{margin-top:2rem;border-bottom:1px solid #ccd}code{font-family:ui-monospace,monospace}
        .op{margin:1rem 0;padding:.6rem .8rem;border:1px solid #dde;border-radius:6px}
        .m{display:inline-block;min-width:4.5rem;font-weight:bold;text-transform:uppercase}
        .get{color:#1b6e3a}.post{color:#1f4fa3}.put,.patch{color:#8a5a00}.delete{color:#a3261f}
        table{border-collapse:collapse;margin:.4rem 0}td,th{padding:.2rem .6rem;border-bottom:1px solid #eef;text-align:left;vertical-align:top}
        .who{color:#555;font-size:.9rem}
        """

    static let csp = "default-src 'none'; style-src \(ContentSecurityPolicy.hash(style)); base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static let html: String = render()

    static func render() -> String {
        var out = """
            <!doctype html><html lang="pt-BR"><head><meta charset="utf-8"><title>Esteira: a API</title><style>\(style)</style></head><body>
            <h1>Esteira: a API</h1>
            <p>Todas as operações de <code>/v1</code>. O documento OpenAPI 3.1 está em <a href="/openapi.json"><code>/openapi.json</code></a>.
            Envie a chave em <code>Authorization: Bearer &lt;chave&gt;</code>. Valores são texto em reais (<code>1234,56</code> ou
            <code>1234.56</code>); um valor ambíguo é recusado. Todo erro é <code>{"error": {"code", "message", "field"}}</code>.</p>
            """
        let tags = APIContract.operations.reduce(into: [String]()) { if !$0.contains($1.tag) { $0.append($1.tag) } }
        for tag in tags {
            out += "<h2>\(escape(tag))</h2>\n"
            for op in APIContract.operations where op.tag == tag {
                let who: String = switch op.access {
                case .client: "chave de cliente"
                case .operatorRole(let role): "chave de operador (\(role.portugueseName) ou acima)"
                }
                out += "<div class=\"op\" id=\"\(op.id)\"><span class=\"m \(op.method)\">\(op.method)</span> <code>\(escape(op.path))</code>"
                out += " <span class=\"who\">\(who)</span><p>\(escape(op.summary))</p>"
                if !op.parameters.isEmpty {
                    out += "<table><tr><th>parâmetro</th><th>onde</th><th></th></tr>"
                    for p in op.parameters {
                        out += "<tr><td><code>\(escape(p.name))</code></td><td>\(p.place == .path ? "caminho" : "consulta")</td><td>\(escape(p.description))</td></tr>"
                    }
                    out += "</table>"
                }
                if let body = op.body { out += "<p>Corpo: \(describe(body)).</p>" }
                let answers = op.answers.map { "\($0.status) \(escape($0.description))" }.joined(separator: "; ")
                out += "<p>Respostas: \(answers)"
                if !op.errors.isEmpty { out += " Erros próprios: " + op.errors.map { "<code>\(escape($0))</code>" }.joined(separator: ", ") + "." }
                out += "</p></div>\n"
            }
        }
        return out + "</body></html>\n"
    }

    static func describe(_ c: APIContract.Content) -> String {
        switch c {
        case .json(let schema):
            if let required = schema["required"]?.elements?.compactMap(\.string), !required.isEmpty {
                return "JSON com " + required.map { "<code>\(escape($0))</code>" }.joined(separator: ", ")
            }
            return "JSON"
        case .csv: return "CSV"
        case .html: return "HTML"
        case .file: return "o arquivo (CSV, TXT ou XLSX), como enviado"
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func response() -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", ContentSecurityPolicy.name: csp],
                 body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
