public enum StoreError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    /// This worker's lease on the job was lost (it expired and another worker took the job).
    case leaseLost(jobID: Int)

    public var description: String {
        switch self {
        case .notFound(let what): return "not found: \(what)"
        case .leaseLost(let id): return "lease on job \(id) was lost"
        }
    }
}
