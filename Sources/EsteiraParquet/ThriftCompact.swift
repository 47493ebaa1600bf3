/// An unsigned LEB128 varint, seven bits a byte, low bits first: Thrift's integers and the
/// headers of the RLE / bit-packing hybrid.
func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
        out.append(UInt8(v & 0x7F) | 0x80)
        v >>= 7
    }
    out.append(UInt8(v))
}

/// Thrift's compact protocol, the encoding of Parquet's page headers and footer: fields named by
/// the difference of their ids, integers as zigzag varints, lists with their length and element
/// type in one byte when short. Only what Parquet's writer needs.
struct ThriftCompact {
    enum FieldType: UInt8 {
        case i32 = 5, i64 = 6, binary = 8, list = 9, structure = 12
    }

    private(set) var bytes: [UInt8] = []
    /// The last field id written, per open struct.
    private var lastField: [Int16] = [0]

    mutating func header(_ id: Int16, _ type: FieldType) {
        let delta = id - lastField[lastField.count - 1]
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            varint(UInt64(UInt16(bitPattern: (id << 1) ^ (id >> 15))))
        }
        lastField[lastField.count - 1] = id
    }

    mutating func varint(_ value: UInt64) { appendVarint(value, to: &bytes) }

    mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    mutating func i32(_ id: Int16, _ v: Int32) {
        header(id, .i32)
        zigzag(Int64(v))
    }

    mutating func i64(_ id: Int16, _ v: Int64) {
        header(id, .i64)
        zigzag(v)
    }

    mutating func binary(_ id: Int16, _ data: [UInt8]) {
        header(id, .binary)
        rawBinary(data)
    }

    mutating func string(_ id: Int16, _ s: String) { binary(id, Array(s.utf8)) }

    mutating func rawBinary(_ data: [UInt8]) {
        varint(UInt64(data.count))
        bytes += data
    }

    /// A struct field: `body` writes its fields.
    mutating func structure(_ id: Int16, _ body: (inout ThriftCompact) -> Void) {
        header(id, .structure)
        structBody(body)
    }

    /// A struct's fields and its stop byte (for a struct field, or a list's element).
    mutating func structBody(_ body: (inout ThriftCompact) -> Void) {
        lastField.append(0)
        body(&self)
        bytes.append(0)
        lastField.removeLast()
    }

    mutating func listHeader(_ id: Int16, _ element: FieldType, count: Int) {
        header(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | element.rawValue)
        } else {
            bytes.append(0xF0 | element.rawValue)
            varint(UInt64(count))
        }
    }

    mutating func i32List(_ id: Int16, _ values: [Int32]) {
        listHeader(id, .i32, count: values.count)
        for v in values { zigzag(Int64(v)) }
    }

    mutating func stringList(_ id: Int16, _ values: [String]) {
        listHeader(id, .binary, count: values.count)
        for v in values { rawBinary(Array(v.utf8)) }
    }

    mutating func structList<T>(_ id: Int16, _ items: [T], _ body: (inout ThriftCompact, T) -> Void) {
        listHeader(id, .structure, count: items.count)
        for item in items { structBody { body(&$0, item) } }
    }

    /// A struct written at the top level (a page header, the file's metadata).
    static func message(_ body: (inout ThriftCompact) -> Void) -> [UInt8] {
        var t = ThriftCompact()
        body(&t)
        t.bytes.append(0)
        return t.bytes
    }
}
