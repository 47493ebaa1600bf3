/// UTF-16 text (Excel's "Texto Unicode" export: little-endian with a byte order mark, tab
/// separated) turned into UTF-8 a chunk at a time, so that a file of any size is read once
/// without holding it. A surrogate without its pair becomes U+FFFD; nothing is dropped.
public struct UTF16Decoder: Sendable {
    public enum ByteOrder: Sendable { case littleEndian, bigEndian }

    /// The byte order a byte order mark at the start of `head` names, or nil for no UTF-16 mark.
    public static func byteOrder(of head: [UInt8]) -> ByteOrder? {
        if head.starts(with: [0xFF, 0xFE]) { return .littleEndian }
        if head.starts(with: [0xFE, 0xFF]) { return .bigEndian }
        return nil
    }

    let order: ByteOrder
    private var odd: UInt8?
    private var high: UInt32?
    private var started = false

    public init(_ order: ByteOrder) { self.order = order }

    /// The UTF-8 of the next bytes of the file (the byte order mark dropped).
    public mutating func decode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        if let first = odd, !bytes.isEmpty {
            unit(pair(first, bytes[0]), into: &out)
            odd = nil
            i = 1
        }
        while i + 1 < bytes.count {
            unit(pair(bytes[i], bytes[i + 1]), into: &out)
            i += 2
        }
        if i < bytes.count { odd = bytes[i] }
        return out
    }

    /// What is left at the end of the file: a lone byte or a high surrogate with no pair.
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if high != nil || odd != nil { append(0xFFFD, to: &out) }
        high = nil
        odd = nil
        return out
    }

    private func pair(_ a: UInt8, _ b: UInt8) -> UInt32 {
        order == .littleEndian ? UInt32(a) | UInt32(b) << 8 : UInt32(a) << 8 | UInt32(b)
    }

    private mutating func unit(_ u: UInt32, into out: inout [UInt8]) {
        defer { started = true }
        if !started && u == 0xFEFF { return }
        if let h = high {
            high = nil
            if (0xDC00...0xDFFF).contains(u) {
                append(0x10000 + ((h - 0xD800) << 10) + (u - 0xDC00), to: &out)
                return
            }
            append(0xFFFD, to: &out)
        }
        switch u {
        case 0xD800...0xDBFF: high = u
        case 0xDC00...0xDFFF: append(0xFFFD, to: &out)
        default: append(u, to: &out)
        }
    }

    private func append(_ scalar: UInt32, to out: inout [UInt8]) {
        out.append(contentsOf: String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8)
    }
}
