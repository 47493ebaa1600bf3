import NIOSSL
import PostgresNIO

/// Encryption to PostgreSQL as libpq's `sslmode` and `sslrootcert` say, from the query of
/// `DATABASE_URL`, so that a URL that works with `psql` means the same here:
///
/// | sslmode | encrypted | the server's certificate |
/// | --- | --- | --- |
/// | `disable` | never | |
/// | `prefer` (the default, as libpq's) | when the server offers it | not checked |
/// | `require` | always, or no connection | not checked; checked as `verify-ca` when `sslrootcert` is given, as libpq does |
/// | `verify-ca` | always | signed by `sslrootcert` (or the system's CAs) |
/// | `verify-full` | always | as `verify-ca`, and made out to the host connected to |
///
/// libpq's `allow` (plain first, TLS only if refused) is not taken: a URL that asks for it is
/// refused with the modes that are, rather than read as something else.
enum PostgresTLS {
    enum Mode: String, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// The mode and, unless it is `disable`, the TLS configuration of the URL's query items; a
    /// clear error for a mode not taken or a CA file that cannot be read.
    static func settings(sslmode: String?, sslrootcert: String?) throws -> (mode: Mode, tls: TLSConfiguration?) {
        guard let mode = Mode(rawValue: sslmode ?? Mode.prefer.rawValue) else {
            throw SQLError(code: .connection, message: "DATABASE_URL: sslmode=\(sslmode ?? "") is not one of "
                           + Mode.allCases.map(\.rawValue).joined(separator: ", "), sql: "")
        }
        if mode == .disable { return (mode, nil) }
        var tls = TLSConfiguration.makeClientConfiguration()
        let verify: CertificateVerification = switch mode {
        case .disable, .prefer: .none
        case .require: sslrootcert == nil ? .none : .noHostnameVerification
        case .verifyCA: .noHostnameVerification
        case .verifyFull: .fullVerification
        }
        tls.certificateVerification = verify
        if let sslrootcert, verify != .none {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(sslrootcert))
            } catch {
                throw SQLError(code: .connection, message: "DATABASE_URL: sslrootcert \(sslrootcert) cannot be read as PEM certificates: \(error)",
                               sql: "")
            }
        }
        return (mode, tls)
    }

    /// Where to connect and the name the server's certificate must carry. With `hostaddr` (as
    /// libpq's), the connection goes to that address and the URL's host is only the name checked.
    /// `verify-full` checks a name: a bare IP address as the host is refused, saying so, rather than
    /// failing each connection later (certificates name hosts, and TLS sends no IP as a name).
    static func endpoint(host: String, hostaddr: String?, mode: Mode) throws -> (address: String, serverName: String?) {
        let isAddress = host.allSatisfy { $0.isNumber || $0 == "." } || host.contains(":")
        if mode == .verifyFull && isAddress {
            throw SQLError(code: .connection, message: "DATABASE_URL: sslmode=verify-full checks the server's name, and \(host) is an address: "
                           + "name the host (its certificate's name), with hostaddr=\(host) if it does not resolve", sql: "")
        }
        return (hostaddr ?? host, isAddress ? nil : host)
    }

    /// The pool's TLS.
    static func pool(_ s: (mode: Mode, tls: TLSConfiguration?)) -> PostgresClient.Configuration.TLS {
        guard let tls = s.tls else { return .disable }
        return s.mode == .prefer ? .prefer(tls) : .require(tls)
    }

    /// One connection's TLS, for the attempt that says why the pool cannot connect.
    static func connection(_ s: (mode: Mode, tls: TLSConfiguration?)) throws -> PostgresConnection.Configuration.TLS {
        guard let tls = s.tls else { return .disable }
        let context = try NIOSSLContext(configuration: tls)
        return s.mode == .prefer ? .prefer(context) : .require(context)
    }
}
