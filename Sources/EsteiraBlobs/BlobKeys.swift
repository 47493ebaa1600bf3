/// Where each kind of file goes in the blob store.
public enum BlobKeys {
    /// A file as the client sent it, unchanged.
    public static func raw(clientID: String, batchID: String) -> String { "raw/\(clientID)/\(batchID)" }
    /// The staging rows of one sub-batch (the intermediate store).
    public static func staging(batchID: String, seq: Int) -> String { "staging/\(batchID)/\(seq).stg" }
}
