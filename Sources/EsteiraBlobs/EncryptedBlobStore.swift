import Crypto
import Foundation

/// Blobs encrypted before they reach the store underneath (`ESTEIRA_BLOB_ENCRYPTION_KEY`; meant
/// for the local folder, which has no encryption of its own; S3 has its server-side encryption).
///
/// A blob is cut into chunks of 64 KiB, each sealed with AES-256-GCM on its own, so that a read
/// of a range decrypts only the chunks it covers: the pipeline reads files by sub-batch ranges.
///
/// Layout (docs/security.md; `EncryptedBlobStoreTests` decrypts it with Python's `cryptography`):
///
///     header  32 bytes: "ESTEIRA-BLOB-v1\n" (16), key id (8), nonce prefix (8, random per blob)
///     chunk i ciphertext (64 KiB, the last one 0…64 KiB) + tag (16)
///
/// Chunk i's nonce is the prefix followed by i as a big-endian UInt32; its additional data is
/// the header followed by one byte, 1 for the last chunk and 0 for the others, so that chunks
/// cannot be reordered, moved to another blob, or cut off at the end unnoticed. Every blob has at
/// least one chunk (an empty blob, one empty chunk). The key id, the first 8 bytes of
/// SHA-256("esteira-blob-key" + key), says which key sealed it: a previous key
/// (`ESTEIRA_BLOB_ENCRYPTION_KEY_PREVIOUS`) still reads, and a blob sealed by an unknown key is an
/// error that says so. Blobs written before encryption was turned on (no header) read as they are.
public struct EncryptedBlobStore: BlobStore {
    public static let chunk = 64 << 10
    static let tag = 16
    static let headerSize = 32
    static let magic = Array("ESTEIRA-BLOB-v1\n".utf8)

    let inner: any BlobStore
    /// The key new blobs are sealed with.
    // Kept as bytes (SymmetricKey is not Sendable here), made into a key for each use.
    let current: (id: [UInt8], key: [UInt8])
    /// Every key that may read, by id.
    let readers: [[UInt8]: [UInt8]]

    /// `key` and `previous` are 32 bytes each.
    public init(inner: any BlobStore, key: [UInt8], previous: [[UInt8]] = []) {
        self.inner = inner
        let current = (id: Self.keyID(key), key: key)
        self.current = current
        var readers = [current.id: current.key]
        for p in previous { readers[Self.keyID(p)] = p }
        self.readers = readers
    }

