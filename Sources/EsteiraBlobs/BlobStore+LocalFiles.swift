import Foundation

extension BlobStore {
    /// Copies the blob into a local file, a chunk at a time.
    public func download(_ key: String, to url: URL, chunkSize: Int = 1 << 20) async throws {
        let size = try await self.size(key: key)
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var offset = 0
        while offset < size {
            let chunk = try await read(key: key, offset: offset, length: min(chunkSize, size - offset))
            if chunk.isEmpty { break }
            try handle.write(contentsOf: chunk)
            offset += chunk.count
        }
    }

    /// Stores a local file as the blob, a chunk at a time.
    public func upload(_ url: URL, to key: String, chunkSize: Int = 1 << 20) async throws {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let writer = try await makeWriter(key: key)
        do {
            while let data = try handle.read(upToCount: chunkSize), !data.isEmpty {
                try await writer.write(Array(data))
            }
            _ = try await writer.finish()
        } catch {
            await writer.abort()
            throw error
        }
    }
}
