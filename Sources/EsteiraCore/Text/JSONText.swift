import Foundation

/// JSON written the one way Esteira stores what it publishes: keys sorted, slashes as they are.
/// The same value always gives the same text.
public enum JSONText {
    public static func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
