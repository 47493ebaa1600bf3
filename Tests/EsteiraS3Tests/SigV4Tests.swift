import EsteiraS3
import Foundation
import Testing

/// Expected signatures come from botocore (`scripts/sigv4-reference.py`); the first three are
/// also the worked examples of the Amazon S3 documentation ("Signature Calculations for the
/// Authorization Header: Transferring Payload in a Single Chunk"), with its example keys.
@Suite("AWS Signature V4")
struct SigV4Tests {
    let signer = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    /// 2013-05-24T00:00:00Z, the documentation's moment.
    let moment = Date(timeIntervalSince1970: 1_369_353_600)

    func authorization(_ signed: [(String, String)]) -> String? {
        signed.first { $0.0 == "authorization" }?.1
    }

    @Test("GET object with a range (S3 documentation example)")
    func getObject() {
        let signed = signer.sign(method: "GET", path: "/test.txt", query: [],
                                 headers: [("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-9")],
                                 payloadHash: SigV4Signer.emptyPayloadHash, date: moment)
        #expect(authorization(signed) == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.contains { $0 == ("x-amz-date", "20130524T000000Z") })
    }

    @Test("GET bucket lifecycle: a query name without a value (S3 documentation example)")
    func lifecycle() {
        let signed = signer.sign(method: "GET", path: "/", query: [("lifecycle", "")],
                                 headers: [("host", "examplebucket.s3.amazonaws.com")],
                                 payloadHash: SigV4Signer.emptyPayloadHash, date: moment)
        #expect(authorization(signed)?.hasSuffix("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543") == true)
    }

    @Test("list objects: query parameters sorted (S3 documentation example)")
    func listObjects() {
        let signed = signer.sign(method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")],
                                 headers: [("host", "examplebucket.s3.amazonaws.com")],
                                 payloadHash: SigV4Signer.emptyPayloadHash, date: moment)
        #expect(authorization(signed)?.hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == true)
    }

    @Test("path-style with a port, an encoded key and a session token (botocore)")
    func pathStyleWithToken() {
        let withToken = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                        sessionToken: "SESSION/TOKEN+="),
            region: "us-east-1")
        let path = "/bucket/" + SigV4Signer.encodePath("raw/cç/a b")
        #expect(path == "/bucket/raw/c%C3%A7/a%20b")
        let signed = withToken.sign(method: "POST", path: path, query: [("uploads", "")], headers: [("host", "127.0.0.1:9000")],
                                    payloadHash: SigV4Signer.emptyPayloadHash, date: moment)
        #expect(authorization(signed) == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
            + "Signature=dbf01e79fc30151992e99917ef363d67e52e15984d883f982fda9892db0b1671")
    }

    @Test("a part upload: payload hash and an encoded query value (botocore)")
    func uploadPart() {
        let body = Array("part".utf8)
        #expect(SigV4Signer.payloadHash(body) == "37a680133bd09342f934afb8dd2c7d9e1b624da5f35e3a38adb103e37c055ed1")
        let signed = signer.sign(method: "PUT", path: "/bucket/key", query: [("partNumber", "2"), ("uploadId", "abc/def")],
                                 headers: [("host", "127.0.0.1:9000")], payloadHash: SigV4Signer.payloadHash(body), date: moment)
        #expect(authorization(signed)?.hasSuffix("Signature=47345d39932d0bd6c1e3ee714b09563360cea0dea8ce0a456eecd54b3dd975f4") == true)
    }

    @Test("blob URLs and endpoints")
    func locations() throws {
        let aws = try S3Location.parse(url: "s3://my-bucket/esteira/prod/", endpoint: nil, region: "sa-east-1")
        #expect(aws == S3Location(bucket: "my-bucket", prefix: "esteira/prod", scheme: "https", host: "s3.sa-east-1.amazonaws.com",
                                  port: nil, pathStyle: false, region: "sa-east-1"))
        let local = try S3Location.parse(url: "s3://b", endpoint: "http://127.0.0.1:5000", region: nil)
        #expect(local == S3Location(bucket: "b", prefix: "", scheme: "http", host: "127.0.0.1", port: 5000, pathStyle: true,
                                    region: "us-east-1"))
        #expect(throws: S3ConfigError.self) { try S3Location.parse(url: "file:///tmp", endpoint: nil, region: nil) }
        #expect(throws: S3ConfigError.self) { try S3Location.parse(url: "s3://", endpoint: nil, region: nil) }
        #expect(throws: S3ConfigError.self) { try S3Location.parse(url: "s3://b", endpoint: "ftp://x", region: nil) }
    }
}
