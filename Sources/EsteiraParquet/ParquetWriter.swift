import CEsteiraGzip

/// A column of a Parquet file: its name, its logical type, and whether it may be null.
public struct ParquetColumn: Sendable {
    public enum Kind: Sendable, Equatable {
        /// UTF-8 text (BYTE_ARRAY, logical STRING), dictionary encoded.
        case string
        /// A calendar day (INT32 days since 1970-01-01, logical DATE).
        case date
        /// An exact decimal kept as an unscaled integer (INT64, logical DECIMAL(precision, scale));
        /// money in cents is `.decimal(precision: 15, scale: 2)`.
        case decimal(precision: Int, scale: Int)
        case int64
        case int32
        case double
    }

    public var name: String
    public var kind: Kind
    public var optional: Bool

    public init(_ name: String, _ kind: Kind, optional: Bool = false) {
        self.name = name
        self.kind = kind
        self.optional = optional
    }
}

/// One cell. `.int` carries INT32 and INT64 values, dates (days since 1970-01-01) and unscaled
/// decimals (cents).
public enum ParquetValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case string(String)
}

public enum ParquetError: Error, Equatable, CustomStringConvertible {
    case wrongRowWidth(expected: Int, got: Int)
    case nullInRequiredColumn(String)
    case wrongType(column: String)
    case compressionFailed

    public var description: String {
        switch self {
        case .wrongRowWidth(let e, let g): return "a row of \(g) values for \(e) columns"
        case .nullInRequiredColumn(let c): return "null in the required column \(c)"
        case .wrongType(let c): return "a value of the wrong type in column \(c)"
        case .compressionFailed: return "gzip failed"
        }
    }
}

/// Writes a Parquet file (format version 1, data pages v1) in memory: rows are added one at a
/// time and cut into row groups of `rowGroupRows`; `finish()` returns the file's bytes.
///
/// Each column chunk is one data page. Strings are dictionary encoded (a dictionary page of
/// PLAIN values, then the indices in the RLE/bit-packed hybrid); other columns PLAIN. Optional
/// columns carry definition levels (RLE). Every chunk has statistics (min, max, null count), and
/// pages are compressed with GZIP unless told otherwise.
public struct ParquetWriter {
    /// Parquet's codec numbers; Esteira writes GZIP, or nothing.
    public enum Compression: Int32, Sendable { case none = 0, gzip = 2 }

    public let columns: [ParquetColumn]
    let compression: Compression
    let rowGroupRows: Int
    var pending: [[ParquetValue]]
    var pendingRows = 0
    var out: [UInt8] = Array("PAR1".utf8)
    var rowGroups: [RowGroupMeta] = []
    var totalRows: Int64 = 0

    public init(columns: [ParquetColumn], compression: Compression = .gzip, rowGroupRows: Int = 100_000) {
        self.columns = columns
        self.compression = compression
        self.rowGroupRows = max(1, rowGroupRows)
        pending = columns.map { _ in [] }
    }

    public mutating func append(_ row: [ParquetValue]) throws(ParquetError) {
        guard row.count == columns.count else { throw .wrongRowWidth(expected: columns.count, got: row.count) }
        for (i, v) in row.enumerated() {
            let c = columns[i]
            switch (v, c.kind) {
            case (.null, _): if !c.optional { throw .nullInRequiredColumn(c.name) }
            case (.string, .string), (.double, .double): break
            case (.int, .date), (.int, .decimal), (.int, .int64): break
            case (.int(let n), .int32): if Int32(exactly: n) == nil { throw .wrongType(column: c.name) }
            default: throw .wrongType(column: c.name)
            }
            pending[i].append(v)
        }
        pendingRows += 1
        if pendingRows == rowGroupRows { try flush() }
    }