    static func keyID(_ key: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: Array("esteira-blob-key".utf8) + key).prefix(8))
    }

    /// The stored size of a blob of `plain` bytes.
    static func sealedSize(_ plain: Int) -> Int {
        let chunks = max(1, (plain + chunk - 1) / chunk)
        return headerSize + plain + chunks * tag
    }

    /// The plain size of a stored blob of `sealed` bytes (its header included).
    static func plainSize(_ sealed: Int) -> Int {
        let body = sealed - headerSize
        let chunks = max(1, (body + chunk + tag - 1) / (chunk + tag))
        return max(0, body - chunks * tag)
    }

    /// The blob's header, or nil for a blob written before encryption.
    func header(_ key: String) async throws -> [UInt8]? {
        let head = try await inner.read(key: key, offset: 0, length: Self.headerSize)
        guard head.count == Self.headerSize, Array(head.prefix(16)) == Self.magic else { return nil }
        return head
    }

    func opener(_ header: [UInt8], _ blobKey: String) throws -> [UInt8] {
        let id = Array(header[16..<24])
        guard let key = readers[id] else {
            throw BlobError(code: .io, key: blobKey, detail: "sealed with another key (id \(id.map { String(format: "%02x", $0) }.joined())); "
                            + "set it as ESTEIRA_BLOB_ENCRYPTION_KEY or ESTEIRA_BLOB_ENCRYPTION_KEY_PREVIOUS")
        }
        return key
    }

    static func nonce(_ header: [UInt8], _ index: Int) throws -> AES.GCM.Nonce {
        let i = UInt32(index)
        return try AES.GCM.Nonce(data: Array(header[24..<32]) + [UInt8(i >> 24), UInt8(i >> 16 & 0xff), UInt8(i >> 8 & 0xff), UInt8(i & 0xff)])
    }

    static func seal(_ plain: ArraySlice<UInt8>, index: Int, last: Bool, header: [UInt8], key: [UInt8]) throws -> [UInt8] {
        let box = try AES.GCM.seal(plain, using: SymmetricKey(data: key), nonce: try nonce(header, index), authenticating: header + [last ? 1 : 0])
        return Array(box.ciphertext) + Array(box.tag)
    }

    static func open(_ sealed: ArraySlice<UInt8>, index: Int, last: Bool, header: [UInt8], key: [UInt8]) throws -> [UInt8] {
        let box = try AES.GCM.SealedBox(nonce: try nonce(header, index), ciphertext: sealed.dropLast(tag), tag: sealed.suffix(tag))
        return Array(try AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: header + [last ? 1 : 0]))
    }

    public func makeWriter(key: String) async throws -> any BlobWriter {
        var header = Self.magic + current.id
        var prefix = [UInt8](repeating: 0, count: 8)
        var random = SystemRandomNumberGenerator()
        for i in prefix.indices { prefix[i] = random.next() }
        header += prefix
        let writer = try await inner.makeWriter(key: key)
        do {
            try await writer.write(header)
        } catch {
            await writer.abort()
            throw error
        }
        return EncryptedBlobWriter(inner: writer, header: header, key: current.key, blobKey: key)
    }

    public func put(key: String, bytes: [UInt8]) async throws {
        try await putThroughWriter(key: key, bytes: bytes)
    }

    public func read(key: String, offset: Int, length: Int) async throws -> [UInt8] {
        guard let header = try await header(key) else { return try await inner.read(key: key, offset: offset, length: length) }
        guard length > 0 else { return [] }
        let cipher = try opener(header, key)
        let first = offset / Self.chunk, last = (offset + length - 1) / Self.chunk
        let stride = Self.chunk + Self.tag
        // One byte more than the chunks asked for says whether another follows: the last chunk
        // of the blob must open as the last, or the blob was cut short.
        let span = (last - first + 1) * stride
        let sealed = try await inner.read(key: key, offset: Self.headerSize + first * stride, length: span + 1)
        let more = sealed.count > span
        let body = sealed.prefix(span)
        var plain: [UInt8] = []
        plain.reserveCapacity((last - first + 1) * Self.chunk)
        var at = 0, index = first
        while at < body.count {
            let end = min(at + stride, body.count)
            do {
                plain += try Self.open(body[at..<end], index: index, last: end == body.count && !more, header: header, key: cipher)
            } catch {
                throw corrupt(key, index)
            }
            at = end
            index += 1
        }
        // Asked past the end: what there is, as a plain file answers.
        let start = offset - first * Self.chunk
        guard start < plain.count else { return [] }
        return Array(plain[start..<min(plain.count, start + length)])
    }

    func corrupt(_ key: String, _ index: Int) -> BlobError {
        BlobError(code: .io, key: key, detail: "chunk \(index) does not open: the blob was changed or cut short")
    }

    public func readAll(key: String) async throws -> [UInt8] {
        try await read(key: key, offset: 0, length: try await size(key: key))
    }

    public func size(key: String) async throws -> Int {
        let sealed = try await inner.size(key: key)
        guard try await header(key) != nil else { return sealed }
        return Self.plainSize(sealed)
    }

    public func delete(key: String) async throws { try await inner.delete(key: key) }

    public func list(prefix: String) async throws -> [BlobEntry] {
        var out: [BlobEntry] = []
        for entry in try await inner.list(prefix: prefix) {
            let sealed = try await header(entry.key) != nil
            out.append(BlobEntry(key: entry.key, size: sealed ? Self.plainSize(entry.size) : entry.size))
        }
        return out
    }
}

/// Seals whole chunks as they fill. The last full chunk is held back until more comes or the blob
/// finishes, for only then is it known whether it is the last.
final class EncryptedBlobWriter: BlobWriter, @unchecked Sendable {
    // @unchecked: like the writer it wraps, used by one task at a time; the lock turns a misuse
    // into an error rather than a corrupt blob.
    private let lock = NSLock()
    private let inner: any BlobWriter
    private let header: [UInt8]
    private let key: [UInt8]
    private let blobKey: String
    private var pending: [UInt8] = []
    private var index = 0
    private var size = 0

    init(inner: any BlobWriter, header: [UInt8], key: [UInt8], blobKey: String) {
        self.inner = inner
        self.header = header
        self.key = key
        self.blobKey = blobKey
    }

    func write(_ bytes: [UInt8]) async throws {
        let sealed: [UInt8] = try lock.withLock {
            pending += bytes
            size += bytes.count
            var out: [UInt8] = []
            // Keep at least one byte back: a chunk is sealed only when it is known not to be the last.
            var start = 0
            while pending.count - start > EncryptedBlobStore.chunk {
                out += try EncryptedBlobStore.seal(pending[start..<start + EncryptedBlobStore.chunk], index: index, last: false,
                                                   header: header, key: key)
                index += 1
                start += EncryptedBlobStore.chunk
            }
            pending.removeFirst(start)
            return out
        }
        if !sealed.isEmpty { try await inner.write(sealed) }
    }

    func finish() async throws -> Int {
        let (last, size): ([UInt8], Int) = try lock.withLock {
            let sealed = try EncryptedBlobStore.seal(pending[...], index: index, last: true, header: header, key: key)
            pending = []
            return (sealed, self.size)
        }
        try await inner.write(last)
        _ = try await inner.finish()
        return size
    }

    func abort() async { await inner.abort() }
}
