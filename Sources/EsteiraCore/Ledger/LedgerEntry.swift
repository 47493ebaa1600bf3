import Foundation

/// A ledger entry's direction: `D` takes money out of the account, `C` puts it in.
public enum LedgerSide: String, Sendable, Codable, CaseIterable {
    case debit = "D"
    case credit = "C"
}

/// A kind of entry in the catalog: whether it may be used now, and on which side.
public struct LedgerEvent: Sendable, Equatable, Codable {
    public var code: String
    public var description: String
    public var active: Bool
    public var allowsDebit: Bool
    public var allowsCredit: Bool

    public init(code: String, description: String, active: Bool, allowsDebit: Bool, allowsCredit: Bool) {
        self.code = code
        self.description = description
        self.active = active
        self.allowsDebit = allowsDebit
        self.allowsCredit = allowsCredit
    }

    public func allows(_ side: LedgerSide) -> Bool { side == .debit ? allowsDebit : allowsCredit }

    /// Codes are 1 to 40 letters, digits, `_` or `-`, kept in capitals.
    public static func isValidCode(_ code: String) -> Bool {
        (1...40).contains(code.utf8.count) && code.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }
}

/// Why an entry is refused. Each names the field it is about (docs/ledger.md lists them).
public enum LedgerRule: String, Sendable, CaseIterable {
    case unknownEvent = "L001"
    case inactiveEvent = "L002"
    case sideNotAllowed = "L003"
    case dateBeforeWindow = "L004"
    case dateInFuture = "L005"
    case amountNotPositive = "L006"
    case malformedDetails = "L007"
    case traceKeyReused = "L008"
    case invalidSide = "L009"
    case invalidDescription = "L010"
    case invalidTraceKey = "L011"
    case invalidAccount = "L012"
    case invalidDate = "L013"
    case duplicateTraceKeyInRequest = "L014"
}

/// One refusal: which entry of the request (0-based), the field, the rule and a message in Portuguese.
public struct LedgerIssue: Sendable, Equatable {
    public var index: Int
    public var field: String
    public var rule: LedgerRule
    public var message: String

    public init(index: Int, field: String, rule: LedgerRule, message: String) {
        self.index = index
        self.field = field
        self.rule = rule
        self.message = message
    }
}

/// A request refused, with every reason found.
public struct LedgerRejection: Error, Sendable, Equatable {
    public var issues: [LedgerIssue]
    public init(issues: [LedgerIssue]) { self.issues = issues }
}

/// An entry as the client sends it, before any check.
public struct LedgerEntryInput: Sendable {
    public var branch: String
    public var account: String
    /// The amount as written (`"10.50"`), or nil when `amountCents` was sent.
    public var amount: String?
    public var amountCents: Int64?
    public var side: String
    public var eventCode: String
    public var description: String
    public var traceKey: String
    /// The details as canonical JSON text (keys sorted), or nil for none; `detailsValid` false
    /// when they were sent but are not a JSON object.
    public var details: String?
    public var detailsValid: Bool
    public var referenceDate: String

    public init(branch: String, account: String, amount: String?, amountCents: Int64?, side: String, eventCode: String,
                description: String, traceKey: String, details: String?, detailsValid: Bool = true, referenceDate: String) {
        self.branch = branch
        self.account = account
        self.amount = amount
        self.amountCents = amountCents
        self.side = side
        self.eventCode = eventCode
        self.description = description
        self.traceKey = traceKey
        self.details = details
        self.detailsValid = detailsValid
        self.referenceDate = referenceDate
    }
}

/// An entry that passed every check that needs no database.
public struct LedgerEntryDraft: Sendable, Equatable {
    public var branch: String
    public var account: String
    public var amountCents: Int64
    public var side: LedgerSide
    public var eventCode: String
    public var description: String
    /// Lower-case UUID.
    public var traceKey: String
    public var details: String?
    public var referenceDate: Day

    public init(branch: String, account: String, amountCents: Int64, side: LedgerSide, eventCode: String, description: String,
                traceKey: String, details: String?, referenceDate: Day) {
        self.branch = branch
        self.account = account
        self.amountCents = amountCents
        self.side = side
        self.eventCode = eventCode
        self.description = description
        self.traceKey = traceKey
        self.details = details
        self.referenceDate = referenceDate
    }

    /// What makes two sends of one trace key the same entry: every field but the trace key.
    public var fingerprint: String {
        [branch, account, String(amountCents), side.rawValue, eventCode, description, details ?? "", referenceDate.iso]
            .map { "\($0.utf8.count):\($0)" }.joined()
    }

    /// The signed effect on the balance: credits add, debits subtract.
    public var signedCents: Int64 { side == .credit ? amountCents : -amountCents }
}
