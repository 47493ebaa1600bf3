/// Where files live: raw uploads, staging files. Keys are relative paths (`raw/<client>/<batch>`).
public protocol BlobStore: Sendable {
    /// Starts writing a new blob. Nothing is visible under `key` until `finish()` returns.
    func makeWriter(key: String) async throws -> any BlobWriter
    /// Writes a small blob whole (atomically: readers see the old one or the new one).
    func put(key: String, bytes: [UInt8]) async throws
    /// Reads `length` bytes from `offset` (fewer at the end of the blob).
    func read(key: String, offset: Int, length: Int) async throws -> [UInt8]
    func readAll(key: String) async throws -> [UInt8]
    func size(key: String) async throws -> Int
    func delete(key: String) async throws
    /// Every blob whose key starts with `prefix` (a folder, ending in `/`), with its size: what the
    /// store holds, measured, not remembered.
    func list(prefix: String) async throws -> [BlobEntry]
}

public struct BlobEntry: Sendable, Equatable {
    public var key: String
    public var size: Int
    public init(key: String, size: Int) { self.key = key; self.size = size }
}

public protocol BlobWriter: Sendable {
    func write(_ bytes: [UInt8]) async throws
    /// Makes the blob durable and visible; returns its size.
    func finish() async throws -> Int
    /// Drops what was written.
    func abort() async
}

public struct BlobError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable { case notFound, io }
    public var code: Code
    public var key: String
    public var detail: String

    public init(code: Code, key: String, detail: String) {
        self.code = code
        self.key = key
        self.detail = detail
    }

    public var description: String { "BlobError(\(code.rawValue)) \(key): \(detail)" }
}

extension BlobStore {
    /// A whole blob written as a writer of one write, made visible by `finish` or dropped: `put`
    /// for stores whose small blobs go the way large ones do.
    public func putThroughWriter(key: String, bytes: [UInt8]) async throws {
        let writer = try await makeWriter(key: key)
        do {
            try await writer.write(bytes)
            _ = try await writer.finish()
        } catch {
            await writer.abort()
            throw error
        }
    }
}

