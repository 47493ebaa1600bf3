import Foundation

/// A helper server in a process of its own (the external service's stand-in, the webhook
/// receiver, the SMTP server) that prints `<scheme>://127.0.0.1:<port>` once it listens.
public final class ListeningProcess: @unchecked Sendable {
    public let process = Process()
    /// `http://127.0.0.1:<port>` (or another scheme).
    public private(set) var base = ""
    /// The port it listens on.
    public var port: Int { Int(base.split(separator: ":").last ?? "") ?? 0 }

    public init(executable: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !text.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: #"[a-z]+://127\.0\.0\.1:\d+"#, options: .regularExpression) else {
            stop()
            throw NSError(domain: "helper", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(executable) did not start: \(text)"])
        }
        base = String(text[range])
    }

    /// SIGKILL and `waitpid`: a graceful stop could wait on requests the helper was told to hang
    /// on, and a Python child was seen to outlive SIGTERM while `waitUntilExit` spun for ever.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        var status: Int32 = 0
        while waitpid(process.processIdentifier, &status, 0) == -1 && errno == EINTR {}
    }

    /// The repository's root, from a test file's `#filePath` (Tests/<target>/<file>.swift).
    public static func repositoryRoot(_ filePath: String) -> URL {
        URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
