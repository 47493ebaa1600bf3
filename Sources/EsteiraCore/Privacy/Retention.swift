/// How long each kind of data about debtors is kept once it has served (LGPD art. 15 and 16:
/// data is removed when its purpose ends). Each period has a setting; docs/security.md lists them
/// with the reasons for the defaults.
public struct Retention: Sendable, Equatable {
    /// A client's raw files and the CSVs spreadsheets became, after their batch ended.
    public var filesDays: Int = 90
    /// Files uploaded on the web pages and never confirmed.
    public var draftHours: Int = 48
    /// A dry run's preview never confirmed: after this many days its batch is cancelled (nothing
    /// registered), its staging goes, and its file follows `filesDays` as any ended batch's.
    public var previewDays: Int = 7
    /// Staging files a crashed step left behind, after their batch ended (or for no batch).
    public var stagingDays: Int = 7
    /// The raw text of rejected lines (their line, field, code and message stay).
    public var rejectLinesDays: Int = 180
    /// Risk decisions (the velocity rule reads only the last hour).
    public var riskDecisionsDays: Int = 365
    /// Notifications delivered or dead, with their attempts.
    public var notificationsDays: Int = 180
    /// Jobs done (dead ones stay until an operator acts).
    public var jobsDays: Int = 30
    /// Lines of submissions submitted or expired.
    public var submissionsDays: Int = 7
    /// Days after a debtor's last debt closed (its last change) before the debtor may be erased:
    /// five years, the time within which a debt in writing may be claimed (Código Civil art. 206
    /// § 5º I), and so disputed.
    public var erasureHoldDays: Int = 1825

    public init() {}

    /// The kinds a purge removes, in the order it takes them, with what each counts.
    public enum Kind: String, Sendable, CaseIterable {
        case previews, files, drafts, staging, rejectLines = "reject_lines", riskDecisions = "risk_decisions"
        case notifications, jobs, submissions, sessions
    }
}
