import EsteiraBlobs
import EsteiraS3
import EsteiraTestSupport
import Foundation
import Testing

/// Encryption asked of S3, and S3 reached over HTTPS with a private CA. What the server stored is
/// read back by boto3, so the encryption it reports is not Esteira's own reading of it.
@Suite("S3: server-side encryption, and HTTPS with a CA of the operator's", .enabled(if: TestS3.endpoint != nil), .serialized)
struct S3SecurityTests {
    static let curl = "/usr/bin/curl"

    /// The server-side encryption the server reports for an object, as boto3 (AWS's own SDK,
    /// installed with moto) reads it from a signed HEAD; "none" when it reports none.
    static func reportedEncryption(endpoint: String, bucket: String, key: String) throws -> String {
        let python = ListeningProcess.repositoryRoot(#filePath).path + "/.venv/bin/python"
        let script = "import boto3; c = boto3.client('s3', endpoint_url='\(endpoint)', region_name='us-east-1', "
            + "aws_access_key_id='testing', aws_secret_access_key='testing'); "
            + "print(c.head_object(Bucket='\(bucket)', Key='\(key)').get('ServerSideEncryption', 'none'))"
        return try Shell.run("'\(python)' -c \"\(script)\"", in: "/").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("ESTEIRA_S3_SSE=AES256: a small object and a multipart one are both stored encrypted, as the server reports")
    func serverSideEncryption() async throws {
        let endpoint = try #require(TestS3.endpoint)
        let bucket = "esteira-sse-\(UUID().uuidString.lowercased().prefix(12))"
        let location = try S3Location.parse(url: "s3://\(bucket)", endpoint: endpoint, region: "us-east-1")
        let store = S3BlobStore(location: location, credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"),
                                partSize: 5 << 20, encryption: .aes256)
        try await store.checkBucket(create: true)
        try await store.put(key: "raw/small.csv", bytes: Array("a;b\n".utf8))
        let writer = try await store.makeWriter(key: "raw/large.csv")
        // 11 MiB in 5 MiB parts: three parts, the multipart path.
        for _ in 0..<11 { try await writer.write([UInt8](repeating: 0x41, count: 1 << 20)) }
        #expect(try await writer.finish() == 11 << 20)

        for key in ["raw/small.csv", "raw/large.csv"] {
            #expect(try Self.reportedEncryption(endpoint: endpoint, bucket: bucket, key: key) == "AES256", "\(key)")
        }
        // Without the setting, nothing is asked: the header is absent (so the check above can fail).
        let plain = S3BlobStore(location: location, credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"))
        try await plain.put(key: "raw/plain.csv", bytes: Array("a;b\n".utf8))
        #expect(try Self.reportedEncryption(endpoint: endpoint, bucket: bucket, key: "raw/plain.csv") == "none")
    }

    @Test("an S3-compatible server over HTTPS with a private CA: trusted with ESTEIRA_S3_CA_FILE, refused without it")
    func privateCA() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-s3tls-\(UUID().uuidString.prefix(8))").path
        let certificates = try TestCertificates(in: folder, names: ["DNS:localhost", "IP:127.0.0.1"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let moto = ListeningProcess.repositoryRoot(#filePath).path + "/.venv/bin/moto_server"
        try #require(FileManager.default.isExecutableFile(atPath: moto), "moto is installed into .venv by scripts/test")
        // A port the kernel picks, then moto on it; ready once curl, trusting the CA, gets an answer.
        let port = Int(try Shell.run("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'", in: "/")
            .trimmingCharacters(in: .whitespacesAndNewlines))!
        let pidText = try Shell.run("nohup '\(moto)' -H 127.0.0.1 -p \(port) -c '\(certificates.certificateFile)' -k '\(certificates.keyFile)' "
                                    + "> '\(folder)/moto.log' 2>&1 & echo $!", in: folder)
        let pid = pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines))!
        defer { kill(pid, SIGKILL) }
        try Shell.run("for i in $(seq 200); do \(Self.curl) -s -o /dev/null --cacert '\(certificates.caFile)' https://localhost:\(port)/ && exit 0; sleep 0.1; done; exit 1",
                      in: folder)

        let location = try S3Location.parse(url: "s3://esteira-tls/files", endpoint: "https://localhost:\(port)", region: "us-east-1")
        let credentials = AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")
        let trusted = S3BlobStore(location: location, credentials: credentials, http: try S3HTTPClients.client(caFile: certificates.caFile))
        try await trusted.checkBucket(create: true)
        try await trusted.put(key: "raw/x.csv", bytes: Array("over tls\n".utf8))
        #expect(try await trusted.readAll(key: "raw/x.csv") == Array("over tls\n".utf8))

        // The system's CAs do not know this one; nor does a CA file of another CA.
        for http in [try S3HTTPClients.client(caFile: nil), try S3HTTPClients.client(caFile: certificates.otherCAFile)] {
            let untrusting = S3BlobStore(location: location, credentials: credentials, http: http, requestTimeout: .seconds(1))
            do {
                _ = try await untrusting.readAll(key: "raw/x.csv")
                Issue.record("a server whose CA is not trusted was read")
            } catch let error as BlobError {
                #expect(error.code == .io)
                #expect("\(error)".contains("certificate") || "\(error)".contains("CERTIFICATE"), "\(error)")
            }
        }
    }
}
