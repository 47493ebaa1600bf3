import EsteiraCore
import Foundation
import Logging
import Synchronization

/// Writes one JSON object a line: `{"ts":..., "level":..., "msg":..., "label":..., ...metadata}`.
///
/// The message and metadata values are masked here (`TaxID.redactingDocuments`: anything shaped
/// like a whole CPF or CNPJ, percent-encoded or not) as a last line of defence; code should pass
/// masked documents in the first place (`TaxID.masked`).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let output: Output

    public final class Output: Sendable {
        let lock = Mutex<Void>(())
        let fd: Int32
        public init(fd: Int32) { self.fd = fd }

        func write(_ line: [UInt8]) {
            lock.withLock { _ in
                var done = 0
                while done < line.count {
                    let n = line.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, line.count - done) }
                    if n <= 0 { return }
                    done += n
                }
            }
        }

        public static let standardError = Output(fd: 2)
        public static let standardOutput = Output(fd: 1)
    }

    public init(label: String, level: Logger.Level = .info, output: Output = .standardError) {
        self.label = label
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", Self.timestamp()), ("level", event.level.rawValue), ("msg", TaxID.redactingDocuments(in: event.message.description)),
            ("label", label),
        ]
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for key in merged.keys.sorted() {
            fields.append((key, TaxID.redactingDocuments(in: "\(merged[key]!)")))
        }
        var line = "{"
        for (i, (k, v)) in fields.enumerated() {
            if i > 0 { line += "," }
            line += JSONLogHandler.quote(k) + ":" + JSONLogHandler.quote(v)
        }
        line += "}\n"
        output.write(Array(line.utf8))
    }

    static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// A JSON string (`JSONText.quoted`: the one escaping rule Esteira writes JSON by hand with).
    static func quote(_ s: String) -> String { JSONText.quoted(s) }

}
