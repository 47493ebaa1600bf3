import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// The one way into the pipeline for every channel that brings a file: the API's upload, a
/// submission submitted, the web pages' confirmed draft and the SFTP drop folder. The channel says
/// who sent what and where its bytes come from; the intake keeps them under the batch's raw key,
/// records the batch with its first job in one durable transaction, and wakes this process's
/// workers. A failure leaves nothing behind: neither a file nor a batch.
///
/// (A single debt, `POST /v1/debts`, is registered before its answer and never queued: it keeps
/// its own path, `SingleDebtRegistration`.)
public struct Intake: Sendable {
    public let db: any SQLDatabase
    public let blobs: any BlobStore
    public let retry: RetryPolicy
    public let jobsReady: @Sendable () async -> Void

    public init(db: any SQLDatabase, blobs: any BlobStore, retry: RetryPolicy, jobsReady: @escaping @Sendable () async -> Void) {
        self.db = db
        self.blobs = blobs
        self.retry = retry
        self.jobsReady = jobsReady
    }

    /// Who sent a file, how, and under which format.
    public struct Arrival: Sendable {
        public var client: ClientRecord
        public var source: String
        public var fileName: String?
        public var format: SavedFormat?
        public var batchID: String
        public var traceID: String
        public var receivedAt: Date
        /// A preview first (`BatchRecord.dryRun`).
        public var dryRun: Bool
        /// The client's whole open portfolio (`BatchRecord.fullPortfolio`).
        public var fullPortfolio = false
        /// What the file took of the client's daily quota as it arrived (nil: taken when read).
        public var rowsReserved: Int?

        public init(client: ClientRecord, source: String, fileName: String?, format: SavedFormat? = nil,
                    batchID: String = UUID().uuidString.lowercased(), traceID: String = BatchRecord.newTraceID(), receivedAt: Date = Date(),
                    dryRun: Bool = false, fullPortfolio: Bool = false) {
            self.dryRun = dryRun
            self.fullPortfolio = fullPortfolio
            self.client = client
            self.source = source
            self.fileName = fileName
            self.format = format
            self.batchID = batchID
            self.traceID = traceID
            self.receivedAt = receivedAt
        }

        public var blobKey: String { BlobKeys.raw(clientID: client.id, batchID: batchID) }
    }

    /// Keeps what `write` writes (through `limit`, when given, which may refuse) as the batch's
    /// raw file, then accepts it; `alongside` runs in the batch's transaction. `write` answers the
    /// file's name when the stream carried one (a multipart part's): it names a batch that the
    /// arrival did not name.
    /// `reserve`: once the file is written, what it took of the client's daily quota (recorded
    /// on the batch; `alongside` takes it in the batch's transaction).
    public func receive(_ arrival: Arrival, limit: (@Sendable (any BlobWriter) -> any BlobWriter)? = nil,
                        reserve: (@Sendable () -> Int?)? = nil,
                        alongside: (@Sendable (any SQLConnection) async throws -> Void)? = nil,
                        write: (any BlobWriter) async throws -> String?) async throws -> BatchRecord {
        let raw = try await blobs.makeWriter(key: arrival.blobKey)
        let writer = limit?(raw) ?? raw
        var arrival = arrival
        let size: Int
        do {
            let named = try await write(writer)
            if arrival.fileName == nil { arrival.fileName = named }
            size = try await writer.finish()
        } catch {
            await writer.abort()
            throw error
        }
        arrival.rowsReserved = reserve?()
        return try await accept(arrival, byteSize: size, alongside: alongside)
    }

    /// Records the batch of a raw file already kept under `arrival.blobKey`, with its first job.
    /// When that fails the file is removed, unless `keepFileOnFailure` (a draft the client may confirm again).
    public func accept(_ arrival: Arrival, byteSize: Int, keepFileOnFailure: Bool = false,
                       alongside: (@Sendable (any SQLConnection) async throws -> Void)? = nil) async throws -> BatchRecord {
        var batch = BatchRecord(newID: arrival.batchID, client: arrival.client, source: arrival.source, fileName: arrival.fileName,
                                blobKey: arrival.blobKey, byteSize: byteSize, receivedAt: arrival.receivedAt, traceID: arrival.traceID,
                                format: arrival.format)
        batch.dryRun = arrival.dryRun
        batch.fullPortfolio = arrival.fullPortfolio || arrival.format?.format.fullPortfolio == true
        do {
            try await BatchStore(db: db).create(batch, retry: retry, rowsReserved: arrival.rowsReserved, alongside: alongside)
        } catch {
            if !keepFileOnFailure { try? await blobs.delete(key: arrival.blobKey) }
            throw error
        }
        await jobsReady()
        return batch
    }
}
