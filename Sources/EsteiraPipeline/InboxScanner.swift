import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation
import Logging
import ServiceLifecycle

/// The drop folder: each client has `<root>/<client id>/` with three folders.
///
/// - `upload/`: where the client puts files (by SFTP, say). A file is taken once it has its final
///   name: names starting with a dot or ending in `.part`, `.tmp` or `.filepart` are uploads in
///   progress and are left alone, so a client uploads as `x.csv.part` and renames to `x.csv`
///   (one atomic rename). A file whose last change is younger than `quietSeconds` also waits, for
///   clients that write the final name directly.
/// - `processing/`: a taken file, renamed to `<batch id>__<name>` (the rename is the claim: of
///   several Esteira processes on one folder, one wins). Its bytes go to raw storage and its batch
///   starts like an upload's. It stays here until its batch is final; then it is deleted, or, if
///   the batch failed, moved to `failed/`.
/// - `failed/`: files that could not be processed, each beside `<name>.error.txt`, in Portuguese.
/// - `retorno/`: what became of each file, for the client to fetch: `<name>.resultado.csv` (the
///   batch's counts, then every reject with its line, field, code and message) once its batch
///   ends, or `<name>.erro.txt` for a file refused as a whole. Each is written under a dot name
///   and renamed into place, so a client never reads one half written.
///
/// Every step can be repeated after a crash: a file in `processing/` whose batch does not exist
/// yet is taken in again under the same batch id.
public struct InboxScanner: Service {
    let db: any SQLDatabase
    let blobs: any BlobStore
    let root: String
    let logger: Logger
    var retry = RetryPolicy()
    var intervalSeconds: Double = 2
    var quietSeconds: Double = 2
    /// The largest file taken (a bigger one goes to `failed/`).
    var maxBytes = 2 << 30
    let jobsReady: @Sendable () async -> Void

    public init(db: any SQLDatabase, blobs: any BlobStore, root: String, logger: Logger, retry: RetryPolicy = RetryPolicy(),
                intervalSeconds: Double = 2, quietSeconds: Double = 2, maxBytes: Int = 2 << 30,
                jobsReady: @escaping @Sendable () async -> Void = {}) {
        self.db = db
        self.blobs = blobs
        self.root = root
        self.logger = logger
        self.retry = retry
        self.intervalSeconds = intervalSeconds
        self.quietSeconds = quietSeconds
        self.maxBytes = maxBytes
        self.jobsReady = jobsReady
    }

