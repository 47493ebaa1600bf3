/// PostgreSQL's `COPY` text format, as far as the registry's rows use it: fields separated by a
/// tab, a row ended by a newline, `\N` for a null, and inside text a backslash written `\\`, a tab
/// `\t`, a newline `\n` and a carriage return `\r`. Integers are their decimal digits and days
/// `AAAA-MM-DD`.
///
/// The transform stage writes each valid debt's fields in this text into the staging file, and the
/// register stage sends them to PostgreSQL as they are, instead of decoding them into Strings and
/// encoding them again (docs/architecture.md, "A valid debt is staged as its registry row"). The
/// store's `COPY` encoder writes every other row with the same functions.
public enum CopyText {
    public static let null: [UInt8] = [0x5C, UInt8(ascii: "N")]

    /// Whether some byte must be escaped: a backslash or a byte below 0x20 (the tab, newline and
    /// carriage return among them). Eight bytes at a time.
    @inlinable
    public static func needsEscaping(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i &+ 8 <= bytes.count {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            // A byte below 0x20: subtracting 0x20 from it borrows into its high bit, which the
            // byte itself did not have. A backslash: a zero byte after xor with 0x5C.
            let low = (w &- 0x2020_2020_2020_2020) & ~w & 0x8080_8080_8080_8080
            let x = w ^ 0x5C5C_5C5C_5C5C_5C5C
            let backslash = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
            if low | backslash != 0 { return true }
            i &+= 8
        }
        while i < bytes.count {
            if bytes[i] < 0x20 || bytes[i] == 0x5C { return true }
            i &+= 1
        }
        return false
    }

    /// Writes `bytes` escaped at `p` (room for twice their count) and moves `p` past them.
    @inlinable
    public static func putEscaped(_ bytes: UnsafeBufferPointer<UInt8>, _ p: inout UnsafeMutablePointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard needsEscaping(bytes) else {
            p.update(from: base, count: bytes.count)
            p += bytes.count
            return
        }
        for byte in bytes {
            let escape: UInt8
            switch byte {
            case 0x5C: escape = 0x5C
            case 0x09: escape = UInt8(ascii: "t")
            case 0x0A: escape = UInt8(ascii: "n")
            case 0x0D: escape = UInt8(ascii: "r")
            default:
                p.pointee = byte
                p += 1
                continue
            }
            p[0] = 0x5C
            p[1] = escape
            p += 2
        }
    }

    /// Appends `bytes` escaped.
    @inlinable
    public static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard needsEscaping(bytes) else {
            out.append(contentsOf: bytes)
            return
        }
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 2 * bytes.count))
        let written = out.withUnsafeMutableBufferPointer { o -> Int in
            var p = o.baseAddress! + start
            putEscaped(bytes, &p)
            return p - (o.baseAddress! + start)
        }
        out.removeLast(2 * bytes.count - written)
    }

    /// The decimal digits of `n` (at most 20 bytes: a sign and 19 digits) at `p`; moves `p` past
    /// them. The digits are counted by comparisons, then written from the last, one division each.
    @inlinable
    public static func putDecimal(_ n: Int64, _ p: inout UnsafeMutablePointer<UInt8>) {
        if n < 0 {
            p.pointee = UInt8(ascii: "-")
            p += 1
        }
        var magnitude = n.magnitude
        var count = 1
        var bound: UInt64 = 10
        while count < 19 && magnitude >= bound {
            count += 1
            bound &*= 10
        }
        // 19 digits reach 10^19 - 1, above Int64.min's magnitude: the loop's cap is never short.
        var i = count
        repeat {
            i -= 1
            p[i] = UInt8(truncatingIfNeeded: 48 + magnitude % 10)
            magnitude /= 10
        } while i > 0
        p += count
    }

    @inlinable
    public static func appendDecimal(_ n: Int64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var p = buffer.baseAddress!
            putDecimal(n, &p)
            out.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress, count: p - buffer.baseAddress!))
        }
    }

    /// `AAAA-MM-DD` at `p` (ten bytes); the year is written with four digits.
    @inlinable
    public static func putDay(_ d: Day, _ p: UnsafeMutablePointer<UInt8>) {
        putDigits(d.year, 4, p)
        p[4] = UInt8(ascii: "-")
        putDigits(d.month, 2, p + 5)
        p[7] = UInt8(ascii: "-")
        putDigits(d.day, 2, p + 8)
    }

    @inlinable
    public static func appendDay(_ d: Day, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10) { buffer in
            putDay(d, buffer.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(buffer))
        }
    }

    /// The last `width` decimal digits of `value` (not negative), zero-padded, at `p`.
    @inlinable
    static func putDigits(_ value: Int, _ width: Int, _ p: UnsafeMutablePointer<UInt8>) {
        var v = value
        var i = width
        while i > 0 {
            i -= 1
            p[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
            v /= 10
        }
    }

    /// The text of one field as `COPY` reads it: escapes undone. (`\N`, a null, is the caller's.)
    public static func unescaped(_ field: UnsafeBufferPointer<UInt8>) -> String {
        guard field.contains(0x5C) else { return String(decoding: field, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(field.count)
        var i = 0
        while i < field.count {
            var byte = field[i]
            if byte == 0x5C, i + 1 < field.count {
                i += 1
                switch field[i] {
                case UInt8(ascii: "t"): byte = 0x09
                case UInt8(ascii: "n"): byte = 0x0A
                case UInt8(ascii: "r"): byte = 0x0D
                default: byte = field[i]
                }
            }
            out.append(byte)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A field of decimal digits with an optional minus sign, as `putDecimal` writes it.
    public static func integer(_ field: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0, negative = false
        if field.first == UInt8(ascii: "-") { negative = true; i = 1 }
        guard i < field.count, field.count - i <= 19 else { return nil }
        var magnitude: UInt64 = 0
        while i < field.count {
            let digit = field[i] &- 48
            guard digit < 10 else { return nil }
            magnitude = magnitude * 10 + UInt64(digit)
            i += 1
        }
        if negative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// A field `AAAA-MM-DD`, as `putDay` writes it.
    public static func day(_ field: UnsafeBufferPointer<UInt8>) -> Day? {
        guard field.count == 10, field[4] == UInt8(ascii: "-"), field[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                let digit = field[i] &- 48
                guard digit < 10 else { return nil }
                n = n * 10 + Int(digit)
            }
            return n
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
        return Day(year: year, month: month, day: day)
    }
}
