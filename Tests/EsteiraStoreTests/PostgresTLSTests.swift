import EsteiraStore
import EsteiraTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Testing

/// A PostgreSQL cluster of this test's own, started with `ssl=on` and a certificate made out to
/// `localhost` only, signed by a CA the test makes with openssl; and a second CA that signed
/// nothing of it. Started through scripts/lib/throwaway-postgres.sh, as the benchmarks start theirs.
final class TLSCluster: Sendable {
    let folder: String
    let port: Int

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static var available: Bool {
        ScratchPostgres.adminURL != nil && TestCertificates.available
    }

    /// Runs a shell command from the repository's root.
    @discardableResult
    static func run(_ command: String) throws -> String { try Shell.run(command, in: root) }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let f = folder
        _ = try TestCertificates(in: f)
        try Self.run("if [ \"$(id -u)\" = 0 ]; then chown postgres \(f)/server.key \(f)/server.crt; fi")
        let url = try Self.run("""
            set -e; . scripts/lib/throwaway-postgres.sh
            throwaway_postgres_start \(f)/pg -c ssl=on -c ssl_cert_file=\(f)/server.crt -c ssl_key_file=\(f)/server.key
            echo "$DATABASE_URL"
            """).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = URLComponents(string: url)?.port else { throw SQLError(code: .connection, message: "no URL: \(url)", sql: "") }
        self.port = port
    }

    func stop() {
        _ = try? Self.run(". scripts/lib/throwaway-postgres.sh; pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); "
                          + "as_pg=$([ \"$(id -u)\" = 0 ] && echo 'runuser -u postgres --'); throwaway_postgres_stop \(folder)/pg")
        try? FileManager.default.removeItem(atPath: folder)
    }

    func url(host: String = "127.0.0.1", _ query: String) -> String {
        "postgres://postgres@\(host):\(port)/postgres" + (query.isEmpty ? "" : "?" + query)
    }
}

/// `DATABASE_URL`'s `sslmode` and `sslrootcert` as libpq reads them, against a real server with
/// TLS on: what each mode encrypts, and that a certificate for another host, or from another CA,
/// is refused where the mode checks it.
@Suite("PostgreSQL over TLS", .serialized, .enabled(if: TLSCluster.available))
struct PostgresTLSTests {
    /// Whether the connection that answers is encrypted, as the server sees it. The wait is
    /// generous: on CI (dc86dbf) a first connection to a fresh cluster, with thirty suites busy on
    /// two cores, took longer than 5 s; nothing here measures time. A refused connection answers
    /// at the end of the wait, with the problem of the pool's last attempt.
    static func encrypted(_ url: String) async throws -> Bool {
        let db = try PostgresDatabase(url: url, logger: ScratchPostgres.logger, maxConnections: 1,
                                      limits: PostgresLimits(transaction: 30, connectionWait: 30))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await db.run() }
            defer { group.cancelAll() }
            return try await db.query("SELECT CASE WHEN ssl THEN 1 ELSE 0 END AS on_tls FROM pg_stat_ssl WHERE pid = pg_backend_pid()")[0]
                .int("on_tls") == 1
        }
    }

    @Test("disable is plain; prefer (the default) and require encrypt; verify-ca and verify-full check the CA, verify-full also the host; a wrong host, a wrong CA and an unknown mode are refused with what is wrong")
    func modes() async throws {
        let cluster = try TLSCluster()
        defer { cluster.stop() }
        let ca = cluster.folder + "/ca.pem", other = cluster.folder + "/other-ca.pem"
        #expect(try await Self.encrypted(cluster.url("sslmode=disable")) == false)
        #expect(try await Self.encrypted(cluster.url("")) == true)
        #expect(try await Self.encrypted(cluster.url("sslmode=prefer")) == true)
        #expect(try await Self.encrypted(cluster.url("sslmode=require")) == true)
        #expect(try await Self.encrypted(cluster.url("sslmode=verify-ca&sslrootcert=\(ca)")) == true)
        #expect(try await Self.encrypted(cluster.url(host: "localhost", "sslmode=verify-full&sslrootcert=\(ca)")) == true)

        // The certificate names localhost only. verify-full to another name (connecting to the
        // same address, libpq's hostaddr) is refused, naming it; verify-ca does not check names.
        let wrongName = cluster.url(host: "banco.esteira.test", "hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=\(ca)")
        await #expect { try await Self.encrypted(wrongName) } throws: { error in
            "\(error)".contains("no PostgreSQL connection") && "\(error)".contains("banco.esteira.test") && "\(error)".contains("certificate")
        }
        #expect(try await Self.encrypted(cluster.url(host: "banco.esteira.test", "hostaddr=127.0.0.1&sslmode=verify-ca&sslrootcert=\(ca)")) == true)
        // An address where a name is checked is refused at once, saying why.
        #expect { try PostgresDatabase(url: cluster.url("sslmode=verify-full&sslrootcert=\(ca)"), logger: ScratchPostgres.logger) } throws: { error in
            "\(error)".contains("verify-full checks the server's name, and 127.0.0.1 is an address")
        }
        // Another CA signed it: refused by verify-ca, and by require once a root is given (libpq's rule).
        for mode in ["verify-ca", "require"] {
            await #expect { try await Self.encrypted(cluster.url("sslmode=\(mode)&sslrootcert=\(other)")) } throws: { error in
                "\(error)".contains("CERTIFICATE_VERIFY_FAILED")
            }
        }
        #expect { try PostgresDatabase(url: cluster.url("sslmode=allow"), logger: ScratchPostgres.logger) } throws: { error in
            "\(error)".contains("sslmode=allow is not one of disable, prefer, require, verify-ca, verify-full")
        }
        #expect { try PostgresDatabase(url: cluster.url("sslmode=verify-ca&sslrootcert=/nao/existe.pem"), logger: ScratchPostgres.logger) } throws: { error in
            "\(error)".contains("sslrootcert /nao/existe.pem cannot be read")
        }
    }
}
