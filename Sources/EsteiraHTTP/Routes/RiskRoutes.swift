import EsteiraCore
import EsteiraRisk
import EsteiraStore
import Foundation
import Hummingbird

/// `/v1/risk`: a transaction judged by the risk rules within two seconds, and the decisions
/// read back by their trace key.
struct RiskRoutes {
    let service: RiskService

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.post("risk/analyze", use: analyze)
        group.get("risk/decisions/:trace", use: decision)
    }

    struct Body: Decodable {
        var document: String
        var amount: SingleDebtJSON.Scalar
        var dueDate: String?
        var traceKey: String?
        enum CodingKeys: String, CodingKey { case document, amount, dueDate = "due_date", traceKey = "trace_key" }
    }

    struct DecisionResponse: ResponseEncodable {
        struct External: Encodable {
            var status: String
            var reason: String?
        }
        var traceKey: String
        var decision: String
        var score: Int
        var reasons: [RiskReasonJSON]
        var usedFallback: Bool
        var external: External
        var elapsedMs: Int
        var document: String
        var amountCents: Int64
        var createdAt: Date

        enum CodingKeys: String, CodingKey {
            case traceKey = "trace_key", decision, score, reasons, usedFallback = "used_fallback", external,
                 elapsedMs = "elapsed_ms", document, amountCents = "amount_cents", createdAt = "created_at"
        }

        init(_ d: StoredRiskDecision) {
            traceKey = d.traceKey
            decision = d.decision.outcome.rawValue
            score = d.decision.score
            reasons = d.decision.reasons.map(RiskReasonJSON.init)
            usedFallback = d.decision.usedFallback
            switch d.external {
            case .clear: external = External(status: "clear")
            case .restricted(let r): external = External(status: "restricted", reason: r)
            case .unavailable(let r): external = External(status: "unavailable", reason: r)
            case .notConfigured: external = External(status: "not_configured")
            }
            elapsedMs = d.elapsedMs
            document = TaxID.mask(d.document)
            amountCents = d.amountCents
            createdAt = d.createdAt
        }
    }

    /// 200 with the decision, its score and reasons, the trace key (the caller's, or a new one)
    /// and the time taken; the same trace key again answers the first decision.
    @Sendable func analyze(_ request: Request, context: EsteiraRequestContext) async throws -> DecisionResponse {
        let client = try context.requireClient()
        let bytes = Data(try await request.body.collect(upTo: 64 * 1024).readableBytesView)
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: bytes)
        } catch {
            throw APIError(.badRequest, code: "invalid_json",
                           message: "O corpo deve ser {\"document\": \"…\", \"amount\": \"1234,56\", \"due_date\"?, \"metadata\"?, \"trace_key\"?}.")
        }
        let amountText: String
        switch body.amount {
        case .text(let s): amountText = s
        case .number(let d): amountText = "\(d)"
        case .null: amountText = ""
        }
        guard case .success(let cents) = Money.parseCents(amountText) else {
            throw APIError(.unprocessableContent, code: "R004", message: "O valor \(amountText) não é um número (use 1234,56 ou 1234.56).")
        }
        var due: Day?
        if let text = body.dueDate, !text.isEmpty {
            guard let day = Day.parse(text) else {
                throw APIError(.unprocessableContent, code: "R006", message: "A data \(text) não é uma data válida (use DD/MM/AAAA ou AAAA-MM-DD).")
            }
            due = day
        }
        // The metadata is kept as the caller sent it (any JSON object).
        var metadata: String?
        if bytes.range(of: Data("\"metadata\"".utf8)) != nil,
           let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any], let m = object["metadata"],
           JSONSerialization.isValidJSONObject(m) {
            metadata = String(decoding: try JSONSerialization.data(withJSONObject: m, options: [.sortedKeys]), as: UTF8.self)
        }
        let traceKey = (body.traceKey?.isEmpty == false ? body.traceKey! : BatchRecord.newTraceID())
        guard traceKey.count <= 128 else { throw APIError.invalidParameter("trace_key", "até 128 caracteres") }
        let stored = try await service.analyze(RiskService.Request(document: body.document, amountCents: cents, dueDate: due,
                                                                   metadata: metadata, traceKey: traceKey), client: client)
        return DecisionResponse(stored)
    }

    @Sendable func decision(_ request: Request, context: EsteiraRequestContext) async throws -> DecisionResponse {
        let client = try context.requireClient()
        let trace = context.parameters.get("trace") ?? ""
        guard let d = try await RiskDecisionStore(db: service.db).get(clientID: client.id, traceKey: trace.removingPercentEncoding ?? trace) else {
            throw APIError.notFound("Decisão")
        }
        return DecisionResponse(d)
    }
}
