import Foundation
import Hummingbird
import Synchronization

/// A stand-in for the external CPF/CNPJ validation service, speaking its protocol (see
/// `ExternalValidator`): `POST /validate` with `{"document": "…"}` answers
/// `{"restricted": false}` or `{"restricted": true, "reason": "…"}`.
///
/// It can be told, at `POST /control`, to behave as a third party does on a bad day:
/// `{"delay_ms": 1500}` answers slowly; `{"fail_ratio": 0.5}` answers 500 to that share of calls
/// (spread evenly: with 0.5, every second call); `{"hang": true}` never answers;
/// `{"restricted": {"<document>": "<reason>"}}` lists restricted documents. `GET /stats` counts
/// calls and failures. Prints `listening on http://127.0.0.1:<port>` once it is up.
///
///     validation-standin [--port N]
struct Behaviour: Codable, Sendable {
    var delayMs: Int = 20
    var failRatio: Double = 0
    var hang: Bool = false
    var restricted: [String: String] = [:]

    enum CodingKeys: String, CodingKey { case delayMs = "delay_ms", failRatio = "fail_ratio", hang, restricted }
}

struct Control: Decodable {
    var delayMs: Int?
    var failRatio: Double?
    var hang: Bool?
    var restricted: [String: String]?
    enum CodingKeys: String, CodingKey { case delayMs = "delay_ms", failRatio = "fail_ratio", hang, restricted }
}

struct Counters: Sendable {
    var behaviour = Behaviour()
    var calls = 0
    var failures = 0
}

let state = Mutex(Counters())
let arguments = CommandLine.arguments
let port = arguments.firstIndex(of: "--port").flatMap { arguments.indices.contains($0 + 1) ? Int(arguments[$0 + 1]) : nil } ?? 0

func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

let router = Router()
router.post("validate") { request, _ -> Response in
    let body = try await request.body.collect(upTo: 16 * 1024)
    let document = ((try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any])?["document"] as? String ?? ""
    let (behaviour, fail) = state.withLock { s -> (Behaviour, Bool) in
        s.calls += 1
        // Evenly spread: call n fails when floor(n * ratio) grows.
        let fail = Int(Double(s.calls) * s.behaviour.failRatio) > Int(Double(s.calls - 1) * s.behaviour.failRatio)
        if fail { s.failures += 1 }
        return (s.behaviour, fail)
    }
    if behaviour.hang { try await Task.sleep(for: .seconds(3600)) }
    if behaviour.delayMs > 0 { try await Task.sleep(for: .milliseconds(behaviour.delayMs)) }
    if fail { return json(["error": "falha simulada"], status: .internalServerError) }
    if let reason = behaviour.restricted[document] { return json(["restricted": true, "reason": reason]) }
    return json(["restricted": false])
}
router.post("control") { request, _ -> Response in
    let body = try await request.body.collect(upTo: 1 << 20)
    guard let control = try? JSONDecoder().decode(Control.self, from: Data(body.readableBytesView)) else {
        return json(["error": "corpo inválido"], status: .badRequest)
    }
    state.withLock { s in
        if let v = control.delayMs { s.behaviour.delayMs = v }
        if let v = control.failRatio { s.behaviour.failRatio = v }
        if let v = control.hang { s.behaviour.hang = v }
        if let v = control.restricted { s.behaviour.restricted = v }
    }
    return json(["ok": true])
}
router.get("stats") { _, _ -> Response in
    let (calls, failures) = state.withLock { ($0.calls, $0.failures) }
    return json(["calls": calls, "failures": failures])
}

let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "validation-standin"),
    onServerRunning: { channel in
        // Unbuffered, so that the caller reading the pipe sees the line at once.
        FileHandle.standardOutput.write(Data("listening on http://127.0.0.1:\(channel.localAddress?.port ?? port)\n".utf8))
    })
try await app.runService()
