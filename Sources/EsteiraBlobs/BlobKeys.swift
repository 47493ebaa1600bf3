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
}
