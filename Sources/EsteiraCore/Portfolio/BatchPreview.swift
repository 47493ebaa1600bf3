/// What a batch would do, row by row, found without writing (`POST /v1/batches?dry_run=true`):
/// how many rows of each effect, their lines, and the rejects. A public contract
/// (docs/portfolio.md); the lines and rejects listed stop at `listed` each, the counts never.
public struct BatchPreview: Codable, Sendable, Equatable {
    public static let listed = 1_000

    public struct Counts: Codable, Sendable, Equatable {
        public var received = 0
        public var new = 0
        public var corrected = 0
        public var withdrawn = 0
        public var unchanged = 0
        public var conflicts = 0
        public var rejected = 0

        public init() {}
    }

    public struct Reject: Codable, Sendable, Equatable {
        public var line: Int
        public var field: String
        public var code: String
        public var message: String
    }

    public var counts = Counts()
    /// The lines of each effect, in file order (the first `listed`).
    public var lines: [String: [Int]] = [:]
    /// Every problem of the rejected and conflicting rows, by line (the first `listed`).
    public var rejects: [Reject] = []

    public init() {}

    /// Counts a row's effect, with its problems when it has some.
    public mutating func add(_ effect: RowEffect, line: Int, issues: [RowIssue] = []) {
        counts.received += 1
        switch effect {
        case .new: counts.new += 1
        case .corrected: counts.corrected += 1
        case .withdrawn: counts.withdrawn += 1
        case .unchanged: counts.unchanged += 1
        case .conflict: counts.conflicts += 1
        case .rejected: counts.rejected += 1
        }
        if lines[effect.rawValue, default: []].count < Self.listed { lines[effect.rawValue, default: []].append(line) }
        for issue in issues where rejects.count < Self.listed {
            rejects.append(Reject(line: issue.line, field: issue.field?.rawValue ?? "", code: issue.code.rawValue, message: issue.message))
        }
    }
}
