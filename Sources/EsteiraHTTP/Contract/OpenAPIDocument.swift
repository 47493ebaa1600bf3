import EsteiraCore
import Foundation

/// `APIContract` as an OpenAPI 3.1 document, served at `/openapi.json`.
enum OpenAPIDocument {
    /// Written once: the contract does not change while the process runs.
    static let text: String = document.canonicalText

    static var document: JSONValue {
        var paths: [JSONValue.Member] = []
        for (path, ops) in Dictionary(grouping: APIContract.operations, by: \.path).sorted(by: { $0.key < $1.key }) {
            paths.append(.init(key: path, value: .object(ops.sorted { $0.method < $1.method }.map { .init(key: $0.method, value: operation($0)) })))
        }
        let tags = APIContract.operations.reduce(into: [String]()) { if !$0.contains($1.tag) { $0.append($1.tag) } }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Esteira",
                "version": "1",
                "description": .string("""
                    A entrada de dívidas da agência: lotes (arquivos), dívidas, carteira, cobrança, avisos, razão e risco. \
                    Valores são texto em reais (1234,56 ou 1234.56) e voltam como 1234.56; um valor ambíguo é recusado. \
                    Todo erro é {"error": {"code", "message", "field"}} com um código de docs/rejects.md.
                    """),
            ],
            "tags": .array(tags.map { ["name": .string($0)] }),
            "paths": .object(paths),
            "components": [
                "securitySchemes": [
                    "clientKey": ["type": "http", "scheme": "bearer", "description": "A chave de API de um cliente."],
                    "operatorKey": ["type": "http", "scheme": "bearer", "description": "A chave de API de um operador da agência."],
                ],
                "schemas": .object(APIContract.schemas.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) }),
            ],
        ]
    }

    static func operation(_ op: APIContract.Operation) -> JSONValue {
        var members: [JSONValue.Member] = [
            .init(key: "operationId", value: .string(op.id)),
            .init(key: "summary", value: .string(op.summary)),
            .init(key: "tags", value: [.string(op.tag)]),
            .init(key: "security", value: [.object([.init(key: op.access == .client ? "clientKey" : "operatorKey", value: [])])]),
        ]
        if op.access != .client, case .operatorRole(let role) = op.access {
            members.append(.init(key: "description", value: .string("Pede uma chave de operador com o papel \(role.portugueseName) ou acima.")))
        }
        if !op.parameters.isEmpty {
            members.append(.init(key: "parameters", value: .array(op.parameters.map { p in
                ["name": .string(p.name), "in": .string(p.place.rawValue), "required": .bool(p.required),
                 "description": .string(p.description), "schema": p.schema]
            })))
        }
        if let body = op.body {
            members.append(.init(key: "requestBody", value: ["required": true, "content": content(body)]))
        }
        var answers: [JSONValue.Member] = op.answers.map { a in
            var answer: [JSONValue.Member] = [.init(key: "description", value: .string(a.description))]
            if let c = a.content { answer.append(.init(key: "content", value: content(c))) }
            return .init(key: "\(a.status)", value: .object(answer))
        }
        func error(_ status: Int, _ description: String) {
            answers.append(.init(key: "\(status)", value: ["description": .string(description), "content": content(.json(APIContract.ref("Error")))]))
        }
        error(400, "Requisição malformada: JSON, parâmetro ou corpo (invalid_json, invalid_parameter).")
        error(401, "Chave ausente, inválida ou vencida (unauthorized, key_expired).")
        if op.access != .client { error(403, "O papel do operador não permite (forbidden).") }
        if op.path.contains("{") { error(404, "Não encontrado (not_found).") }
        if op.body != nil { error(422, "Conteúdo recusado, com o campo e o código." + codes(op.errors)) }
        error(429, "Requisições, falhas ou linhas demais (rate_limited, too_many_failures, quota_exceeded); veja Retry-After.")
        answers.append(.init(key: "default", value: ["description": .string("Outro erro, com seu código." + codes(op.errors)),
                                                     "content": content(.json(APIContract.ref("Error")))]))
        members.append(.init(key: "responses", value: .object(answers)))
        return .object(members)
    }

    static func codes(_ codes: [String]) -> String { codes.isEmpty ? "" : " Códigos desta operação: " + codes.joined(separator: ", ") + "." }

    static func content(_ c: APIContract.Content) -> JSONValue {
        switch c {
        case .json(let schema): ["application/json": ["schema": schema]]
        case .csv: ["text/csv": ["schema": ["type": "string"]]]
        case .html: ["text/html": ["schema": ["type": "string"]]]
        case .file: [
            "text/csv": ["schema": ["type": "string"]],
            "text/plain": ["schema": ["type": "string"]],
            "application/octet-stream": ["schema": ["type": "string", "format": "binary"]],
        ]
        }
    }
}