    /// The whole file: what is pending as a last row group, then the footer.
    public mutating func finish() throws(ParquetError) -> [UInt8] {
        if pendingRows > 0 || rowGroups.isEmpty { try flush() }
        let footer = ThriftCompact.message { t in
            t.i32(1, 1)
            t.structList(2, [nil] + columns.map { Optional($0) }) { t, column in
                guard let column else {
                    t.string(4, "schema")
                    t.i32(5, Int32(columns.count))
                    return
                }
                Self.schemaElement(&t, column)
            }
            t.i64(3, totalRows)
            t.structList(4, rowGroups) { t, g in
                t.structList(1, g.chunks) { t, c in
                    t.i64(2, c.fileOffset)
                    t.structure(3) { t in
                        t.i32(1, c.physicalType)
                        t.i32List(2, c.encodings)
                        t.stringList(3, [c.name])
                        t.i32(4, compression.rawValue)
                        t.i64(5, c.numValues)
                        t.i64(6, c.uncompressedSize)
                        t.i64(7, c.compressedSize)
                        t.i64(9, c.dataPageOffset)
                        if let d = c.dictionaryPageOffset { t.i64(11, d) }
                        t.structure(12) { t in Self.statistics(&t, c.stats) }
                    }
                }
                t.i64(2, g.totalByteSize)
                t.i64(3, g.numRows)
            }
            t.string(6, "Esteira")
            // Every column ordered as its type says (signed numbers, unsigned bytes for text):
            // without it readers ignore min_value and max_value.
            t.structList(7, columns) { t, _ in t.structure(1) { _ in } }
        }
        var file = out
        file += footer
        let n = UInt32(footer.count)
        file += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)]
        file += Array("PAR1".utf8)
        return file
    }

    // MARK: - Row groups and column chunks

    struct Stats {
        var min: [UInt8]?
        var max: [UInt8]?
        var nulls: Int64
    }

    struct ChunkMeta {
        var name: String
        var physicalType: Int32
        var encodings: [Int32]
        var numValues: Int64
        var uncompressedSize: Int64
        var compressedSize: Int64
        var fileOffset: Int64
        var dataPageOffset: Int64
        var dictionaryPageOffset: Int64?
        var stats: Stats
    }

    struct RowGroupMeta {
        var chunks: [ChunkMeta]
        var totalByteSize: Int64
        var numRows: Int64
    }

    mutating func flush() throws(ParquetError) {
        var chunks: [ChunkMeta] = []
        var total: Int64 = 0
        for (i, column) in columns.enumerated() {
            let chunk = try writeChunk(column, pending[i])
            total += chunk.uncompressedSize
            chunks.append(chunk)
            pending[i].removeAll(keepingCapacity: true)
        }
        rowGroups.append(RowGroupMeta(chunks: chunks, totalByteSize: total, numRows: Int64(pendingRows)))
        totalRows += Int64(pendingRows)
        pendingRows = 0
    }

    /// Parquet's physical type of a column.
    static func physicalType(_ kind: ParquetColumn.Kind) -> Int32 {
        switch kind {
        case .string: return 6          // BYTE_ARRAY
        case .date, .int32: return 1    // INT32
        case .decimal, .int64: return 2 // INT64
        case .double: return 5          // DOUBLE
        }
    }

    static func schemaElement(_ t: inout ThriftCompact, _ c: ParquetColumn) {
        t.i32(1, physicalType(c.kind))
        t.i32(3, c.optional ? 1 : 0) // OPTIONAL or REQUIRED
        t.string(4, c.name)
        switch c.kind {
        case .string:
            t.i32(6, 0) // converted type UTF8
            t.structure(10) { t in t.structure(1) { _ in } } // logical STRING
        case .date:
            t.i32(6, 6) // DATE
            t.structure(10) { t in t.structure(6) { _ in } }
        case .decimal(let precision, let scale):
            t.i32(6, 5) // DECIMAL
            t.i32(7, Int32(scale))
            t.i32(8, Int32(precision))
            t.structure(10) { t in
                t.structure(5) { t in
                    t.i32(1, Int32(scale))
                    t.i32(2, Int32(precision))
                }
            }
        case .int64, .int32, .double: break
        }
    }

    static func statistics(_ t: inout ThriftCompact, _ s: Stats) {
        t.i64(3, s.nulls)
        if let max = s.max { t.binary(5, max) }
        if let min = s.min { t.binary(6, min) }
    }

    /// How many distinct strings a column chunk's dictionary may reach before the chunk may be
    /// written PLAIN instead (see `writeChunk`).
    static let dictionaryLimit = 20_000

    mutating func writeChunk(_ column: ParquetColumn, _ values: [ParquetValue]) throws(ParquetError) -> ChunkMeta {
        let start = Int64(out.count)
        var nulls: Int64 = 0
        var defined: [Bool] = []
        defined.reserveCapacity(values.count)
        for v in values {
            if case .null = v { nulls += 1; defined.append(false) } else { defined.append(true) }
        }
        var levels: [UInt8] = []
        if column.optional {
            let rle = Hybrid.encode(defined.map { $0 ? 1 : 0 }, bitWidth: 1)
            let n = UInt32(rle.count)
            levels = [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)] + rle
        }
        var uncompressedTotal: Int64 = 0
        var compressedTotal: Int64 = 0
        var dictionaryOffset: Int64?
        var encodings: [Int32]
        var body: [UInt8]
        var stats = Stats(min: nil, max: nil, nulls: nulls)

        switch column.kind {
        case .string:
            // The dictionary: each distinct string once, in order of first appearance. A column
            // whose values are nearly all different (ids) gains nothing from one: past
            // `dictionaryLimit` entries with 9 in 10 values new, the chunk is written PLAIN.
            var index: [String: UInt32] = [:]
            var dictionary: [UInt8] = []
            var ids: [UInt32] = []
            ids.reserveCapacity(values.count)
            var minText: [UInt8]?, maxText: [UInt8]?
            func extremes(_ s: String) {
                if minText.map({ s.utf8.lexicographicallyPrecedes($0) }) ?? true { minText = Array(s.utf8) }
                if maxText.map({ $0.lexicographicallyPrecedes(s.utf8) }) ?? true { maxText = Array(s.utf8) }
            }
            var seen = 0
            var plain = false
            for v in values {
                guard case .string(let s) = v else { continue }
                seen += 1
                if let id = index[s] {
                    ids.append(id)
                } else {
                    let id = UInt32(index.count)
                    index[s] = id
                    ids.append(id)
                    Self.plainBinary(s.utf8, into: &dictionary)
                    extremes(s)
                    if index.count > Self.dictionaryLimit && index.count * 10 > seen * 9 { plain = true; break }
                }
            }
            if plain {
                var data = levels
                data.reserveCapacity(levels.count + dictionary.count / max(seen, 1) * values.count + 16)
                for v in values {
                    guard case .string(let s) = v else { continue }
                    Self.plainBinary(s.utf8, into: &data)
                    extremes(s)
                }
                body = data
                encodings = [0, 3] // PLAIN, RLE (levels)
            } else {
                dictionaryOffset = Int64(out.count)
                let (u, c) = try writePage(dictionary: dictionary, count: index.count)
                uncompressedTotal += u
                compressedTotal += c
                let bitWidth = index.count <= 1 ? 1 : UInt8(UInt32(index.count - 1).bitWidthNeeded)
                body = levels + [bitWidth] + Hybrid.encode(ids, bitWidth: Int(bitWidth))
                encodings = [8, 0, 3] // RLE_DICTIONARY, PLAIN (the dictionary), RLE (levels)
            }
            stats.min = minText
            stats.max = maxText
        case .date, .int32:
            (body, stats.min, stats.max) = Self.plain(values, levels) { v -> Int32? in
                if case .int(let n) = v { return Int32(truncatingIfNeeded: n) } else { return nil }
            } bits: { $0 }
            encodings = [0, 3]
        case .decimal, .int64:
            (body, stats.min, stats.max) = Self.plain(values, levels) { v -> Int64? in
                if case .int(let n) = v { return n } else { return nil }
            } bits: { $0 }
            encodings = [0, 3]
        case .double:
            (body, stats.min, stats.max) = Self.plain(values, levels) { v -> Double? in
                if case .double(let d) = v { return d } else { return nil }
            } bits: { $0.bitPattern }
            encodings = [0, 3]
        }
        let dataOffset = Int64(out.count)
        let (u, c) = try writePage(data: body, count: values.count, dictionaryEncoded: dictionaryOffset != nil)
        uncompressedTotal += u
        compressedTotal += c
        return ChunkMeta(name: column.name, physicalType: Self.physicalType(column.kind), encodings: encodings,
                         numValues: Int64(values.count), uncompressedSize: uncompressedTotal, compressedSize: compressedTotal,
                         fileOffset: dictionaryOffset ?? start, dataPageOffset: dataOffset, dictionaryPageOffset: dictionaryOffset,
                         stats: stats)
    }

    /// A dictionary page; returns its sizes with the header (uncompressed, compressed).
    mutating func writePage(dictionary: [UInt8], count: Int) throws(ParquetError) -> (Int64, Int64) {
        let compressed = try compress(dictionary)
        let header = ThriftCompact.message { t in
            t.i32(1, 2) // DICTIONARY_PAGE
            t.i32(2, Int32(dictionary.count))
            t.i32(3, Int32(compressed.count))
            t.structure(7) { t in
                t.i32(1, Int32(count))
                t.i32(2, 0) // PLAIN
            }
        }
        out += header
        out += compressed
        return (Int64(header.count + dictionary.count), Int64(header.count + compressed.count))
    }

    /// A data page (v1); returns its sizes with the header (uncompressed, compressed).
    mutating func writePage(data: [UInt8], count: Int, dictionaryEncoded: Bool) throws(ParquetError) -> (Int64, Int64) {
        let compressed = try compress(data)
        let header = ThriftCompact.message { t in
            t.i32(1, 0) // DATA_PAGE
            t.i32(2, Int32(data.count))
            t.i32(3, Int32(compressed.count))
            t.structure(5) { t in
                t.i32(1, Int32(count))
                t.i32(2, dictionaryEncoded ? 8 : 0) // RLE_DICTIONARY or PLAIN
                t.i32(3, 3) // definition levels: RLE
                t.i32(4, 3) // repetition levels: RLE
            }
        }
        out += header
        out += compressed
        return (Int64(header.count + data.count), Int64(header.count + compressed.count))
    }

    /// zlib's level 1 (fastest): on the lake's columns it took a third of level 6's time for
    /// files about a tenth larger (docs/benchmarks.md).
    static let gzipLevel: Int32 = 1

    func compress(_ data: [UInt8]) throws(ParquetError) -> [UInt8] {
        guard compression == .gzip else { return data }
        var result = [UInt8](repeating: 0, count: esteira_gzip_bound(data.count))
        let n = data.withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { output in
                esteira_gzip(input.baseAddress, input.count, output.baseAddress, output.count, Self.gzipLevel)
            }
        }
        guard n > 0 else { throw .compressionFailed }
        result.removeLast(result.count - n)
        return result
    }

    // MARK: - PLAIN values

    /// The non-null values of a numeric column after its definition levels, PLAIN, with their
    /// smallest and largest as statistics (nil when every value is null).
    static func plain<T: Comparable>(_ values: [ParquetValue], _ levels: [UInt8], _ number: (ParquetValue) -> T?,
                                     bits: (T) -> some FixedWidthInteger) -> ([UInt8], [UInt8]?, [UInt8]?) {
        var body = levels
        body.reserveCapacity(levels.count + values.count * 8)
        var lo: T?, hi: T?
        for v in values {
            guard let x = number(v) else { continue }
            if lo.map({ x < $0 }) ?? true { lo = x }
            if hi.map({ x > $0 }) ?? true { hi = x }
            withUnsafeBytes(of: bits(x).littleEndian) { body.append(contentsOf: $0) }
        }
        func bytes(_ x: T) -> [UInt8] { withUnsafeBytes(of: bits(x).littleEndian) { Array($0) } }
        return (body, lo.map(bytes), hi.map(bytes))
    }

    /// PLAIN BYTE_ARRAY: the length (4 bytes, little-endian), then the bytes.
    static func plainBinary<C: Collection>(_ b: C, into out: inout [UInt8]) where C.Element == UInt8 {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: b.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: b)
    }


}

