import HummingbirdCore
import HummingbirdTLS
import NIOSSL

/// HTTPS for Esteira's listeners (the API of `serve`, the metrics port of `worker`): a
/// certificate chain and its private key, both PEM files, read and checked once at start.
///
/// TLS 1.2 is the floor: every client Esteira has (curl, browsers, Prometheus, the clients'
/// HTTP libraries) speaks it, and what is older is broken. Only HTTP/1.1 is offered (no ALPN
/// for h2): uploads stream through HTTP/1.1 handlers.
public struct ServerTLS: Sendable {
    public let configuration: TLSConfiguration

    /// Why a certificate and key cannot serve: which file, and what is wrong with it.
    public struct Problem: Error, CustomStringConvertible {
        public let file: String
        public let reason: String
        public var description: String { "\(file): \(reason)" }
    }

    public init(certificateFile: String, keyFile: String) throws {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificateFile) } catch {
            throw Problem(file: certificateFile, reason: "not a readable PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw Problem(file: certificateFile, reason: "holds no certificate") }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyFile, format: .pem) } catch {
            throw Problem(file: keyFile, reason: "not a readable PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                      privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // A key that is not the certificate's is only found when a context is made: made here, so
        // the process refuses to start rather than failing every handshake.
        do { _ = try NIOSSLContext(configuration: configuration) } catch {
            throw Problem(file: keyFile, reason: "does not match the certificate in \(certificateFile) (\(error))")
        }
        self.configuration = configuration
    }
}
