import EsteiraCore
import Foundation

/// One setting: how it is listed (`entry`: its environment variable, the flag that may override
/// it, what it accepts, its default), its default value, and how its text is read. A value that
/// cannot be read is an error naming the variable and the form it accepts: nothing falls back to
/// the default in silence.
public struct Setting<Value: Sendable>: Sendable {
    public let entry: SettingEntry
    let defaultValue: Value
    let parse: @Sendable (String) -> Value?

    public init(_ name: String, flag: String? = nil, default defaultValue: Value, shown defaultText: String, form: String,
                secret: Bool = false, _ summary: String, parse: @escaping @Sendable (String) -> Value?) {
        entry = SettingEntry(name: name, flag: flag, summary: summary, form: form, defaultText: defaultText, secret: secret)
        self.defaultValue = defaultValue
        self.parse = parse
    }
}

/// A setting whose value did not read.
public struct SettingError: Error, CustomStringConvertible, Equatable {
    public let name: String
    public let value: String
    public let form: String

    public var description: String { "\(name)=\(value) is not valid: expected \(form)" }
}

/// A setting as listed, whatever its type: for `esteira settings` and the README's table.
public struct SettingEntry: Sendable {
    public let name: String
    public let flag: String?
    public let summary: String
    /// What it accepts, in words ("a whole number from 0 to 65535").
    public let form: String
    /// The default as the README shows it.
    public let defaultText: String
    public let secret: Bool
}

/// The values given (environment, then flags over it) and every setting read from them, in order.
public final class SettingsValues: @unchecked Sendable {
    let environment: [String: String]
    let overrides: [String: String]
    /// Only touched while `EsteiraSettings.load` runs, on one thread.
    private(set) var read: [SettingEntry] = []

    /// `overrides`: values from command-line flags, by the name of the variable they replace.
    public init(environment: [String: String], overrides: [String: String] = [:]) {
        self.environment = environment
        self.overrides = overrides
    }

    /// The text given for the setting, if any: a flag's, else the environment's; empty is unset.
    public func given(_ name: String) -> String? {
        if let v = overrides[name], !v.isEmpty { return v }
        if let v = environment[name], !v.isEmpty { return v }
        return nil
    }

    public func callAsFunction<V>(_ setting: Setting<V>) throws -> V {
        let entry = setting.entry
        read.append(entry)
        guard let text = given(entry.name) else { return setting.defaultValue }
        guard let value = setting.parse(text) else { throw SettingError(name: entry.name, value: text, form: entry.form) }
        return value
    }
}

// The forms settings take.
extension Setting where Value == Int {
    /// A whole number within `range`.
    public static func whole(_ name: String, flag: String? = nil, default value: Int, shown: String? = nil, in range: ClosedRange<Int>,
                             _ summary: String) -> Setting<Int> {
        Setting<Int>(name, flag: flag, default: value, shown: shown ?? SettingText.grouped(value), form: SettingText.wholeForm(range), summary) {
            Int($0).flatMap { range.contains($0) ? $0 : nil }
        }
    }
}

extension Setting where Value == Int? {
    /// A whole number within `range`, or nothing by default.
    public static func optionalWhole(_ name: String, flag: String? = nil, shown: String = "none", in range: ClosedRange<Int>,
                                     _ summary: String) -> Setting<Int?> {
        // `Value` is itself optional: a value that does not read must be `.none`, not `.some(nil)`.
        Setting<Int?>(name, flag: flag, default: nil, shown: shown, form: SettingText.wholeForm(range), summary) { text -> Int?? in
            guard let n = Int(text), range.contains(n) else { return .none }
            return .some(n)
        }
    }
}

extension Setting where Value == Double {
    /// A number of seconds (a decimal point allowed), more than zero unless `zeroAllowed`.
    public static func seconds(_ name: String, flag: String? = nil, default value: Double, zeroAllowed: Bool = false,
                               _ summary: String) -> Setting<Double> {
        Setting<Double>(name, flag: flag, default: value, shown: value == value.rounded() ? SettingText.grouped(Int(value)) : "\(value)",
                        form: zeroAllowed ? "a number of seconds, 0 or more, such as 30 or 0.5" : "a number of seconds greater than 0, such as 30 or 0.5",
                        summary) {
            Double($0).flatMap { $0.isFinite && ($0 > 0 || zeroAllowed && $0 == 0) ? $0 : nil }
        }
    }
}

extension Setting where Value == Bool {
    /// On or off: 1, true or yes; 0, false or no.
    public static func onOff(_ name: String, flag: String? = nil, _ summary: String) -> Setting<Bool> {
        Setting<Bool>(name, flag: flag, default: false, shown: "off", form: "1, true or yes; 0, false or no", summary) {
            switch $0.lowercased() {
            case "1", "true", "yes": true
            case "0", "false", "no": false
            default: nil
            }
        }
    }
}

extension Setting where Value == String? {
    /// Any text (or what `check` accepts), or nothing by default.
    public static func text(_ name: String, flag: String? = nil, shown: String = "none", secret: Bool = false, form: String = "any text",
                            _ summary: String, check: @escaping @Sendable (String) -> Bool = { _ in true }) -> Setting<String?> {
        Setting<String?>(name, flag: flag, default: nil, shown: shown, form: form, secret: secret, summary) { text -> String?? in
            check(text) ? .some(text) : .none
        }
    }
}

extension Setting where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of a few words.
    public static func choice(_ name: String, flag: String? = nil, default value: Value, _ summary: String) -> Setting<Value> {
        Setting<Value>(name, flag: flag, default: value, shown: "`\(value.rawValue)`",
                       form: "one of " + Value.allCases.map(\.rawValue).joined(separator: ", "), summary) { Value(rawValue: $0) }
    }
}

enum SettingText {
    static func wholeForm(_ range: ClosedRange<Int>) -> String {
        range.upperBound == Int.max ? "a whole number from \(range.lowerBound)" : "a whole number from \(range.lowerBound) to \(range.upperBound)"
    }

    /// 20000 as 20,000, the README's way.
    static func grouped(_ n: Int) -> String { DigitGroups.grouped(n, separator: ",") }
}
