/// Every metric Esteira reports, named once (Prometheus names: `_total` for counters, units in
/// the name). docs/deploy.md lists what each means.
public enum MetricName {
    public static let rowsReceived = "esteira_rows_received_total"
    public static let rowsRegistered = "esteira_rows_registered_total"
    /// Rows of files that corrected a debt, and that withdrew one.
    public static let rowsUpdated = "esteira_rows_updated_total"
    public static let rowsWithdrawn = "esteira_rows_withdrawn_total"
    public static let rowsDuplicated = "esteira_rows_duplicated_total"
    public static let rowsRejected = "esteira_rows_rejected_total"
    public static let rowsReview = "esteira_rows_review_total"
    public static let jobFailures = "esteira_job_failures_total"
    public static let stageDuration = "esteira_stage_duration_seconds"
    public static let jobs = "esteira_jobs"
    public static let ledgerDifferences = "esteira_ledger_differences"
    public static let ledgerReconciledAt = "esteira_ledger_reconciled_at_seconds"
    public static let lakeBytes = "esteira_lake_bytes"
    public static let lakeFiles = "esteira_lake_files"
    public static let lakeBudgetBytes = "esteira_lake_budget_bytes"
    public static let lakeOverBudget = "esteira_lake_over_budget"
    public static let lakeFilesLate = "esteira_lake_files_late"
    /// Every request the API answers, by its route's pattern (never the path itself: ids would
    /// make a series each) and status.
    public static let httpRequestDuration = "esteira_http_request_duration_seconds"
    /// Risk analyses (`POST /v1/risk/analyses`) by outcome, and how long each took.
    public static let riskAnalyses = "esteira_risk_analyses_total"
    public static let riskAnalysisDuration = "esteira_risk_analysis_seconds"
    /// Calls to the external validation service by result (`ok`, `error`, `breaker_open`), and
    /// whether its breaker is open (1) or not (0).
    public static let externalCalls = "esteira_external_calls_total"
    public static let externalBreakerOpen = "esteira_external_breaker_open"
    /// Attempts to deliver a client's or an operator's notification, by channel and result
    /// (`delivered`, `retry`, `dead`); and the notifications waiting now, by state.
    public static let notificationAttempts = "esteira_notification_attempts_total"
    public static let notifications = "esteira_notifications"
    /// Ledger requests posted through the API, by result (`posted`, `rejected`).
    public static let ledgerPostings = "esteira_ledger_postings_total"
    /// Batches stalled now (a step out of attempts, waiting for an operator).
    public static let batchesStalled = "esteira_batches_stalled"
}
