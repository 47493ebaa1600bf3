import Foundation

/// JSON written the one way Esteira stores and sends untyped objects: keys sorted, slashes as they
/// are. The same object always gives the same text.
public enum JSONText {
    /// A Codable value, written the same way: keys sorted, slashes as they are.
    public static func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func encode(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }
}
