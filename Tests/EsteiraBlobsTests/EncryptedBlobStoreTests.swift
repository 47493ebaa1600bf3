import EsteiraBlobs
import EsteiraTestSupport
import Foundation
import Testing

/// The sealed blob folder (`ESTEIRA_BLOB_ENCRYPTION_KEY`): what goes in comes out, whole and by
/// ranges; nothing of it is on disk in clear; a blob changed, cut short or sealed by an unknown key
/// does not read; a previous key still reads; and the layout is the documented one, read by a
/// second implementation (Python's `cryptography`).
@Suite("Blobs: the encrypted folder")
struct EncryptedBlobStoreTests {
    static let key = [UInt8](repeating: 7, count: 32)
    static let chunk = EncryptedBlobStore.chunk

    /// Bytes that are not all alike, with a CPF in them to look for on disk.
    static func content(_ n: Int) -> [UInt8] {
        let cpf = Array("248.438.034-80;".utf8)
        return (0..<n).map { i in i % 1000 < cpf.count ? cpf[i % 1000] : UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8) }
    }

    @Test("round trips of every size around a chunk, whole and by ranges, written in uneven pieces")
    func roundTrips() async throws {
        let local = try TestDatabase.temporaryBlobs()
        let store = EncryptedBlobStore(inner: local, key: Self.key)
        for size in [0, 1, Self.chunk - 1, Self.chunk, Self.chunk + 1, 3 * Self.chunk, 3 * Self.chunk + 5] {
            let plain = Self.content(size)
            let writer = try await store.makeWriter(key: "raw/c/\(size)")
            var at = 0, piece = 1
            while at < plain.count {
                let end = min(plain.count, at + piece)
                try await writer.write(Array(plain[at..<end]))
                at = end
                piece = piece * 7 % 100_003 + 1
            }
            #expect(try await writer.finish() == size)
            #expect(try await store.size(key: "raw/c/\(size)") == size)
            #expect(try await store.readAll(key: "raw/c/\(size)") == plain, "size \(size)")
            // On disk: the header, and each chunk 16 bytes longer (by hand: 32 + size + 16 per chunk).
            let chunks = max(1, (size + Self.chunk - 1) / Self.chunk)
            #expect(try await local.size(key: "raw/c/\(size)") == 32 + size + 16 * chunks)
            for (offset, length) in [(0, 10), (Self.chunk - 3, 7), (size / 2, Self.chunk + 9), (size, 5), (size + 10, 3), (max(0, size - 1), 100)] {
                let got = try await store.read(key: "raw/c/\(size)", offset: offset, length: length)
                let expected = offset < size ? Array(plain[offset..<min(size, offset + length)]) : []
                #expect(got == expected, "size \(size) offset \(offset) length \(length)")
            }
        }
        #expect(try await store.list(prefix: "raw/c/").map(\.size).sorted() == [0, 1, Self.chunk - 1, Self.chunk, Self.chunk + 1, 3 * Self.chunk, 3 * Self.chunk + 5].sorted())
    }

    @Test("nothing in clear on disk; changed, cut short, another key: refused; a previous key reads; files from before read as they are")
    func refusals() async throws {
        let local = try TestDatabase.temporaryBlobs()
        let store = EncryptedBlobStore(inner: local, key: Self.key)
        let plain = Self.content(2 * Self.chunk + 100)
        try await store.put(key: "raw/c/a", bytes: plain)
        let disk = try await local.readAll(key: "raw/c/a")
        #expect(disk.count == 32 + plain.count + 3 * 16)
        #expect(!String(decoding: disk, as: UTF8.self).contains("248.438.034-80"))

        // One byte changed in the second chunk.
        var changed = disk
        changed[32 + Self.chunk + 16 + 5] ^= 1
        try await local.put(key: "raw/c/changed", bytes: changed)
        await #expect(throws: BlobError.self) { try await store.readAll(key: "raw/c/changed") }
        #expect(try await store.read(key: "raw/c/changed", offset: 0, length: 10) == Array(plain[0..<10]))
        // Cut after the second chunk: the second was not sealed as the last.
        try await local.put(key: "raw/c/cut", bytes: Array(disk[0..<(32 + 2 * (Self.chunk + 16))]))
        await #expect(throws: BlobError.self) { try await store.readAll(key: "raw/c/cut") }
        // The first two chunks swapped.
        let c0 = disk[32..<(32 + Self.chunk + 16)], c1 = disk[(32 + Self.chunk + 16)..<(32 + 2 * (Self.chunk + 16))]
        try await local.put(key: "raw/c/swapped", bytes: Array(disk[0..<32]) + Array(c1) + Array(c0) + Array(disk[(32 + 2 * (Self.chunk + 16))...]))
        await #expect(throws: BlobError.self) { try await store.read(key: "raw/c/swapped", offset: 0, length: 10) }

        // Another key: refused, saying so; the old key as a previous one: read.
        let rotated = [UInt8](repeating: 9, count: 32)
        do {
            _ = try await EncryptedBlobStore(inner: local, key: rotated).readAll(key: "raw/c/a")
            Issue.record("read with another key")
        } catch let error as BlobError {
            #expect(error.detail.contains("ESTEIRA_BLOB_ENCRYPTION_KEY_PREVIOUS"), "\(error)")
        }
        #expect(try await EncryptedBlobStore(inner: local, key: rotated, previous: [Self.key]).readAll(key: "raw/c/a") == plain)

        // A file written before encryption was turned on reads as it is.
        try await local.put(key: "raw/c/old", bytes: Array("id;nome\n".utf8))
        #expect(try await store.readAll(key: "raw/c/old") == Array("id;nome\n".utf8))
        #expect(try await store.size(key: "raw/c/old") == 8)
    }

    @Test("the layout, decrypted by Python's cryptography from the documented format")
    func layoutReadBySecondTool() async throws {
        let root = ListeningProcess.repositoryRoot(#filePath).path
        let python = root + "/.venv/bin/python"
        try #require(FileManager.default.isExecutableFile(atPath: python), "scripts/test makes .venv (moto brings cryptography)")
        let local = try TestDatabase.temporaryBlobs()
        let plain = Self.content(Self.chunk + 1234)
        try await EncryptedBlobStore(inner: local, key: Self.key).put(key: "raw/c/x", bytes: plain)
        let file = local.root + "/raw/c/x"
        let script = """
            import sys, struct
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            data = open(sys.argv[1], 'rb').read()
            header, body = data[:32], data[32:]
            assert header[:16] == b'ESTEIRA-BLOB-v1\\n'
            aead = AESGCM(bytes([7] * 32))
            stride, out, i = 65536 + 16, b'', 0
            while i * stride < len(body):
                piece = body[i * stride:(i + 1) * stride]
                last = (i + 1) * stride >= len(body)
                out += aead.decrypt(header[24:32] + struct.pack('>I', i), piece, header + bytes([1 if last else 0]))
                i += 1
            sys.stdout.buffer.write(out)
            """
        try script.write(toFile: local.root + "/read.py", atomically: true, encoding: .utf8)
        let decrypted = try Shell.run("'\(python)' read.py '\(file)' | od -An -v -tx1 | tr -d ' \\n'", in: local.root)
        #expect(decrypted == plain.map { String(format: "%02x", $0) }.joined())
    }
}
