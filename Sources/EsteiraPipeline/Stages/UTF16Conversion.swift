import EsteiraBlobs
import EsteiraCore
import EsteiraStore

/// A UTF-16 text file (recognized by its byte order mark) turned into the UTF-8 the pipeline
/// reads, stored beside the raw file (`BlobKeys.converted`) as a spreadsheet's CSV is; the raw
/// file stays as the client sent it. Line numbers are the same in both.
struct UTF16Conversion {
    let pipeline: Pipeline

    /// The converted file's key, or nil when the file is not UTF-16.
    func convertIfUTF16(_ batch: BatchRecord, head: [UInt8], size: Int) async throws -> String? {
        guard let order = UTF16Decoder.byteOrder(of: head) else { return nil }
        var decoder = UTF16Decoder(order)
        let key = BlobKeys.converted(batchID: batch.id)
        let writer = try await pipeline.blobs.makeWriter(key: key)
        do {
            var offset = 0
            while offset < size {
                let chunk = try await pipeline.blobs.read(key: batch.blobKey, offset: offset, length: min(pipeline.chunkSize, size - offset))
                if chunk.isEmpty { break }
                try await writer.write(decoder.decode(chunk))
                offset += chunk.count
            }
            try await writer.write(decoder.finish())
            _ = try await writer.finish()
        } catch {
            await writer.abort()
            throw error
        }
        return key
    }
}