    static let inProgressSuffixes = [".part", ".tmp", ".filepart"]
    static let separator = "__"

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        logger.info("inbox watched", metadata: ["root": "\(root)", "interval_seconds": "\(intervalSeconds)"])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await scanOnce()
            } catch {
                logger.error("inbox scan failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(intervalSeconds))
        }
    }

    /// One pass over every client's folder.
    public func scanOnce(now: Date = Date()) async throws {
        let fm = FileManager.default
        for clientID in (try? fm.contentsOfDirectory(atPath: root)) ?? [] where !clientID.hasPrefix(".") {
            guard let client = try await ClientStore(db: db).get(id: clientID) else { continue }
            let base = root + "/" + clientID
            for folder in ["upload", "processing", "failed", "retorno"] {
                try? fm.createDirectory(atPath: base + "/" + folder, withIntermediateDirectories: true)
            }
            try await followProcessing(client: client, base: base)
            try await takeUploads(client: client, base: base, now: now)
        }
    }

    /// Claims complete files of `upload/` and starts their batches.
    func takeUploads(client: ClientRecord, base: String, now: Date) async throws {
        let fm = FileManager.default
        for name in ((try? fm.contentsOfDirectory(atPath: base + "/upload")) ?? []).sorted() {
            guard !name.hasPrefix("."), !Self.inProgressSuffixes.contains(where: { name.lowercased().hasSuffix($0) }) else { continue }
            let path = base + "/upload/" + name
            guard let attributes = try? fm.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            if let modified = attributes[.modificationDate] as? Date, now.timeIntervalSince(modified) < quietSeconds { continue }
            let batchID = UUID().uuidString.lowercased()
            let claimed = base + "/processing/" + batchID + Self.separator + name
            // The claim: rename(2) within the folder is atomic, and fails if another process took it.
            guard rename(path, claimed) == 0 else { continue }
            try await intake(client: client, base: base, path: claimed, batchID: batchID, name: name)
        }
    }

    /// Deletes the files whose batch completed, moves those whose batch failed to `failed/`, and
    /// takes in again those whose batch was never created (a crash after the claim).
    func followProcessing(client: ClientRecord, base: String) async throws {
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: base + "/processing")) ?? [] {
            guard let range = entry.range(of: Self.separator) else { continue }
            let batchID = String(entry[..<range.lowerBound]), name = String(entry[range.upperBound...])
            let path = base + "/processing/" + entry
            guard let batch = try await BatchStore(db: db).get(id: batchID, clientID: client.id) else {
                try await intake(client: client, base: base, path: path, batchID: batchID, name: name)
                continue
            }
            switch batch.status {
            case .completed, .completedWithRejects:
                // The return file first: a crash between the two writes it again, never loses it.
                try await writeResult(batch, base: base, name: name)
                try? fm.removeItem(atPath: path)
            case .failed:
                let message = "O arquivo \(name) não pôde ser processado: \(batch.error ?? "erro desconhecido")"
                    + (batch.errorCode.map { " (código \($0))" } ?? "") + ". Lote \(batch.id)."
                await fail(base: base, path: path, name: name, message: message)
            case .cancelled:
                await fail(base: base, path: path, name: name, message: "O processamento do arquivo \(name) foi cancelado pela equipe de operação"
                           + " depois de registrar \(batch.counts.registered) dívida(s). Lote \(batch.id).")
            case .received, .processing, .previewed, .stalled:
                continue
            }
        }
    }

    /// Copies the file to raw storage and records its batch and pick job, under `batchID`.
    func intake(client: ClientRecord, base: String, path: String, batchID: String, name: String) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxBytes else {
            await fail(base: base, path: path, name: name,
                       message: "O arquivo \(name) tem \(size) bytes; o limite é \(maxBytes) bytes. Divida-o em arquivos menores.")
            return
        }
        let format = try await ClientFormatStore(db: db).defaultFormat(clientID: client.id)
        let batch = try await Intake(db: db, blobs: blobs, retry: retry, jobsReady: jobsReady).receive(
            Intake.Arrival(client: client, source: "sftp", fileName: name, format: format, batchID: batchID)
        ) { writer in
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                try await writer.write(Array(chunk))
            }
            return nil
        }
        let written = batch.byteSize
        var log = logger
        log[metadataKey: "batch_id"] = "\(batchID)"
        log[metadataKey: "trace_id"] = "\(batch.traceID)"
        log.info("batch received", metadata: ["bytes": "\(written)", "source": "sftp"])
    }

    /// Moves the file to `failed/` and writes the reason beside it and in `retorno/<name>.erro.txt`.
    func fail(base: String, path: String, name: String, message: String) async {
        let target = base + "/failed/" + name
        try? FileManager.default.removeItem(atPath: target)
        _ = rename(path, target)
        let text = Data((message + "\n").utf8)
        _ = FileManager.default.createFile(atPath: target + ".error.txt", contents: text)
        do {
            try await Self.place(at: base + "/retorno", name: name + ".erro.txt") { try $0.write(contentsOf: text) }
        } catch {
            logger.error("inbox return file not written", metadata: ["file": "\(name)", "error": "\(error)"])
        }
        logger.warning("inbox file failed", metadata: ["file": "\(name)"])
    }

    /// `retorno/<name>.resultado.csv`: the batch's counts, then its reject report, as the API's
    /// `rejects.csv` writes it; read page by page, however many rejects there are.
    func writeResult(_ batch: BatchRecord, base: String, name: String) async throws {
        let c = batch.counts
        let text = "\u{FEFF}lote;arquivo;situação;recebidas;registradas;alteradas;baixadas;duplicadas;rejeitadas;em revisão\r\n"
            + "\(batch.id);\(SpreadsheetCSV.cell(name));\(batch.status.portugueseName);\(c.received);\(c.registered);\(c.updated);"
            + "\(c.withdrawn);\(c.duplicates);\(c.rejected);\(c.review)\r\n\r\n" + SpreadsheetCSV.rejectHeader
        let registry = DebtRegistry(db: db)
        try await Self.place(at: base + "/retorno", name: name + ".resultado.csv") { out in
            try out.write(contentsOf: Data(text.utf8))
            try await registry.rejectReport(batchID: batch.id) { try out.write(contentsOf: Data($0.utf8)) }
        }
    }

    /// Writes a return file under a dot name through `body`, then renames it into place.
    static func place(at folder: String, name: String, _ body: (FileHandle) async throws -> Void) async throws {
        let temporary = folder + "/." + name + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o644]),
              let out = FileHandle(forWritingAtPath: temporary) else {
            throw ReturnFileError(path: temporary, operation: "create")
        }
        do {
            try await body(out)
            try out.close()
        } catch {
            try? out.close()
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        guard rename(temporary, folder + "/" + name) == 0 else { throw ReturnFileError(path: folder + "/" + name, operation: "rename") }
    }
}

struct ReturnFileError: Error, CustomStringConvertible {
    var path: String
    var operation: String
    var code = errno
    var description: String { "cannot \(operation) the return file \(path) (errno \(code))" }
}
