import EsteiraCore

/// PostgreSQL's `COPY` text format, as far as the store's rows use it: fields separated by a
/// tab, a row ended by a newline, `\N` for a null, and inside text a backslash written `\\`, a tab
/// `\t`, a newline `\n` and a carriage return `\r`. Integers are their decimal digits and days
/// `AAAA-MM-DD`.
///
/// The store's `COPY` encoder (`PostgresCopyText`) writes every row but a batch's new debts with
/// these functions; those go in the binary format (`CopyBinary`).
enum CopyText {
    /// Whether some byte must be escaped: a backslash or a byte below 0x20 (the tab, newline and
    /// carriage return among them). Eight bytes at a time.
    static func needsEscaping(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
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
    static func putEscaped(_ bytes: UnsafeBufferPointer<UInt8>, _ p: inout UnsafeMutablePointer<UInt8>) {
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

    /// The decimal digits of `n` (at most 20 bytes: a sign and 19 digits) at `p`; moves `p` past
    /// them. The digits are counted by comparisons, then written from the last, one division each.
    static func putDecimal(_ n: Int64, _ p: inout UnsafeMutablePointer<UInt8>) {
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

    /// `AAAA-MM-DD` at `p` (ten bytes); the year is written with four digits.
    static func putDay(_ d: Day, _ p: UnsafeMutablePointer<UInt8>) {
        putDigits(d.year, 4, p)
        p[4] = UInt8(ascii: "-")
        putDigits(d.month, 2, p + 5)
        p[7] = UInt8(ascii: "-")
        putDigits(d.day, 2, p + 8)
    }

    /// The last `width` decimal digits of `value` (not negative), zero-padded, at `p`.
    static func putDigits(_ value: Int, _ width: Int, _ p: UnsafeMutablePointer<UInt8>) {
        var v = value
        var i = width
        while i > 0 {
            i -= 1
            p[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
            v /= 10
        }
    }
}
