import AsyncHTTPClient
import Foundation
import NIOSSL
import Synchronization

/// Server-side encryption asked of S3 for every object Esteira writes: the header
/// `x-amz-server-side-encryption` on each PUT and on each multipart upload's creation (parts
/// inherit it). `aes256` is SSE-S3, keys the server holds; `kms` is SSE-KMS, with the bucket's
/// default key or `kmsKeyID`. A bucket whose policy demands one of them refuses writes without it,
/// which is how an operator makes sure no process forgets (docs/deploy.md).
public enum S3ServerSideEncryption: String, Sendable, CaseIterable {
    case none
    case aes256 = "AES256"
    case kms = "aws:kms"

    /// The headers of a request that creates an object.
    public func headers(kmsKeyID: String?) -> [(String, String)] {
        switch self {
        case .none: return []
        case .aes256: return [("x-amz-server-side-encryption", rawValue)]
        case .kms:
            return [("x-amz-server-side-encryption", rawValue)]
                + (kmsKeyID.map { [("x-amz-server-side-encryption-aws-kms-key-id", $0)] } ?? [])
        }
    }
}

/// HTTP clients for S3-compatible servers whose certificate a private CA signed.
public enum S3HTTPClients {
    /// One client per CA file, for the life of the process, as `HTTPClient.shared` is: a client
    /// must be shut down before it goes, and these never go.
    private static let clients = Mutex<[String: HTTPClient]>([:])

    /// A client that trusts only the CAs in `caFile` (PEM); `HTTPClient.shared` (the system's
    /// CAs) without one. Throws when the file holds no certificate.
    public static func client(caFile: String?) throws -> HTTPClient {
        guard let caFile else { return .shared }
        return try clients.withLock { clients in
            if let client = clients[caFile] { return client }
            let roots = try NIOSSLCertificate.fromPEMFile(caFile)
            guard !roots.isEmpty else { throw S3ConfigError("ESTEIRA_S3_CA_FILE holds no certificate: \(caFile)") }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(roots)
            tls.minimumTLSVersion = .tlsv12
            var configuration = HTTPClient.Configuration()
            configuration.tlsConfiguration = tls
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[caFile] = client
            return client
        }
    }
}
