import Foundation

/// What `esteira settings` prints, and the README's table.
public enum SettingsReport {
    /// Each setting with the value in effect and where it came from; secrets show only that they are set.
    public static func effective(_ values: SettingsValues) -> String {
        var lines: [String] = []
        for entry in EsteiraSettings.catalog {
            let value: String
            if let given = values.given(entry.name) {
                let source = values.overrides[entry.name]?.isEmpty == false ? "flag \(entry.flag ?? "")" : "environment"
                value = (entry.secret ? masked(given) : given) + "  (\(source))"
            } else {
                value = "\(entry.defaultText.replacingOccurrences(of: "`", with: ""))  (default)"
            }
            lines.append("\(entry.name)=\(value)")
        }
        for name in unknown(in: values.environment) {
            lines.append("\(name): not an Esteira setting (a typo?); ignored")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Variables named like Esteira's that no setting reads (the tests' own are left out).
    public static func unknown(in environment: [String: String]) -> [String] {
        let known = Set(EsteiraSettings.catalog.map(\.name))
        return environment.keys.filter { $0.hasPrefix("ESTEIRA_") && !$0.hasPrefix("ESTEIRA_TEST_") && !known.contains($0) }.sorted()
    }

    /// A secret's shape without its content: its length, and for a URL its scheme and host.
    static func masked(_ secret: String) -> String {
        if let url = URL(string: secret), let scheme = url.scheme, let host = url.host {
            return "\(scheme)://****@\(host)\(url.port.map { ":\($0)" } ?? "")\(url.path)"
        }
        return "**** (\(secret.count) characters)"
    }

    /// The README's settings table, one row per variable.
    public static func markdownTable() -> String {
        var out = "| variable | flag | default | accepts | what it does |\n| --- | --- | --- | --- | --- |\n"
        for e in EsteiraSettings.catalog {
            let flag = e.flag.map { "`\($0)`" } ?? ""
            out += "| `\(e.name)` | \(flag) | \(e.defaultText) | \(e.form) | \(e.summary)\(e.secret ? " Secret: never printed." : "") |\n"
        }
        return out
    }
}
