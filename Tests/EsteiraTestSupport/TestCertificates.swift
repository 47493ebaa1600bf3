import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Shell commands for tests, through the C library's `system` with the output in files:
/// Foundation's `Process` was seen to wait for ever on a shell that starts a server (the server
/// lives on, holding the pipes it inherited).
public enum Shell {
    public struct Failure: Error, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public let errors: String
        public var description: String { "exit \(status) from \(command): \(errors)" }
    }

    /// Runs `command` with bash from `directory`; its standard output, or a `Failure` with its errors.
    @discardableResult
    public static func run(_ command: String, in directory: String) throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-cmd-\(UUID().uuidString.prefix(8))").path
        defer {
            for suffix in [".sh", ".out", ".err"] { try? FileManager.default.removeItem(atPath: base + suffix) }
        }
        try command.write(toFile: base + ".sh", atomically: true, encoding: .utf8)
        let status = system("cd '\(directory)' && bash '\(base).sh' > '\(base).out' 2> '\(base).err' < /dev/null")
        let output = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        guard status == 0 else { throw Failure(command: command, status: (status >> 8) & 0xFF, errors: errors) }
        return output
    }
}

/// A certificate authority made with openssl for one test, a server certificate it signed for the
/// names given, and a second CA that signed nothing of it. They are valid from now for two days:
/// whatever day the test runs on.
public struct TestCertificates: Sendable {
    public let folder: String
    public var caFile: String { folder + "/ca.pem" }
    public var otherCAFile: String { folder + "/other-ca.pem" }
    public var certificateFile: String { folder + "/server.crt" }
    public var keyFile: String { folder + "/server.key" }
    /// A private key that is not the certificate's.
    public var otherKeyFile: String { folder + "/other.key" }

    /// `names`: the certificate's subjectAltName entries, such as `DNS:localhost` or `IP:127.0.0.1`.
    public init(in folder: String, names: [String] = ["DNS:localhost"]) throws {
        self.folder = folder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Shell.run("""
            set -e; chmod 755 .
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=Esteira-Test-CA 2>/dev/null
            openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other-ca.pem -days 2 -subj /CN=Other-CA 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=\(names.first?.split(separator: ":").last ?? "localhost") 2>/dev/null
            printf 'subjectAltName=\(names.joined(separator: ","))\\n' > san.cnf
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.cnf 2>/dev/null
            chmod 600 server.key
            """, in: folder)
    }

    public static var available: Bool { FileManager.default.fileExists(atPath: "/usr/bin/openssl") }
}