extension UInt32 {
    /// Bits needed to write this number (at least 1).
    var bitWidthNeeded: Int { Swift.max(1, 32 - leadingZeroBitCount) }
}

/// Parquet's RLE / bit-packing hybrid: runs of one repeated value (`count << 1`, then the value in
/// whole bytes), and groups of eight values packed LSB first (`groups << 1 | 1`, then the bits).
enum Hybrid {
    static func encode<T: BinaryInteger>(_ values: [T], bitWidth: Int) -> [UInt8] {
        var out: [UInt8] = []
        let byteWidth = (bitWidth + 7) / 8
        var i = 0
        var literal: [UInt64] = []

        func flushLiteral() {
            guard !literal.isEmpty else { return }
            while literal.count % 8 != 0 { literal.append(0) }
            appendVarint(UInt64(literal.count / 8) << 1 | 1, to: &out)
            var acc: UInt64 = 0
            var bits = 0
            for v in literal {
                acc |= v << UInt64(bits)
                bits += bitWidth
                while bits >= 8 {
                    out.append(UInt8(acc & 0xFF))
                    acc >>= 8
                    bits -= 8
                }
            }
            if bits > 0 { out.append(UInt8(acc & 0xFF)) }
            literal.removeAll()
        }

        while i < values.count {
            var run = 1
            while i + run < values.count && values[i + run] == values[i] { run += 1 }
            // A run of eight or more is worth its own header, once the literal group before it
            // is whole (a literal group holds a multiple of eight values).
            if run >= 8 && literal.count % 8 == 0 {
                flushLiteral()
                appendVarint(UInt64(run) << 1, to: &out)
                let v = UInt64(values[i])
                for b in 0..<byteWidth { out.append(UInt8(v >> UInt64(8 * b) & 0xFF)) }
                i += run
            } else {
                literal.append(UInt64(values[i]))
                i += 1
            }
        }
        // The last literal group is padded with zeros; readers stop at the page's value count.
        flushLiteral()
        return out
    }
}
