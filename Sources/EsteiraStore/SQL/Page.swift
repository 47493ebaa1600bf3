/// A page of a list.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var page: Int
    public var perPage: Int
    public var total: Int

    public init(items: [Item], page: Int, perPage: Int, total: Int) {
        self.items = items
        self.page = page
        self.perPage = perPage
        self.total = total
    }
}

extension Page {
    /// The rows before page `page` (from 1) of `perPage`: what OFFSET skips. A page too far to
    /// exist (its offset past what an Int holds: `?page=2164452804614136320`) skips everything
    /// and reads an empty page, rather than trapping on the overflow and stopping the process.
    public static func offset(page: Int, perPage: Int) -> Int {
        let (offset, overflow) = max(0, page - 1).multipliedReportingOverflow(by: max(0, perPage))
        return overflow ? Int.max : offset
    }
}

