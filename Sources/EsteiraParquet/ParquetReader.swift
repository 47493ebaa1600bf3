import CEsteiraGzip

/// Reads back the Parquet files Esteira writes, and files of the same shape from other writers:
/// data pages v1, PLAIN or dictionary (RLE_DICTIONARY / PLAIN_DICTIONARY) values, flat schemas of
/// required or optional columns, uncompressed or GZIP. Anything else is refused as unsupported,
/// never misread. The lake uses it to compute the book from its curated months.
public struct ParquetReader {
    public let columns: [ParquetColumn]
    public let rowCount: Int
    /// For each column, how its values are stored (a decimal may be INT32, INT64 or fixed bytes).
    let storage: [Storage]

    enum Storage: Equatable {
        case plain
        case int32
        /// FIXED_LEN_BYTE_ARRAY of this many bytes, big-endian two's complement.
        case fixed(Int)
    }
    let bytes: [UInt8]
    let chunks: [[Chunk]]

    struct Chunk {
        var codec: Int64
        var numValues: Int
        var dataPageOffset: Int
        var dictionaryPageOffset: Int?
    }

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case notParquet
        case unsupported(String)
        case corrupt(String)

        public var description: String {
            switch self {
            case .notParquet: return "not a Parquet file"
            case .unsupported(let s): return "unsupported Parquet: \(s)"
            case .corrupt(let s): return "corrupt Parquet: \(s)"
            }
        }
    }

    public init(_ bytes: [UInt8]) throws(Problem) {
        let magic = Array("PAR1".utf8)
        guard bytes.count >= 12, Array(bytes.prefix(4)) == magic, Array(bytes.suffix(4)) == magic else { throw .notParquet }
        let n = bytes.count
        let footerLength = Int(bytes[n - 8]) | Int(bytes[n - 7]) << 8 | Int(bytes[n - 6]) << 16 | Int(bytes[n - 5]) << 24
        guard footerLength > 0, footerLength <= n - 12 else { throw .corrupt("footer length") }
        var decoder = ThriftDecoder(bytes, at: n - 8 - footerLength)
        let meta = try decoder.structure()
        guard case .list(let schema)? = meta[2], case .int(let rows)? = meta[3] else { throw .corrupt("file metadata") }
        var columns: [ParquetColumn] = []
        var storage: [Storage] = []
        for element in schema.dropFirst() {
            guard case .structure(let e) = element, case .binary(let name)? = e[4], case .int(let type)? = e[1] else {
                throw .unsupported("nested schema")
            }
            let optional: Bool
            switch e[3] {
            case .int(0)?: optional = false
            case .int(1)?: optional = true
            default: throw .unsupported("repeated column")
            }
            let converted: Int64? = { if case .int(let c)? = e[6] { return c } else { return nil } }()
            let kind: ParquetColumn.Kind
            switch (type, converted) {
            case (6, 0?): kind = .string
            case (1, 6?): kind = .date
            case (2, 5?), (1, 5?), (7, 5?):
                guard case .int(let scale)? = e[7], case .int(let precision)? = e[8], precision <= 18 else {
                    throw .unsupported("decimal wider than 18 digits")
                }
                kind = .decimal(precision: Int(precision), scale: Int(scale))
            case (2, nil): kind = .int64
            case (1, nil): kind = .int32
            case (5, nil): kind = .double
            default: throw .unsupported("column type \(type)")
            }
            columns.append(ParquetColumn(String(decoding: name, as: UTF8.self), kind, optional: optional))
            switch type {
            case 7:
                guard case .int(let length)? = e[2], (1...8).contains(length) else { throw .unsupported("fixed-length value over 8 bytes") }
                storage.append(.fixed(Int(length)))
            case 1: storage.append(.int32)
            default: storage.append(.plain)
            }
        }
        var chunks: [[Chunk]] = []
        if case .list(let groups)? = meta[4] {
            for g in groups {
                guard case .structure(let group) = g, case .list(let cols)? = group[1] else { throw .corrupt("row group") }
                var out: [Chunk] = []
                for c in cols {
                    guard case .structure(let chunk) = c, case .structure(let m)? = chunk[3], case .int(let codec)? = m[4],
                          case .int(let values)? = m[5], case .int(let data)? = m[9] else { throw .corrupt("column chunk") }
                    let dictionary: Int? = { if case .int(let d)? = m[11] { return Int(d) } else { return nil } }()
                    guard codec == 0 || codec == 1 || codec == 2 else { throw .unsupported("compression codec \(codec)") }
                    out.append(Chunk(codec: codec, numValues: Int(values), dataPageOffset: Int(data), dictionaryPageOffset: dictionary))
                }
                guard out.count == columns.count else { throw .corrupt("row group of \(out.count) columns") }
                chunks.append(out)
            }
        }
        self.columns = columns
        self.storage = storage
        self.rowCount = Int(rows)
        self.bytes = bytes
        self.chunks = chunks
    }

    /// Every column's values in row order, one array per column (cheaper than `rows` for many rows).
    public func columnValues() throws(Problem) -> [[ParquetValue]] {
        var out: [[ParquetValue]] = columns.map { _ in [] }
        for i in out.indices { out[i].reserveCapacity(rowCount) }
        for group in chunks {
            for (i, chunk) in group.enumerated() { out[i] += try read(chunk, columns[i], storage: storage[i]) }
        }
        guard out.allSatisfy({ $0.count == rowCount }) else { throw .corrupt("columns of different lengths") }
        return out
    }

    /// Every row, in order.
    public func rows() throws(Problem) -> [[ParquetValue]] {
        var out: [[ParquetValue]] = []
        out.reserveCapacity(rowCount)
        for group in chunks {
            var columnValues: [[ParquetValue]] = []
            for (i, chunk) in group.enumerated() { columnValues.append(try read(chunk, columns[i], storage: storage[i])) }
            let n = columnValues.first?.count ?? 0
            guard columnValues.allSatisfy({ $0.count == n }) else { throw .corrupt("columns of different lengths") }
            for r in 0..<n { out.append(columnValues.map { $0[r] }) }
        }
        return out
    }

    func page(at offset: Int, codec: Int64) throws(Problem) -> (header: [Int16: ThriftValue], body: [UInt8], end: Int) {
        var d = ThriftDecoder(bytes, at: offset)
        let header = try d.structure()
        guard case .int(let uncompressed)? = header[2], case .int(let compressed)? = header[3] else { throw .corrupt("page header") }
        let start = d.position
        guard compressed >= 0, start + Int(compressed) <= bytes.count else { throw .corrupt("page size") }
        let raw = Array(bytes[start..<start + Int(compressed)])
        var body = raw
        if codec == 2 {
            body = [UInt8](repeating: 0, count: Int(uncompressed))
            let got = raw.withUnsafeBufferPointer { input in
                body.withUnsafeMutableBufferPointer { output in esteira_gunzip(input.baseAddress, input.count, output.baseAddress, output.count) }
            }
            guard got == Int(uncompressed) || (uncompressed == 0 && got == 0) else { throw .corrupt("gzip page") }
        } else if codec != 0 {
            // Esteira writes GZIP (or nothing); other codecs are not read.
            throw .corrupt("pages compressed with codec \(codec) (only uncompressed and GZIP are read)")
        }
        return (header, body, start + Int(compressed))
    }

    func read(_ chunk: Chunk, _ column: ParquetColumn, storage: Storage) throws(Problem) -> [ParquetValue] {
        var dictionary: [ParquetValue] = []
        var offset = chunk.dataPageOffset
        if let d = chunk.dictionaryPageOffset {
            let (header, body, end) = try page(at: d, codec: chunk.codec)
            guard case .int(2)? = header[1], case .structure(let dh)? = header[7], case .int(let count)? = dh[1] else {
                throw .corrupt("dictionary page")
            }
            var cursor = 0
            dictionary = try (0..<Int(count)).map { _ throws(Problem) in try Self.plain(body, &cursor, column.kind, storage) }
            if chunk.dataPageOffset < end { offset = end }
        }
        var values: [ParquetValue] = []
        while values.count < chunk.numValues {
            let (header, body, end) = try page(at: offset, codec: chunk.codec)
            offset = end
            guard case .int(let type)? = header[1] else { throw .corrupt("page type") }
            if type == 2 { continue }
            guard type == 0 else { throw .unsupported("page type \(type)") }
            guard case .structure(let dh)? = header[5], case .int(let count)? = dh[1], case .int(let encoding)? = dh[2] else {
                throw .corrupt("data page header")
            }
            var cursor = 0
            var defined = [Bool](repeating: true, count: Int(count))
            if column.optional {
                guard body.count >= 4 else { throw .corrupt("definition levels") }
                let length = Int(body[0]) | Int(body[1]) << 8 | Int(body[2]) << 16 | Int(body[3]) << 24
                guard 4 + length <= body.count else { throw .corrupt("definition levels") }
                defined = try Hybrid.decode(Array(body[4..<4 + length]), bitWidth: 1, count: Int(count)).map { $0 == 1 }
                cursor = 4 + length
            }
            let present = defined.filter { $0 }.count
            var decoded: [ParquetValue] = []
            switch encoding {
            case 0:
                decoded = try (0..<present).map { _ throws(Problem) in try Self.plain(body, &cursor, column.kind, storage) }
            case 8, 2:
                guard cursor < body.count || present == 0 else { throw .corrupt("dictionary indices") }
                let width = present == 0 ? 0 : Int(body[cursor])
                let ids = present == 0 ? [] : try Hybrid.decode(Array(body[(cursor + 1)...]), bitWidth: width, count: present)
                decoded = try ids.map { id throws(Problem) in
                    guard Int(id) < dictionary.count else { throw .corrupt("dictionary index") }
                    return dictionary[Int(id)]
                }
            default:
                throw .unsupported("encoding \(encoding)")
            }
            var next = 0
            for isDefined in defined {
                if isDefined {
                    values.append(decoded[next])
                    next += 1
                } else {
                    values.append(.null)
                }
            }
        }
        return values
    }

    static func plain(_ b: [UInt8], _ i: inout Int, _ kind: ParquetColumn.Kind, _ storage: Storage = .plain) throws(Problem) -> ParquetValue {
        func take(_ n: Int) throws(Problem) -> ArraySlice<UInt8> {
            guard i + n <= b.count else { throw .corrupt("values") }
            defer { i += n }
            return b[i..<i + n]
        }
        func le(_ s: ArraySlice<UInt8>) -> UInt64 { s.reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        switch kind {
        case .string:
            let n = Int(le(try take(4)))
            return .string(String(decoding: try take(n), as: UTF8.self))
        case .date, .int32:
            return .int(Int64(Int32(truncatingIfNeeded: le(try take(4)))))
        case .int64:
            return .int(Int64(bitPattern: le(try take(8))))
        case .decimal:
            switch storage {
            case .fixed(let n):
                // Big-endian two's complement, sign-extended to 64 bits.
                let raw = try take(n)
                var v: Int64 = (raw.first ?? 0) & 0x80 != 0 ? -1 : 0
                for byte in raw { v = v << 8 | Int64(byte) }
                return .int(v)
            case .int32: return .int(Int64(Int32(truncatingIfNeeded: le(try take(4)))))
            case .plain: return .int(Int64(bitPattern: le(try take(8))))
            }
        case .double:
            return .double(Double(bitPattern: le(try take(8))))
        }
    }
}

