import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// `/v1/formats`: the client's saved formats (column mappings with date and decimal formats).
/// An upload names one with `?format=`; the drop folder and uploads that name none use the
/// client's default, if it has one.
struct FormatRoutes {
    let db: any SQLDatabase
    var store: ClientFormatStore { ClientFormatStore(db: db) }

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.get("formats", use: list)
        group.get("formats/:name", use: get)
        group.put("formats/:name", use: save)
        group.delete("formats/:name", use: delete)
    }

    struct Body: Codable, ResponseEncodable {
        var name: String?
        /// Field (`external_id`, `amount`, …) → the header of the file's column.
        var columns: [String: String]?
        /// Or, for a positional file: each field's `start` (1-based) and `length`.
        var fixedWidth: [FixedWidthField]?
        var skipFirstLines: Int?
        var skipLastLines: Int?
        var dateFormat: String?
        var decimalFormat: String?
        var `default`: Bool?
        /// `"full"`: every file read with the format is the client's whole open portfolio.
        var portfolio: String?

        enum CodingKeys: String, CodingKey {
            case name, columns, fixedWidth = "fixed_width", skipFirstLines = "skip_first_lines",
                 skipLastLines = "skip_last_lines", dateFormat = "date_format", decimalFormat = "decimal_format", `default`, portfolio
        }

        init(_ saved: SavedFormat) {
            name = saved.name
            columns = saved.format.fixedWidth == nil ? saved.format.columns : nil
            fixedWidth = saved.format.fixedWidth
            skipFirstLines = saved.format.skipFirstLines
            skipLastLines = saved.format.skipLastLines
            dateFormat = saved.format.dateFormat.rawValue
            decimalFormat = saved.format.decimalFormat.rawValue
            `default` = saved.isDefault
            portfolio = saved.format.fullPortfolio == true ? "full" : "partial"
        }
    }

    static func name(_ context: EsteiraRequestContext) throws -> String {
        let raw = context.parameters.get("name") ?? ""
        let name = (raw.removingPercentEncoding ?? raw).trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= ClientFormatStore.maxNameLength else {
            throw APIError.invalidParameter("name", "de 1 a \(ClientFormatStore.maxNameLength) caracteres")
        }
        return name
    }

    @Sendable func list(_ request: Request, context: EsteiraRequestContext) async throws -> [String: [Body]] {
        let client = try context.requireClient()
        return ["data": try await store.list(clientID: client.id).map(Body.init)]
    }

    @Sendable func get(_ request: Request, context: EsteiraRequestContext) async throws -> Body {
        let client = try context.requireClient()
        guard let saved = try await store.get(clientID: client.id, name: try Self.name(context)) else {
            throw APIError.notFound("Formato")
        }
        return Body(saved)
    }

    /// Saves the format under the name (201 new, 200 replaced); 422 lists what is wrong with it.
    @Sendable func save(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let name = try Self.name(context)
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(try await request.body.collect(atMost: 64 * 1024).readableBytesView))
        } catch {
            throw APIError(.badRequest, code: "invalid_json",
                           message: "O corpo deve ser {\"columns\": {\"external_id\": \"coluna\", …}, \"date_format\": …, \"decimal_format\": …}, ou {\"fixed_width\": [{\"field\": \"external_id\", \"start\": 1, \"length\": 10}, …], …}.")
        }
        let saved = try Self.savedFormat(name: name, body: body)
        let existed = try await store.get(clientID: client.id, name: name) != nil
        try await store.save(clientID: client.id, saved)
        var response = try Body(saved).response(from: request, context: context)
        response.status = existed ? .ok : .created
        return response
    }

    static func savedFormat(name: String, body: Body) throws -> SavedFormat {
        guard let date = DateFormat(rawValue: body.dateFormat ?? "auto") else {
            throw APIError(.unprocessableContent, code: "invalid_format",
                           message: "date_format deve ser um de: \(DateFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        guard let decimal = DecimalFormat(rawValue: body.decimalFormat ?? "auto") else {
            throw APIError(.unprocessableContent, code: "invalid_format",
                           message: "decimal_format deve ser um de: \(DecimalFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        var format: ClientFormat
        if let fixedWidth = body.fixedWidth {
            format = ClientFormat(fixedWidth: fixedWidth, skipFirstLines: body.skipFirstLines ?? 0,
                                  skipLastLines: body.skipLastLines ?? 0, dateFormat: date, decimalFormat: decimal)
        } else {
            format = ClientFormat(columns: [:], dateFormat: date, decimalFormat: decimal)
            format.columns = (body.columns ?? [:]).filter { !$0.value.trimmingCharacters(in: .whitespaces).isEmpty }
        }
        switch body.portfolio {
        case nil, "partial": break
        case "full": format.fullPortfolio = true
        default: throw APIError(.unprocessableContent, code: "invalid_format", message: "portfolio deve ser full ou partial.")
        }
        let problems = format.problems
        guard problems.isEmpty else {
            throw APIError(.unprocessableContent, code: "invalid_format", message: problems.joined(separator: " "))
        }
        return SavedFormat(name: name, format: format, isDefault: body.default ?? false)
    }

    @Sendable func delete(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        guard try await store.delete(clientID: client.id, name: try Self.name(context)) else { throw APIError.notFound("Formato") }
        return Response(status: .noContent)
    }
}
