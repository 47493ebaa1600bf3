import EsteiraBlobs
import EsteiraCore
import EsteiraSheets
import EsteiraStore
import Foundation

/// Turns a spreadsheet batch into the CSV the pipeline reads, stored beside the raw file
/// (`BlobKeys.converted`), which stays as the client sent it.
///
/// Recognized by content, not by name: a ZIP is read as XLSX; an OLE2 file is an XLS (Excel
/// 97-2003), converted to XLSX by LibreOffice where it is installed, or, named `.xlsx`, an XLSX
/// saved with a password. Running the conversion twice (a retried pick) rewrites the same CSV.
public struct SpreadsheetConversion {
    let pipeline: Pipeline

    /// The converted CSV's key, or nil when the file is not a spreadsheet.
    func convertIfSpreadsheet(_ batch: BatchRecord, head: [UInt8]) async throws -> String? {
        try await Self.withLocalWorkbook(blobs: pipeline.blobs, key: batch.blobKey, head: head,
                                         fileName: batch.fileName ?? "") { workbook in
            let csv = workbook.deletingLastPathComponent().appendingPathComponent("sheet.csv")
            let format = batch.clientFormat
            do {
                _ = try await CPUWork.run {
                    try SheetToCSV.convert(xlsx: workbook, to: csv, dateFormat: format?.dateFormat ?? .auto,
                                           decimalFormat: format?.decimalFormat ?? .auto)
                }
            } catch let problem as SheetProblem {
                throw FileProblem(problem)
            }
            let key = BlobKeys.converted(batchID: batch.id)
            try await pipeline.blobs.upload(csv, to: key, chunkSize: pipeline.chunkSize)
            return key
        }
    }

    /// When the blob is a spreadsheet (its first bytes say so), runs `body` with the XLSX to read,
    /// copied into a temporary folder (an XLS converted by LibreOffice first) that is removed
    /// afterwards; nil for anything else, which touches no disk.
    public static func withLocalWorkbook<T: Sendable>(blobs: any BlobStore, key: String, head: [UInt8], fileName: String,
                                                      _ body: (URL) async throws -> T) async throws -> T? {
        let isZip = head.starts(with: SpreadsheetSignature.zip)
        let isOLE2 = head.starts(with: SpreadsheetSignature.ole2)
        guard isZip || isOLE2 else { return nil }
        if isOLE2 && fileName.lowercased().hasSuffix(".xlsx") { throw FileProblem.spreadsheetWithPassword }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-sheet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let received = folder.appendingPathComponent(isZip ? "file.xlsx" : "file.xls")
        try await blobs.download(key, to: received)
        return try await body(isOLE2 ? try await LibreOffice.convertToXLSX(received, in: folder) : received)
    }
}

/// LibreOffice, where installed, for the spreadsheets Esteira does not read itself (XLS).
public enum LibreOffice {
    /// `soffice` or `libreoffice` on the PATH.
    static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            for name in ["soffice", "libreoffice"] {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    public static func convertToXLSX(_ xls: URL, in folder: URL, timeoutSeconds: Double = 120) async throws -> URL {
        guard let soffice = executable else {
            throw FileProblem.spreadsheetUnsupported("Planilhas XLS (Excel 97-2003) precisam do LibreOffice, que não está instalado neste servidor. Salve a planilha como XLSX ou CSV e envie de novo.")
        }
        let status: Int32 = try await CPUWork.run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: soffice)
            // A private profile: a second conversion at the same time would otherwise wait on the
            // first's lock. The input filter is XLS only: without it LibreOffice opens a file it
            // cannot read as XLS as plain text, and "converts" garbage.
            process.arguments = ["-env:UserInstallation=file://\(folder.path)/profile", "--headless", "--norestore",
                                 "--infilter=MS Excel 97", "--convert-to", "xlsx", "--outdir", folder.path, xls.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Bounded: a conversion that hangs is killed, and the batch fails instead of its job.
            let deadline = Date().addingTimeInterval(timeoutSeconds)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning {
                process.terminate()
                return -1
            }
            return process.terminationStatus
        }
        let out = xls.deletingPathExtension().appendingPathExtension("xlsx")
        guard status == 0, FileManager.default.fileExists(atPath: out.path) else {
            throw FileProblem.spreadsheetCorrupt("Não foi possível abrir a planilha XLS (o LibreOffice não a converteu). Salve-a como XLSX ou CSV e envie de novo.")
        }
        return out
    }
}
