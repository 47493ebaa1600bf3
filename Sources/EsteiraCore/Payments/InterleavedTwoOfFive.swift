/// Interleaved 2 of 5, the symbology of the boleto's barcode: digits in pairs, the first of each
/// pair in the widths of five bars, the second in the five spaces between them; two of each five
/// are wide. A start (narrow bar, space, bar, space) and a stop (wide bar, narrow space, narrow
/// bar). FEBRABAN draws the wide elements three times the narrow.
public enum InterleavedTwoOfFive {
    /// Which of a digit's five elements are wide.
    static let patterns: [[Bool]] = [
        [false, false, true, true, false], [true, false, false, false, true], [false, true, false, false, true],
        [true, true, false, false, false], [false, false, true, false, true], [true, false, true, false, false],
        [false, true, true, false, false], [false, false, false, true, true], [true, false, false, true, false],
        [false, true, false, true, false],
    ]

    /// The widths, in narrow units, of the elements from the first bar on, alternating bar and
    /// space; nil when the text is not an even number of digits.
    public static func widths(_ digits: String, wide: Int = 3) -> [Int]? {
        let d = digits.compactMap(\.wholeNumberValue)
        guard d.count == digits.count, !d.isEmpty, d.count % 2 == 0 else { return nil }
        var out = [1, 1, 1, 1]
        for i in stride(from: 0, to: d.count, by: 2) {
            for k in 0..<5 {
                out.append(patterns[d[i]][k] ? wide : 1)
                out.append(patterns[d[i + 1]][k] ? wide : 1)
            }
        }
        out += [wide, 1, 1]
        return out
    }

    /// An SVG drawing of the bars, with quiet zones of ten narrow units; `narrow` is the width
    /// of a narrow element in the drawing's units and `height` its height.
    public static func svg(_ digits: String, narrow: Double = 1, height: Double = 50) -> String? {
        guard let widths = widths(digits) else { return nil }
        let quiet = 10
        let total = widths.reduce(0, +) + 2 * quiet
        var x = quiet
        var path = ""
        for (i, w) in widths.enumerated() {
            if i % 2 == 0 { path += "M\(x),0h\(w)v1h-\(w)z" }
            x += w
        }
        let width = Double(total) * narrow
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(total) 1" \
            preserveAspectRatio="none" shape-rendering="crispEdges"><rect width="\(total)" height="1" fill="#fff"/>\
            <path d="\(path)" fill="#000"/></svg>
            """
    }
}
