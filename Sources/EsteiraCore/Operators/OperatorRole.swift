/// What an operator of the agency may do, in the console (`/ops`), the operators' API
/// (`/v1/admin`) and nowhere else. Each role holds the rights of the one before it.
public enum OperatorRole: String, Sendable, Codable, CaseIterable, Comparable {
    /// Reads every page and every list; changes nothing.
    case viewer
    /// Also acts: retries and cancels, keeps the blacklist, decides reviews, redelivers, runs the lake.
    case `operator`
    /// Also manages operators and clients (creation, settings, keys, deactivation).
    case admin

    var rank: Int {
        switch self {
        case .viewer: 0
        case .operator: 1
        case .admin: 2
        }
    }

    public static func < (a: OperatorRole, b: OperatorRole) -> Bool { a.rank < b.rank }

    /// Whether this role holds the rights of `needed`.
    public func allows(_ needed: OperatorRole) -> Bool { self >= needed }

    /// The role's name, for the console.
    public var portugueseName: String {
        switch self {
        case .viewer: "leitura"
        case .operator: "operação"
        case .admin: "administração"
        }
    }
}