/// A decoded Thrift compact value, as much as Parquet's metadata uses.
enum ThriftValue {
    case int(Int64)
    case binary([UInt8])
    case bool(Bool)
    case double(Double)
    case list([ThriftValue])
    case structure([Int16: ThriftValue])
}

struct ThriftDecoder {
    let bytes: [UInt8]
    var position: Int

    init(_ bytes: [UInt8], at position: Int) {
        self.bytes = bytes
        self.position = position
    }

    mutating func byte() throws(ParquetReader.Problem) -> UInt8 {
        guard position < bytes.count else { throw .corrupt("metadata ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws(ParquetReader.Problem) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .corrupt("varint") }
        }
    }

    mutating func zigzag() throws(ParquetReader.Problem) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func value(_ type: UInt8) throws(ParquetReader.Problem) -> ThriftValue {
        switch type {
        case 1: return .bool(true)
        case 2: return .bool(false)
        case 3: return .int(Int64(Int8(bitPattern: try byte())))
        case 4, 5, 6: return .int(try zigzag())
        case 7:
            var bits: UInt64 = 0
            for i in 0..<8 { bits |= UInt64(try byte()) << UInt64(8 * i) }
            return .double(Double(bitPattern: bits))
        case 8:
            let n = Int(try varint())
            guard position + n <= bytes.count else { throw .corrupt("binary") }
            defer { position += n }
            return .binary(Array(bytes[position..<position + n]))
        case 9, 10:
            let head = try byte()
            var count = Int(head >> 4)
            if count == 15 { count = Int(try varint()) }
            let element = head & 0x0F
            var items: [ThriftValue] = []
            for _ in 0..<count {
                // A boolean inside a list is one byte of its own.
                if element == 1 || element == 2 { items.append(.bool(try byte() == 1)) } else { items.append(try value(element)) }
            }
            return .list(items)
        case 12: return .structure(try structure())
        default: throw .unsupported("thrift type \(type)")
        }
    }

    mutating func structure() throws(ParquetReader.Problem) -> [Int16: ThriftValue] {
        var fields: [Int16: ThriftValue] = [:]
        var last: Int16 = 0
        while true {
            let head = try byte()
            if head == 0 { return fields }
            let delta = Int16(head >> 4)
            let type = head & 0x0F
            let id: Int16 = delta != 0 ? last + delta : Int16(truncatingIfNeeded: try zigzag())
            last = id
            fields[id] = try value(type)
        }
    }
}

extension Hybrid {
    /// The first `count` values of an RLE / bit-packed hybrid run list.
    static func decode(_ b: [UInt8], bitWidth: Int, count: Int) throws(ParquetReader.Problem) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(count)
        var i = 0
        let byteWidth = (bitWidth + 7) / 8
        while out.count < count {
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < b.count else { throw .corrupt("hybrid run") }
                let x = b[i]
                i += 1
                header |= UInt64(x & 0x7F) << shift
                if x & 0x80 == 0 { break }
                shift += 7
            }
            if header & 1 == 0 {
                let run = Int(header >> 1)
                guard i + byteWidth <= b.count else { throw .corrupt("hybrid value") }
                var v: UInt32 = 0
                for k in 0..<byteWidth { v |= UInt32(b[i + k]) << UInt32(8 * k) }
                i += byteWidth
                for _ in 0..<min(run, count - out.count) { out.append(v) }
            } else {
                let values = Int(header >> 1) * 8
                let bytesNeeded = (values * bitWidth + 7) / 8
                guard i + bytesNeeded <= b.count else { throw .corrupt("bit-packed run") }
                var acc: UInt64 = 0
                var bits = 0
                var taken = 0
                var j = i
                let mask: UInt64 = bitWidth == 0 ? 0 : (1 << UInt64(bitWidth)) - 1
                while taken < values {
                    while bits < bitWidth {
                        acc |= UInt64(b[j]) << UInt64(bits)
                        j += 1
                        bits += 8
                    }
                    if out.count < count { out.append(UInt32(acc & mask)) }
                    acc >>= UInt64(bitWidth)
                    bits -= bitWidth
                    taken += 1
                }
                i += bytesNeeded
            }
        }
        return out
    }
}
