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
}
