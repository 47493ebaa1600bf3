extension String {
    /// Without leading and trailing spaces, tabs and line breaks. Cheap when there are none,
    /// which is the common case on the hot path of the transform stage.
    public var trimmedSpaces: String {
        let u = utf8
        guard let first = u.first, let last = u.last else { return self }
        if !first.isTrimmedSpace && !last.isTrimmedSpace { return self }
        var start = u.startIndex, end = u.endIndex
        while start < end, u[start].isTrimmedSpace { start = u.index(after: start) }
        while end > start, u[u.index(before: end)].isTrimmedSpace { end = u.index(before: end) }
        return String(self[start..<end])
    }
}

extension UInt8 {
    /// A byte `String.trimmedSpaces` removes from either end (`InPlaceRecord` trims the same way):
    /// space, tab, line feed, carriage return.
    var isTrimmedSpace: Bool { self == 32 || self == 9 || self == 10 || self == 13 }
}
