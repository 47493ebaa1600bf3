extension String {
    /// Without leading and trailing spaces, tabs and line breaks. Cheap when there are none,
    /// which is the common case on the hot path of the transform stage.
    public var trimmedSpaces: String {
        let u = utf8
        func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }
        guard let first = u.first, let last = u.last else { return self }
        if !isSpace(first) && !isSpace(last) { return self }
        var start = u.startIndex, end = u.endIndex
        while start < end, isSpace(u[start]) { start = u.index(after: start) }
        while end > start, isSpace(u[u.index(before: end)]) { end = u.index(before: end) }
        return String(self[start..<end])
    }
}
