import Foundation

/// What tells who a debtor is, and how erasure (LGPD art. 18 VI) leaves a debt without it.
public enum PersonalData {
    /// The name an erased debtor's debts carry.
    public static let erasedName = "Titular anonimizado"

    /// A debt's fields that tell who its debtor is. Erasure empties them (the document becomes a
    /// pseudonym); the amounts, days and statuses stay, since the ledger and the client's accounts
    /// rest on them.
    public static let debtorFields: Set<String> = ["name", "document", "email", "phone", "description"]

    /// A correction's details (`{"changes": {field: {"before", "after"}}}`), alone or inside a
    /// notice, with the before and after of each debtor field set to null; nil when nothing in it
    /// needed it (or it is no JSON object).
    public static func redactingChanges(inJSON text: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        var changed = false
        func walk(_ value: Any) -> Any {
            guard var dict = value as? [String: Any] else { return value }
            for (key, inner) in dict {
                if key == "changes", var changes = inner as? [String: Any] {
                    for field in changes.keys where debtorFields.contains(field) {
                        if let pair = changes[field] as? [String: Any], pair["before"] is NSNull, pair["after"] is NSNull { continue }
                        changes[field] = ["before": NSNull(), "after": NSNull()]
                        changed = true
                    }
                    dict[key] = changes
                } else {
                    dict[key] = walk(inner)
                }
            }
            return dict
        }
        let redacted = walk(object)
        guard changed, let data = try? JSONSerialization.data(withJSONObject: redacted, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return nil
        }
        return String(decoding: data, as: UTF8.self)
    }
}
