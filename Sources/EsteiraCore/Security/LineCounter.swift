/// Counts the lines of a delimited or fixed-width file as it streams past, without parsing it.
/// Every line feed counts, also one inside a quoted field, so the count is an upper bound of the
/// records the pipeline will read (a header and blank lines are lines too): what a quota checked
/// before a file is kept needs, for it must never let past more than the file holds. A file in
/// UTF-16 counts its line feeds' 0x0A bytes the same way, and may count a few more.
public struct LineCounter: Sendable {
    public private(set) var lineFeeds = 0
    private var lastByte: UInt8?

    public init() {}

    /// Takes bytes in memory, not any collection of them: a generic method called from another
    /// module runs unspecialized, a witness call per byte, and every uploaded byte passes here.
    public mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) {
        var feeds = 0
        for b in bytes where b == 0x0A { feeds += 1 }
        lineFeeds += feeds
        if let last = bytes.last { lastByte = last }
    }

    public mutating func add(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { add($0) }
    }

    /// Lines, the last one counted even without a final line break.
    public var total: Int { lineFeeds + (lastByte != nil && lastByte != 0x0A ? 1 : 0) }
}
