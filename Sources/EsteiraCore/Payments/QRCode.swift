/// A QR code (ISO/IEC 18004, model 2) of bytes, at error-correction level M (15% of the symbol
/// can be lost), versions 1 to 19: up to 624 bytes, room enough for any PIX BR Code. Written
/// here because the package mirror has no QR library; pure arithmetic, no I/O.
///
/// The steps are the standard's: the bytes in byte mode, padded to the version's data capacity;
/// split into blocks, each with Reed-Solomon check codewords over GF(256); interleaved; placed
/// in the zigzag around the function patterns; the mask with the lowest penalty applied; the
/// format (and, from version 7, version) information written.
public struct QRCode: Sendable, Equatable {
    public let version: Int
    /// Modules per side: 17 + 4 × version.
    public let size: Int
    /// Row-major; true is dark.
    public let modules: [Bool]
    public let mask: Int

    public enum Problem: Error, Equatable, Sendable {
        /// More bytes than version 19 at level M holds.
        case tooLong(Int)
    }

    public func isDark(x: Int, y: Int) -> Bool { modules[y * size + x] }

    // Level M, versions 1–19 (ISO/IEC 18004 table 9): check codewords per block, and blocks.
    static let checkPerBlock = [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26]
    static let blocks = [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14]
    // Centres of the alignment patterns (annex E), versions 2–19.
    static let alignment: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
        [6, 30, 54], [6, 32, 58], [6, 34, 62], [6, 26, 46, 66], [6, 26, 48, 70], [6, 26, 50, 74], [6, 30, 54, 78],
        [6, 30, 56, 82], [6, 30, 58, 86],
    ]
    static let maxVersion = 19

    /// Modules left for codewords once the function patterns are drawn, in codewords.
    static func totalCodewords(_ v: Int) -> Int {
        var modules = (16 * v + 128) * v + 64
        if v >= 2 {
            let n = alignment[v - 1].count
            modules -= (25 * n - 10) * n - 55
            if v >= 7 { modules -= 36 }
        }
        return modules / 8
    }

    static func dataCodewords(_ v: Int) -> Int { totalCodewords(v) - checkPerBlock[v - 1] * blocks[v - 1] }

    public init(bytes: [UInt8]) throws(Problem) {
        // The smallest version that holds the bytes: mode (4 bits), count (8 bits up to version
        // 9, 16 after), the bytes.
        guard let v = (1...Self.maxVersion).first(where: { v in
            4 + (v <= 9 ? 8 : 16) + 8 * bytes.count <= 8 * Self.dataCodewords(v)
        }) else { throw .tooLong(bytes.count) }
        version = v
        size = 17 + 4 * v

        var bits = BitWriter()
        bits.append(0b0100, count: 4)
        bits.append(bytes.count, count: v <= 9 ? 8 : 16)
        for b in bytes { bits.append(Int(b), count: 8) }
        let capacity = 8 * Self.dataCodewords(v)
        bits.append(0, count: min(4, capacity - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var data = bits.bytes
        var pad: UInt8 = 0xEC
        while data.count < Self.dataCodewords(v) {
            data.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        let codewords = Self.interleaved(data, version: v)

        var grid = Grid(size: size)
        grid.drawFunctionPatterns(version: v)
        grid.place(codewords)
        var best: (penalty: Int, mask: Int, grid: Grid)?
        for m in 0..<8 {
            var candidate = grid
            candidate.applyMask(m)
            candidate.drawFormat(mask: m)
            let p = candidate.penalty()
            if best == nil || p < best!.penalty { best = (p, m, candidate) }
        }
        mask = best!.mask
        modules = best!.grid.dark
    }

    /// The data split into blocks (the shorter ones first), each with its check codewords,
    /// interleaved: the data codewords column by column, then the check codewords likewise.
    static func interleaved(_ data: [UInt8], version v: Int) -> [UInt8] {
        let n = blocks[v - 1], check = checkPerBlock[v - 1]
        let short = data.count / n, longCount = data.count % n
        var parts: [[UInt8]] = []
        var start = 0
        for i in 0..<n {
            let length = short + (i >= n - longCount ? 1 : 0)
            parts.append(Array(data[start..<start + length]))
            start += length
        }
        let checks = parts.map { ReedSolomon.remainder($0, degree: check) }
        var out: [UInt8] = []
        for i in 0...short {
            for p in parts where i < p.count { out.append(p[i]) }
        }
        for i in 0..<check {
            for c in checks { out.append(c[i]) }
        }
        return out
    }

    /// An SVG drawing: one path of the dark modules, with the standard 4-module quiet zone;
    /// `pixels` is the drawn width.
    public func svg(pixels: Int = 256) -> String {
        let side = size + 8
        var path = ""
        for y in 0..<size {
            for x in 0..<size where isDark(x: x, y: y) { path += "M\(x + 4),\(y + 4)h1v1h-1z" }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(pixels)" height="\(pixels)" viewBox="0 0 \(side) \(side)" \
            shape-rendering="crispEdges"><rect width="\(side)" height="\(side)" fill="#fff"/><path d="\(path)" fill="#000"/></svg>
            """
    }
}

struct BitWriter {
    var bytes: [UInt8] = []
    var count = 0

    mutating func append(_ value: Int, count n: Int) {
        for i in stride(from: n - 1, through: 0, by: -1) {
            if count % 8 == 0 { bytes.append(0) }
            if (value >> i) & 1 == 1 { bytes[bytes.count - 1] |= UInt8(0x80 >> (count % 8)) }
            count += 1
        }
    }
}

/// Reed-Solomon over GF(256) with the QR polynomial x⁸ + x⁴ + x³ + x² + 1 (0x11D).
enum ReedSolomon {
    static let (exp, log): ([UInt8], [Int]) = {
        var exp = [UInt8](repeating: 0, count: 512), log = [Int](repeating: 0, count: 256)
        var x = 1
        for i in 0..<255 {
            exp[i] = UInt8(x)
            log[x] = i
            x <<= 1
            if x & 0x100 != 0 { x ^= 0x11D }
        }
        for i in 255..<512 { exp[i] = exp[i - 255] }
        return (exp, log)
    }()

    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        a == 0 || b == 0 ? 0 : exp[log[Int(a)] + log[Int(b)]]
    }

    /// The generator (x − α⁰)(x − α¹)…(x − α^(degree−1)), highest power first, its leading 1 left out.
    static func generator(_ degree: Int) -> [UInt8] {
        var g: [UInt8] = [1]
        for i in 0..<degree {
            var next = [UInt8](repeating: 0, count: g.count + 1)
            for (j, c) in g.enumerated() {
                next[j] ^= c
                next[j + 1] ^= multiply(c, exp[i])
            }
            g = next
        }
        return Array(g.dropFirst())
    }

    /// The check codewords: the data, times x^degree, modulo the generator.
    static func remainder(_ data: [UInt8], degree: Int) -> [UInt8] {
        let g = generator(degree)
        var r = [UInt8](repeating: 0, count: degree)
        for d in data {
            let factor = d ^ r[0]
            r.removeFirst()
            r.append(0)
            for i in 0..<degree { r[i] ^= multiply(g[i], factor) }
        }
        return r
    }
}

/// The module grid while it is built: which modules are dark, and which belong to function
/// patterns (never data, never masked).
struct Grid {
    let size: Int
    var dark: [Bool]
    var function: [Bool]

    init(size: Int) {
        self.size = size
        dark = Array(repeating: false, count: size * size)
        function = Array(repeating: false, count: size * size)
    }

    mutating func set(_ x: Int, _ y: Int, _ isDark: Bool) {
        dark[y * size + x] = isDark
        function[y * size + x] = true
    }

    mutating func drawFunctionPatterns(version v: Int) {
        for i in 0..<size {
            set(6, i, i % 2 == 0)
            set(i, 6, i % 2 == 0)
        }
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            // The finder (7×7 rings) and its light separator around it.
            for dy in -4...4 {
                for dx in -4...4 {
                    let x = cx + dx, y = cy + dy
                    guard x >= 0, x < size, y >= 0, y < size else { continue }
                    let ring = max(abs(dx), abs(dy))
                    set(x, y, ring != 2 && ring != 4)
                }
            }
        }
        let centres = QRCode.alignment[v - 1]
        for (i, cy) in centres.enumerated() {
            for (j, cx) in centres.enumerated() {
                // Not over the three finders.
                if (i == 0 && j == 0) || (i == 0 && j == centres.count - 1) || (i == centres.count - 1 && j == 0) { continue }
                for dy in -2...2 {
                    for dx in -2...2 { set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) }
                }
            }
        }
        // Reserve the format areas (written after masking) and draw the dark module.
        drawFormat(mask: 0)
        if v >= 7 {
            var rem = v
            for _ in 0..<12 { rem = (rem << 1) ^ ((rem >> 11) * 0x1F25) }
            let bits = v << 12 | rem
            for i in 0..<18 {
                let on = (bits >> i) & 1 == 1
                let a = size - 11 + i % 3, b = i / 3
                set(a, b, on)
                set(b, a, on)
            }
        }
    }

    /// The 15 format bits (level M is 00, then the mask), BCH-protected and XORed with 0x5412,
    /// in both copies, and the dark module.
    mutating func drawFormat(mask: Int) {
        let data = 0b00 << 3 | mask
        var rem = data
        for _ in 0..<10 { rem = (rem << 1) ^ ((rem >> 9) * 0x537) }
        let bits = (data << 10 | rem) ^ 0x5412
        func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
        for i in 0...5 { set(8, i, bit(i)) }
        set(8, 7, bit(6))
        set(8, 8, bit(7))
        set(7, 8, bit(8))
        for i in 9..<15 { set(14 - i, 8, bit(i)) }
        for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
        for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
        set(8, size - 8, true)
    }

    /// The codewords' bits, most significant first, in the zigzag: column pairs from the right,
    /// up then down, skipping the vertical timing column.
    mutating func place(_ codewords: [UInt8]) {
        var i = 0
        let total = codewords.count * 8
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vert in 0..<size {
                for j in 0..<2 {
                    let x = right - j
                    let upward = (right + 1) & 2 == 0
                    let y = upward ? size - 1 - vert : vert
                    guard !function[y * size + x] else { continue }
                    if i < total {
                        dark[y * size + x] = (codewords[i >> 3] >> (7 - i & 7)) & 1 == 1
                        i += 1
                    }
                }
            }
            right -= 2
        }
    }

    mutating func applyMask(_ m: Int) {
        for y in 0..<size {
            for x in 0..<size where !function[y * size + x] {
                let flip: Bool
                switch m {
                case 0: flip = (x + y) % 2 == 0
                case 1: flip = y % 2 == 0
                case 2: flip = x % 3 == 0
                case 3: flip = (x + y) % 3 == 0
                case 4: flip = (x / 3 + y / 2) % 2 == 0
                case 5: flip = x * y % 2 + x * y % 3 == 0
                case 6: flip = (x * y % 2 + x * y % 3) % 2 == 0
                default: flip = ((x + y) % 2 + x * y % 3) % 2 == 0
                }
                if flip { dark[y * size + x].toggle() }
            }
        }
    }

    /// The standard's four penalties: runs of five or more, 2×2 blocks, finder-like patterns,
    /// and the distance of the dark share from half.
    func penalty() -> Int {
        var score = 0
        func at(_ x: Int, _ y: Int) -> Bool { dark[y * size + x] }
        for horizontal in [true, false] {
            for a in 0..<size {
                var run = 1
                var line: [Bool] = []
                line.reserveCapacity(size)
                for b in 0..<size { line.append(horizontal ? at(b, a) : at(a, b)) }
                for b in 1..<size {
                    if line[b] == line[b - 1] {
                        run += 1
                        if run == 5 { score += 3 } else if run > 5 { score += 1 }
                    } else {
                        run = 1
                    }
                }
                // 1:1:3:1:1 with four light modules on one side (or the edge).
                let pattern = [true, false, true, true, true, false, true]
                for b in 0...(size - 7) where Array(line[b..<b + 7]) == pattern {
                    let before = (max(0, b - 4)..<b).allSatisfy { !line[$0] }
                    let after = (b + 7..<min(size, b + 11)).allSatisfy { !line[$0] }
                    if before || after { score += 40 }
                }
            }
        }
        for y in 0..<size - 1 {
            for x in 0..<size - 1 {
                let c = at(x, y)
                if c == at(x + 1, y), c == at(x, y + 1), c == at(x + 1, y + 1) { score += 3 }
            }
        }
        let darkCount = dark.filter { $0 }.count
        let percent = darkCount * 100 / (size * size)
        score += abs(percent - 50) / 5 * 10
        return score
    }
}
