/// Snappy's raw block format, Parquet's SNAPPY codec (no framing): the uncompressed length as a
/// varint, then literals and back-references ("copies"). Written from the format's description
/// (google/snappy, format_description.txt).
///
/// The compressor finds 4-byte matches through a hash table over each 64 KiB fragment of the input
/// (so every offset fits two bytes) and extends them greedily; the decompressor takes any valid
/// stream, checking every length and offset against the buffers.
public enum Snappy {
    public struct Corrupt: Error, CustomStringConvertible {
        public var description: String
    }

    static let fragment = 1 << 16
    static let hashBits = 14

    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32 + input.count + input.count / 6)
        var n = UInt64(input.count)
        while n >= 0x80 {
            out.append(UInt8(n & 0x7F) | 0x80)
            n >>= 7
        }
        out.append(UInt8(n))
        input.withUnsafeBufferPointer { src in
            var table = [Int32](repeating: -1, count: 1 << hashBits)
            var start = 0
            while start < src.count {
                let end = min(start + fragment, src.count)
                compressFragment(src, start, end, &table, &out)
                start = end
            }
        }
        return out
    }

    @inline(__always)
    static func load32(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        UInt32(p[i]) | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2]) << 16 | UInt32(p[i + 3]) << 24
    }

    static func compressFragment(_ src: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ table: inout [Int32], _ out: inout [UInt8]) {
        for k in table.indices { table[k] = -1 }
        var literal = start
        var i = start
        var misses = 0
        while i + 4 <= end {
            let v = load32(src, i)
            let h = Int((v &* 0x1E35_A7BD) >> UInt32(32 - hashBits))
            let candidate = Int(table[h])
            table[h] = Int32(i)
            if candidate >= start && load32(src, candidate) == v {
                emitLiteral(src, literal, i, &out)
                var length = 4
                while i + length < end && src[candidate + length] == src[i + length] { length += 1 }
                emitCopy(offset: i - candidate, length: length, &out)
                i += length
                literal = i
                misses = 0
            } else {
                // Data that does not compress is skipped over faster and faster, as Snappy does.
                misses += 1
                i += 1 + misses >> 5
            }
        }
        emitLiteral(src, literal, end, &out)
    }

    static func emitLiteral(_ src: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, _ out: inout [UInt8]) {
        let length = to - from
        guard length > 0 else { return }
        let n = length - 1
        if n < 60 {
            out.append(UInt8(n << 2))
        } else {
            var bytes: [UInt8] = []
            var m = n
            while m > 0 {
                bytes.append(UInt8(m & 0xFF))
                m >>= 8
            }
            out.append(UInt8((59 + bytes.count) << 2))
            out.append(contentsOf: bytes)
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: src[from..<to]))
    }

    static func emitCopy(offset: Int, length: Int, _ out: inout [UInt8]) {
        var length = length
        // Copies of 64 bytes while more than 67 are left (so that what is left is at least 4), then one of 60 if needed.
        while length >= 68 {
            emitCopyUpTo64(offset: offset, length: 64, &out)
            length -= 64
        }
        if length > 64 {
            emitCopyUpTo64(offset: offset, length: 60, &out)
            length -= 60
        }
        emitCopyUpTo64(offset: offset, length: length, &out)
    }

    static func emitCopyUpTo64(offset: Int, length: Int, _ out: inout [UInt8]) {
        if length >= 4 && length <= 11 && offset < 2048 {
            out.append(UInt8(1 | (length - 4) << 2 | (offset >> 8) << 5))
            out.append(UInt8(offset & 0xFF))
        } else {
            out.append(UInt8(2 | (length - 1) << 2))
            out.append(UInt8(offset & 0xFF))
            out.append(UInt8(offset >> 8))
        }
    }

    public static func decompress(_ input: [UInt8]) throws(Corrupt) -> [UInt8] {
        var i = 0
        var length = 0
        var shift = 0
        while true {
            guard i < input.count, shift <= 35 else { throw Corrupt(description: "snappy: bad length") }
            let b = input[i]
            i += 1
            length |= Int(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        var out: [UInt8] = []
        out.reserveCapacity(length)
        while i < input.count {
            let tag = input[i]
            i += 1
            switch tag & 3 {
            case 0:
                var n = Int(tag >> 2)
                if n >= 60 {
                    let extra = n - 59
                    guard i + extra <= input.count else { throw Corrupt(description: "snappy: literal length cut") }
                    n = 0
                    for k in 0..<extra { n |= Int(input[i + k]) << (8 * k) }
                    i += extra
                }
                n += 1
                guard i + n <= input.count, out.count + n <= length else { throw Corrupt(description: "snappy: literal past the end") }
                out.append(contentsOf: input[i..<i + n])
                i += n
            default:
                let n: Int, offset: Int
                switch tag & 3 {
                case 1:
                    guard i < input.count else { throw Corrupt(description: "snappy: copy cut") }
                    n = Int(tag >> 2 & 7) + 4
                    offset = Int(tag >> 5) << 8 | Int(input[i])
                    i += 1
                case 2:
                    guard i + 2 <= input.count else { throw Corrupt(description: "snappy: copy cut") }
                    n = Int(tag >> 2) + 1
                    offset = Int(input[i]) | Int(input[i + 1]) << 8
                    i += 2
                default:
                    guard i + 4 <= input.count else { throw Corrupt(description: "snappy: copy cut") }
                    n = Int(tag >> 2) + 1
                    offset = Int(input[i]) | Int(input[i + 1]) << 8 | Int(input[i + 2]) << 16 | Int(input[i + 3]) << 24
                    i += 4
                }
                guard offset > 0, offset <= out.count, out.count + n <= length else { throw Corrupt(description: "snappy: bad copy") }
                let from = out.count - offset
                for k in 0..<n { out.append(out[from + k]) }
            }
        }
        guard out.count == length else { throw Corrupt(description: "snappy: \(out.count) bytes, not \(length)") }
        return out
    }
}
