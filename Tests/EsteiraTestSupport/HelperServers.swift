import EsteiraCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `scripts/webhook-receiver.py`: a real HTTP server playing the client's, which fails the first
/// deliveries on request and checks each signature with Python's own HMAC.
public final class WebhookReceiver: @unchecked Sendable {
    public let log = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-hooks-\(UUID().uuidString.prefix(8)).jsonl").path
    public let server: ListeningProcess
    public var base: String { server.base }

    public init() throws {
        let script = ListeningProcess.repositoryRoot(#filePath).appendingPathComponent("scripts/webhook-receiver.py").path
        server = try ListeningProcess(executable: "/usr/bin/env", arguments: ["python3", script, log])
    }

    public func control(secret: String, failFirst: Int) async throws {
        var request = URLRequest(url: URL(string: base + "/control")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"secret": "\#(secret)", "fail_first": \#(failFirst)}"#.utf8)
        _ = try await URLSession.shared.data(for: request)
    }

    /// Every delivery received so far.
    public var deliveries: [JSONValue] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
    }

    public func waitFor(_ count: Int, timeout: TimeInterval = 30) async throws -> [JSONValue] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if deliveries.count >= count { return deliveries }
            try await Task.sleep(for: .milliseconds(100))
        }
        return deliveries
    }

    public func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: log)
    }
}

/// `scripts/smtp-receiver.py`: a real SMTP server (aiosmtpd) that requires STARTTLS and AUTH,
/// answers each recipient's first messages 451 on request, refuses `recusado…` addresses with
/// 550, and records every message as Python's own e-mail parser reads it.
public final class SMTPReceiver: @unchecked Sendable {
    public let folder = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-smtp-\(UUID().uuidString.prefix(8))").path
    public var log: String { folder + "/messages.jsonl" }
    public var certificate: String { folder + "/certs/cert.pem" }
    public let server: ListeningProcess

    public init(failFirst: Int = 0) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let root = ListeningProcess.repositoryRoot(#filePath)
        server = try ListeningProcess(executable: root.appendingPathComponent(".venv/bin/python").path, arguments: [
            root.appendingPathComponent("scripts/smtp-receiver.py").path, folder + "/messages.jsonl", folder + "/certs",
            "--fail-first", String(failFirst), "--user", "esteira", "--password", "s3nha-de-teste",
        ])
    }

    /// What Esteira needs to send through it.
    public var environment: [String: String] {
        ["ESTEIRA_SMTP_HOST": "localhost", "ESTEIRA_SMTP_PORT": String(server.port), "ESTEIRA_SMTP_SECURITY": "starttls",
         "ESTEIRA_SMTP_USERNAME": "esteira", "ESTEIRA_SMTP_PASSWORD": "s3nha-de-teste", "ESTEIRA_SMTP_FROM": "cobranca@esteira.test",
         "ESTEIRA_SMTP_CA_FILE": certificate, "ESTEIRA_PUBLIC_URL": "https://esteira.example.com"]
    }

    public var records: [JSONValue] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
    }

    /// The messages the server accepted (250).
    public var accepted: [JSONValue] { records.filter { $0["status"]?.int == 250 } }

    public func waitFor(accepted count: Int, timeout: TimeInterval = 30) async throws -> [JSONValue] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && accepted.count < count { try await Task.sleep(for: .milliseconds(100)) }
        return accepted
    }

    public func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// The stand-in for the external service (`validation-standin`), a real HTTP server in its own
/// process, told over HTTP how to behave.
public final class StandIn: @unchecked Sendable {
    public let server: ListeningProcess
    public var base: String { server.base }

    public init() throws {
        server = try ListeningProcess(executable: ListeningProcess.repositoryRoot(#filePath).appendingPathComponent(".build/debug/validation-standin").path,
                                      arguments: ["--port", "0"])
    }

    public func stop() { server.stop() }

    public func control(_ json: String) async throws {
        var r = URLRequest(url: URL(string: base + "/control")!)
        r.httpMethod = "POST"
        _ = try await URLSession.shared.upload(for: r, from: Data(json.utf8))
    }

    public func stats() async throws -> (calls: Int, failures: Int) {
        let (data, _) = try await URLSession.shared.data(from: URL(string: base + "/stats")!)
        let o = try JSONSerialization.jsonObject(with: data) as! [String: Int]
        return (o["calls"]!, o["failures"]!)
    }

}
