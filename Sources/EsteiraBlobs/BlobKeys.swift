/// Where each kind of file goes in the blob store.
public enum BlobKeys {
    /// Refuses keys that could escape the store's root: empty, absolute, or with a `..` segment.
    public static func check(_ key: String) throws {
        guard !key.isEmpty, !key.hasPrefix("/"), !key.split(separator: "/").contains("..") else {
            throw BlobError(code: .io, key: key, detail: "invalid key")
        }
    }

    /// A file as the client sent it, unchanged.
    public static func raw(clientID: String, batchID: String) -> String { "raw/\(clientID)/\(batchID)" }
    /// The CSV a spreadsheet batch was turned into.
    public static func converted(batchID: String) -> String { "converted/\(batchID).csv" }
    /// The staging rows of one sub-batch (the intermediate store).
    public static func staging(batchID: String, seq: Int) -> String { "staging/\(batchID)/\(seq).stg" }

    /// The lake's layers and the folder each lives in (docs/lake.md).
    public static let lakeLayers: [(layer: String, prefix: String)] = [
        ("raw", "lake/raw/"), ("curated", "lake/curated/"), ("quarantine", "lake/quarantine/"), ("refined", "lake/refined/"),
    ]
}

extension BlobStore {
    /// What the lake holds per layer, bytes and files, measured by listing the store: every
    /// file there counts, those of earlier runs and re-runs included.
    public func lakeStorage() async throws -> [String: (bytes: Int, files: Int)] {
        var out: [String: (bytes: Int, files: Int)] = [:]
        for (layer, prefix) in BlobKeys.lakeLayers {
            let entries = try await list(prefix: prefix)
            out[layer] = (entries.reduce(0) { $0 + $1.size }, entries.count)
        }
        return out
    }
}
