import EsteiraParquet
import EsteiraTestSupport
import Foundation
import Testing

/// Files written by `ParquetWriter`, read back by pyarrow and DuckDB (`scripts/parquet-read.py`):
/// two readers that share no code with the writer, nor with each other.
@Suite("Parquet files, read by pyarrow and DuckDB")
struct ParquetWriterTests {
    static func read(_ bytes: [UInt8]) throws -> [String: Any] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-\(UUID().uuidString.prefix(8)).parquet").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { if ProcessInfo.processInfo.environment["KEEP_PARQUET"] == nil { try? FileManager.default.removeItem(atPath: path) } }
        let root = ListeningProcess.repositoryRoot(#filePath)
        let p = Process()
        p.executableURL = root.appendingPathComponent(".venv/bin/python")
        p.arguments = [root.appendingPathComponent("scripts/parquet-read.py").path, path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let problem = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0, let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NSError(domain: "parquet", code: 1, userInfo: [NSLocalizedDescriptionKey: problem])
        }
        return json
    }

    /// ISO day of a count of days since 1970-01-01, by Foundation's calendar.
    static func iso(_ days: Int) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date(timeIntervalSince1970: Double(days) * 86_400))
    }

    static let columns = [
        ParquetColumn("id_fatura", .string), ParquetColumn("cidade", .string, optional: true), ParquetColumn("dt_vencimento", .date),
        ParquetColumn("vl_fatura", .decimal(precision: 15, scale: 2)), ParquetColumn("parcelas", .int64, optional: true),
        ParquetColumn("taxa", .double, optional: true),
    ]

    @Test("types, nulls, text with accents, three row groups, statistics; GZIP and uncompressed",
          arguments: [ParquetWriter.Compression.gzip, .none])
    func roundTrip(compression: ParquetWriter.Compression) throws {
        var writer = ParquetWriter(columns: Self.columns, compression: compression, rowGroupRows: 10)
        var expected: [[Any?]] = []
        // 2026-11-22 is day 20,779 since 1970-01-01: 56 years with 14 leap days (1972–2024) are
        // 20,454 days to 2026-01-01, and 325 more to November 22.
        let base = 20_779
        for i in 0..<25 {
            let city: String? = i % 4 == 0 ? nil : ["São Paulo", "Ribeirão Preto – SP", "Belém"][i % 3]
            let cents = Int64(i * 12_345 - 600)
            let parcelas: Int64? = i % 5 == 0 ? nil : Int64(i)
            let taxa: Double? = i % 7 == 0 ? nil : Double(i) / 8
            try writer.append([.string("F\(i)"), city.map { .string($0) } ?? .null, .int(Int64(base + i - 12)), .int(cents),
                               parcelas.map { .int($0) } ?? .null, taxa.map { .double($0) } ?? .null])
            // The decimal as text by hand: cents / 100 with two places, sign first.
            let amount = (cents < 0 ? "-" : "") + "\(abs(cents) / 100).\(String(format: "%02d", abs(cents) % 100))"
            expected.append(["F\(i)", city, Self.iso(base + i - 12), amount, parcelas.map { Int($0) }, taxa])
        }
        let seen = try Self.read(try writer.finish())
        #expect(seen["schema"] as? [String: String] == ["id_fatura": "string", "cidade": "string", "dt_vencimento": "date32[day]",
                                                        "vl_fatura": "decimal128(15, 2)", "parcelas": "int64", "taxa": "double"])
        #expect(seen["row_groups"] as? Int == 3 && seen["num_rows"] as? Int == 25)
        #expect(seen["compression"] as? String == [ParquetWriter.Compression.gzip: "GZIP", .none: "UNCOMPRESSED"][compression])
        let rows = seen["rows"] as? [[Any]] ?? []
        #expect(rows.count == 25)
        for (got, want) in zip(rows, expected) {
            #expect(got[0] as? String == want[0] as? String)
            #expect((got[1] as? String) == (want[1] as? String) && (got[1] is NSNull) == (want[1] == nil))
            #expect(got[2] as? String == want[2] as? String)
            #expect(got[3] as? String == want[3] as? String, "\(got[3]) \(want[3] ?? "")")
            #expect((got[4] as? Int) == (want[4] as? Int))
            #expect((got[5] as? Double) == (want[5] as? Double))
        }
        // The first row group's statistics (rows 0–9): amounts −6.00 to 1,105.05, by hand
        // (0 × 12,345 − 600 and 9 × 12,345 − 600 cents); ids F0…F9; 3 null cities (rows 0, 4, 8).
        let stats = seen["statistics"] as? [String: [String: Any]] ?? [:]
        #expect(stats["vl_fatura"]?["min"] as? String == "-6.00" && stats["vl_fatura"]?["max"] as? String == "1105.05")
        #expect(stats["id_fatura"]?["min"] as? String == "F0" && stats["id_fatura"]?["max"] as? String == "F9")
        #expect(stats["cidade"]?["nulls"] as? Int == 3)
        let duck = seen["duckdb"] as? [String: Any] ?? [:]
        #expect(duck["count"] as? Int == 25 && duck["distinct_first"] as? Int == 25)
        #expect((duck["types"] as? [String: String])?["vl_fatura"] == "DECIMAL(15,2)")
        #expect((duck["types"] as? [String: String])?["dt_vencimento"] == "DATE")
    }

    @Test("dictionary indices wider than a byte, long runs and short ones, in the hybrid encoding")
    func wideDictionary() throws {
        var writer = ParquetWriter(columns: [ParquetColumn("cliente", .string), ParquetColumn("n", .int32)], rowGroupRows: 5_000)
        var expected: [String] = []
        for i in 0..<3_000 {
            // 600 distinct values (indices need 10 bits); runs of 20 every so often.
            let c = i % 100 < 20 ? "C-fixo" : "C\(i % 599)"
            expected.append(c)
            try writer.append([.string(c), .int(Int64(i))])
        }
        let seen = try Self.read(try writer.finish())
        let rows = seen["rows"] as? [[Any]] ?? []
        #expect(rows.map { $0[0] as? String ?? "" } == expected)
        #expect(rows.map { $0[1] as? Int ?? -1 } == Array(0..<3_000))
        #expect((seen["duckdb"] as? [String: Any])?["distinct_first"] as? Int == Set(expected).count)
    }

    @Test("a column of nearly all different strings is written PLAIN, its neighbour still by dictionary; pages of several 64 KiB fragments",
          arguments: [ParquetWriter.Compression.gzip, .none])
    func plainStrings(compression: ParquetWriter.Compression) throws {
        var writer = ParquetWriter(columns: [ParquetColumn("id_fatura", .string), ParquetColumn("uf", .string)], compression: compression)
        // 50,000 distinct ids (past the 20,000 a dictionary may reach with 9 in 10 values new)
        // and 3 states; one row group.
        let states = ["SP", "RJ", "MG"]
        for i in 0..<50_000 { try writer.append([.string(String(format: "F%06d", 49_999 - i)), .string(states[i % 3])]) }
        let seen = try Self.read(try writer.finish())
        let encodings = seen["encodings"] as? [String: [String]] ?? [:]
        #expect(encodings["id_fatura"]?.contains("PLAIN") == true && encodings["id_fatura"]?.contains { $0.contains("DICTIONARY") } == false,
                "\(encodings)")
        #expect(encodings["uf"]?.contains { $0.contains("DICTIONARY") } == true, "\(encodings)")
        let rows = seen["rows"] as? [[Any]] ?? []
        #expect(rows.count == 50_000 && rows.first?[0] as? String == "F049999" && rows.last?[0] as? String == "F000000")
        #expect(rows.last?[1] as? String == "RJ") // row 49,999 = 3 × 16,666 + 1: states[1]
        let stats = (seen["statistics"] as? [String: Any])?["id_fatura"] as? [String: Any]
        #expect(stats?["min"] as? String == "F000000" && stats?["max"] as? String == "F049999", "\(String(describing: stats))")
        #expect((seen["duckdb"] as? [String: Any])?["distinct_first"] as? Int == 50_000)
    }

    @Test("an empty file is a valid file")
    func empty() throws {
        var writer = ParquetWriter(columns: Self.columns)
        let seen = try Self.read(try writer.finish())
        #expect(seen["num_rows"] as? Int == 0 && (seen["rows"] as? [Any])?.isEmpty == true)
    }

    @Test("rows that do not fit the columns are refused, each named")
    func refusals() {
        var writer = ParquetWriter(columns: Self.columns)
        #expect(throws: ParquetError.wrongRowWidth(expected: 6, got: 1)) { try writer.append([.string("x")]) }
        #expect(throws: ParquetError.nullInRequiredColumn("id_fatura")) { try writer.append([.null, .null, .int(0), .int(0), .null, .null]) }
        #expect(throws: ParquetError.wrongType(column: "dt_vencimento")) {
            try writer.append([.string("a"), .null, .string("2026-01-01"), .int(0), .null, .null])
        }
    }
}
