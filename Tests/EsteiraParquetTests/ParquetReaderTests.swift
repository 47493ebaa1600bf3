import EsteiraParquet
import EsteiraTestSupport
import Foundation
import Testing

@Suite("Parquet read back: Esteira's own files, and pyarrow's")
struct ParquetReaderTests {
    @Test("what the writer wrote (checked by pyarrow and DuckDB in ParquetWriterTests) comes back the same", arguments: [ParquetWriter.Compression.gzip, .none])
    func roundTrip(compression: ParquetWriter.Compression) throws {
        var writer = ParquetWriter(columns: ParquetWriterTests.columns, compression: compression, rowGroupRows: 7)
        var rows: [[ParquetValue]] = []
        for i in 0..<40 {
            let row: [ParquetValue] = [.string("F\(i % 13)"), i % 3 == 0 ? .null : .string(["São Paulo", "Belém"][i % 2]), .int(Int64(20_000 + i)),
                                       .int(Int64(i * 1_001 - 7_000)), i % 5 == 0 ? .null : .int(Int64(i)), i % 4 == 0 ? .null : .double(Double(i) / 3)]
            rows.append(row)
            try writer.append(row)
        }
        let reader = try ParquetReader(try writer.finish())
        #expect(reader.rowCount == 40 && reader.columns.map(\.name) == ParquetWriterTests.columns.map(\.name))
        #expect(reader.columns.map(\.kind) == ParquetWriterTests.columns.map(\.kind) && reader.columns.map(\.optional) == ParquetWriterTests.columns.map(\.optional))
        #expect(try reader.rows() == rows)
    }

    @Test("a file pyarrow writes (GZIP or none, data pages v1, dictionaries) reads as pyarrow wrote it", arguments: ["gzip", "none"])
    func fromPyarrow(codec: String) throws {
        let reader = try ParquetReader(try Self.pyarrowFile(codec: codec))
        #expect(reader.columns.map(\.kind) == [.string, .string, .date, .decimal(precision: 15, scale: 2)])
        let rows = try reader.rows()
        #expect(rows.count == 1000)
        // 2026-01-01 is day 20,454 since 1970-01-01 (56 years with 14 leap days).
        for (i, row) in rows.enumerated() {
            #expect(row == [.string("P\(i)"), i % 10 == 0 ? .null : .string("C\(i % 37)"), .int(Int64(20_454 + i % 400)), .int(Int64(i * 7 - 300))])
        }
    }

    @Test("a Snappy file (a codec Esteira neither writes nor reads) is refused with its codec named")
    func snappyRefused() throws {
        let reader = try ParquetReader(try Self.pyarrowFile(codec: "snappy"))
        // Parquet's codec 1 is SNAPPY.
        #expect(throws: ParquetReader.Problem.corrupt("pages compressed with codec 1 (only uncompressed and GZIP are read)")) { try reader.rows() }
    }

    /// A file of 1,000 rows written by pyarrow with `codec`.
    static func pyarrowFile(codec: String) throws -> [UInt8] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-pa-\(UUID().uuidString.prefix(8)).parquet").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = """
            import datetime, decimal, sys, pyarrow as pa, pyarrow.parquet as pq
            t = pa.table({
                "id": pa.array([f"P{i}" for i in range(1000)]),
                "cliente": pa.array([None if i % 10 == 0 else f"C{i % 37}" for i in range(1000)]),
                "dia": pa.array([datetime.date(2026, 1, 1) + datetime.timedelta(days=i % 400) for i in range(1000)], pa.date32()),
                "valor": pa.array([decimal.Decimal(i * 7 - 300) / 100 for i in range(1000)], pa.decimal128(15, 2)),
            })
            pq.write_table(t, sys.argv[1], compression=sys.argv[2], data_page_version="1.0", use_dictionary=["cliente"], row_group_size=300)
            """
        let root = ListeningProcess.repositoryRoot(#filePath)
        let p = Process()
        p.executableURL = root.appendingPathComponent(".venv/bin/python")
        p.arguments = ["-c", script, path, codec]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test("not Parquet, or cut short, is refused")
    func refused() {
        #expect(throws: ParquetReader.Problem.notParquet) { try ParquetReader(Array("PAR1 not really".utf8)) }
        #expect(throws: (any Error).self) { try ParquetReader(Array("PAR1".utf8) + [1, 2, 3, 4, 0xFF, 0xFF, 0, 0] + Array("PAR1".utf8)) }
    }
}
