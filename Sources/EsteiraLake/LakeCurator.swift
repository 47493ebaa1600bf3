import EsteiraBlobs
import EsteiraCore
import EsteiraParquet
import Foundation

/// One month of one table, taken through the raw and curated layers of the lake (docs/lake.md):
///
/// - raw: the file as received, `lake/raw/tb_<table>/ano=AAAA/mes=MM/run=<run id>/<name>`, never
///   changed, every file ever received kept;
/// - curated: the typed, deduplicated rows as Parquet, `lake/curated/<table>/ano=AAAA/mes=MM/part-00000.parquet`
///   (dates as DATE, money as DECIMAL(15,2));
/// - quarantine: the rows kept out, `lake/quarantine/<table>/ano=AAAA/mes=MM/quarantine.csv`
///   (`linha;campo;codigo;motivo;registro`);
/// - the reconciliation, `…/curated/<table>/ano=AAAA/mes=MM/_reconciliation.json`:
///   raw = curated + duplicates + quarantined, each side measured apart from the pass that wrote
///   it: the raw records counted in the raw file, the curated rows read from the written Parquet
///   file's footer, the quarantined records counted in the written quarantine file. Only the
///   duplicates are the pass's own count. A month that does not balance fails its step.
///
/// Each object is replaced whole (the blob store writes a new object and renames it into place),
/// so a reader sees the month before or after a re-run, never half of one.
public struct LakeCurator: Sendable {
    let blobs: any BlobStore

    public init(blobs: any BlobStore) { self.blobs = blobs }

    /// How the lake's Parquet pages are compressed: GZIP (zlib level 1). Snappy was faster but
    /// made the files much larger (docs/benchmarks.md), and was removed.
    public static let compression = ParquetWriter.Compression.gzip

    public struct Report: Sendable, Codable, Equatable {
        public var table: String
        public var month: String
        public var file: String
        public var counts: LakeCounts
        public var curatedKey: String
        public var quarantineKey: String
        public var rawBytes: Int
        public var curatedBytes: Int
        /// How long the step took, raw to reconciliation.
        public var seconds: Double
        /// What the typing pass counted, beside what was measured in the files (`counts`).
        public var passCounts: LakeCounts
        public var balanced: Bool

        enum CodingKeys: String, CodingKey {
            case table, month, file, counts, curatedKey = "curated_key", quarantineKey = "quarantine_key", rawBytes = "raw_bytes",
                 curatedBytes = "curated_bytes", seconds, passCounts = "pass_counts", balanced
        }
    }

    /// The raw layer's key of a file as received by a run. Each run lands its files in a folder of
    /// its own, so a month sent again lands beside the files it replaces in the curated layer
    /// instead of over them: the raw layer keeps everything ever received.
    public static func rawKey(table: LakeTable, month: LakeMonth, run: String, fileName: String) -> String {
        "lake/raw/\(table.fileStem)/\(month.partition)/run=\(run)/\(fileName)"
    }

    /// Lands a file in the raw layer exactly as received, for run `run`; returns its key. Landing
    /// again for the same run (a step retried) writes the same file to the same key.
    public func land(table: LakeTable, month: LakeMonth, run: String, fileName: String, bytes: [UInt8]) async throws -> String {
        let key = Self.rawKey(table: table, month: month, run: run, fileName: fileName)
        try await blobs.put(key: key, bytes: bytes)
        return key
    }

    /// Curates a file landed in raw: the typed, deduplicated rows, the quarantine and the reconciliation.
    public func curate(table: LakeTable, month: LakeMonth, fileName: String, bytes: [UInt8]) async throws -> Report {
        let started = ContinuousClock.now
        let part = month.partition
        let curated = try LakeFile.curate(bytes, table: table)

        let columns = table.fields.map { f in
            switch f.type {
            case .text: return ParquetColumn(f.name, .string)
            case .day: return ParquetColumn(f.name, .date)
            case .money: return ParquetColumn(f.name, .decimal(precision: 15, scale: 2))
            }
        }
        var writer = ParquetWriter(columns: columns, compression: Self.compression)
        for row in curated.rows {
            try writer.append(row.values.map {
                switch $0 {
                case .text(let s): return .string(s)
                case .day(let d): return .int(Int64(d.daysSinceEpoch))
                case .money(let c): return .int(c)
                }
            })
        }
        let parquet = try writer.finish()
        let curatedKey = "lake/curated/\(table.rawValue)/\(part)/part-00000.parquet"
        try await blobs.put(key: curatedKey, bytes: parquet)

        var quarantine = "linha;campo;codigo;motivo;registro\n"
        for q in curated.quarantined {
            quarantine += "\(q.line);\(q.field);\(q.code);\(Self.csvField(q.reason));\(Self.csvField(q.raw))\n"
        }
        let quarantineKey = "lake/quarantine/\(table.rawValue)/\(part)/quarantine.csv"
        try await blobs.put(key: quarantineKey, bytes: Array(quarantine.utf8))

        // Measured in what was written, read back from the store.
        let measured = LakeCounts(raw: LakeFile.dataRecords(in: bytes),
                                  curated: try ParquetReader(try await blobs.readAll(key: curatedKey)).rowCount,
                                  duplicates: curated.counts.duplicates,
                                  quarantined: LakeFile.dataRecords(in: try await blobs.readAll(key: quarantineKey)))
        let balanced = measured.isBalanced && measured == curated.counts
        let report = Report(table: table.rawValue, month: month.description, file: fileName, counts: measured,
                            curatedKey: curatedKey, quarantineKey: quarantineKey, rawBytes: bytes.count, curatedBytes: parquet.count,
                            seconds: (ContinuousClock.now - started).seconds, passCounts: curated.counts, balanced: balanced)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try await blobs.put(key: "lake/curated/\(table.rawValue)/\(part)/_reconciliation.json", bytes: Array(try encoder.encode(report)))
        guard balanced else {
            throw LakeRunError(description: "reconciliation of \(table.rawValue) \(month) does not balance: raw \(measured.raw) ≠ curated "
                + "\(measured.curated) + duplicates \(measured.duplicates) + quarantined \(measured.quarantined) (the pass counted \(curated.counts))")
        }
        return report
    }

    /// A CSV field for `;`-separated files, quoted when it must be.
    static func csvField(_ s: String) -> String {
        s.contains(";") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
