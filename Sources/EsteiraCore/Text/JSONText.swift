import Foundation

/// JSON written the one way Esteira stores and sends untyped objects: keys sorted, slashes as they
/// are. The same object always gives the same text.
public enum JSONText {
    public static func encode(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }
}
