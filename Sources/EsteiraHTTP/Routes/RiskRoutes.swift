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
        let body = try await request.body.collect(atMost: 64 * 1024)
        let shape = "O corpo deve ser {\"document\": \"…\", \"amount\": \"1234,56\", \"due_date\"?, \"metadata\"?, \"trace_key\"?}."
        guard let object = try? JSONValue.parse(body.readableBytesView), object.members != nil,
              let document = object["document"]?.string else {
            throw APIError(.badRequest, code: "invalid_json", message: shape)
        }
        // The amount as a debt's: text in any of the notations of `auto`, or a JSON number read
        // from its literal as a decimal with a point.
        switch object["amount"] {
        case .string?, .number?, .null?, nil: break
        default: throw APIError(.badRequest, code: "invalid_json", message: shape)
        }
        let (amountText, amount) = DebtJSON.amount(object["amount"])
        let cents: Int64
        switch amount {
        case .success(let c): cents = c
        case .failure(let error):
            throw APIError(.unprocessableContent, code: error == .ambiguous ? RejectCode.amountAmbiguous.rawValue : RejectCode.amountMalformed.rawValue,
                           message: Money.refusal(error, text: amountText), field: "amount")
        }
        var due: Day?
        switch object["due_date"] {
        case .string(let text)? where !text.isEmpty:
            guard let day = Day.parse(text) else {
                throw APIError(.unprocessableContent, code: "R006", message: "A data \(text) não é uma data válida (use DD/MM/AAAA ou AAAA-MM-DD).",
                               field: "due_date")
            }
            due = day
        case nil, .null?, .string?: break
        default: throw APIError(.badRequest, code: "invalid_json", message: shape)
        }
        // The metadata is kept as the caller sent it (any JSON object), numbers exact.
        var metadata: String?
        switch object["metadata"] {
        case .object(let m)?: metadata = JSONValue.object(m).canonicalText
        case nil, .null?: break
        default: throw APIError(.badRequest, code: "invalid_json", message: "metadata deve ser um objeto JSON.")
        }
        let traceKeyText: String?
        switch object["trace_key"] {
        case .string(let s)?: traceKeyText = s
        case nil, .null?: traceKeyText = nil
        default: throw APIError(.badRequest, code: "invalid_json", message: shape)
        }
        let traceKey = (traceKeyText?.isEmpty == false ? traceKeyText! : BatchRecord.newTraceID())
        guard traceKey.count <= 128 else { throw APIError.invalidParameter("trace_key", "até 128 caracteres") }
        let stored = try await service.analyze(RiskService.Request(document: document, amountCents: cents, dueDate: due,
                                                                   metadata: metadata, traceKey: traceKey), client: client,
                                          waited: ArrivalStampHandler.waited(request.headers))
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
