CREATE TABLE alert_targets (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    url TEXT,
    secret TEXT,
    address TEXT,
    events TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    operator_id TEXT,
    operator_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before_value TEXT,
    after_value TEXT
);

CREATE TABLE bankslips (
    client_num BIGINT NOT NULL,
    external_id TEXT NOT NULL,
    our_number BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    due_date TEXT NOT NULL,
    barcode TEXT NOT NULL,
    digitable_line TEXT NOT NULL,
    pix_payload TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL, email_to TEXT, email_state TEXT, email_attempts BIGINT NOT NULL DEFAULT 0, email_next_at TEXT, email_error TEXT, emailed_at TEXT,
    PRIMARY KEY (client_num, our_number)
);

CREATE TABLE batch_missing (
    batch_id TEXT NOT NULL REFERENCES batches (id),
    external_id TEXT NOT NULL,
    status_before TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    PRIMARY KEY (batch_id, external_id)
);

CREATE TABLE batch_previews (
    batch_id TEXT PRIMARY KEY REFERENCES batches (id),
    report TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE batches (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id),
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    file_name TEXT,
    blob_key TEXT NOT NULL,
    byte_size BIGINT NOT NULL,
    received_on TEXT NOT NULL,
    sub_batch_size BIGINT NOT NULL,
    encoding TEXT,
    delimiter TEXT,
    layout TEXT,
    received BIGINT NOT NULL DEFAULT 0,
    registered BIGINT NOT NULL DEFAULT 0,
    duplicates BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    sub_batches BIGINT NOT NULL DEFAULT 0,
    error_code TEXT,
    error TEXT,
    trace_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
, format_name TEXT, format TEXT, data_key TEXT, review BIGINT NOT NULL DEFAULT 0, updated BIGINT NOT NULL DEFAULT 0, withdrawn BIGINT NOT NULL DEFAULT 0, dry_run INTEGER NOT NULL DEFAULT 0, full_portfolio INTEGER NOT NULL DEFAULT 0, stalled_step TEXT, stalled_from TEXT, rows_reserved BIGINT, files_purged_at TEXT);

CREATE TABLE blacklist (
    document TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    operator_id TEXT NOT NULL REFERENCES operators (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE blacklist_log (
    id INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT,
    operator_id TEXT NOT NULL,
    at TEXT NOT NULL
);

CREATE TABLE blacklist_version (
    id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE TABLE client_formats (
    client_id TEXT NOT NULL REFERENCES clients (id),
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    is_default BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (client_id, name)
);

CREATE TABLE client_usage (
    client_id TEXT NOT NULL REFERENCES clients (id),
    day TEXT NOT NULL,
    rows_received BIGINT NOT NULL,
    PRIMARY KEY (client_id, day)
);

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    num BIGINT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    api_key_hash TEXT,
    api_key_hint TEXT,
    sub_batch_size BIGINT NOT NULL,
    trace_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    key_revoked_at TEXT
, max_amount_cents BIGINT, min_amount_cents BIGINT, withdraw_missing INTEGER NOT NULL DEFAULT 0, deactivated_at TEXT, requests_per_second BIGINT, rows_per_day BIGINT);

CREATE TABLE collection_settings (
    client_id TEXT PRIMARY KEY REFERENCES clients (id),
    settings TEXT NOT NULL,
    next_our_number BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE debt_events (
    id INTEGER PRIMARY KEY,
    client_num BIGINT NOT NULL,
    external_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    details TEXT NOT NULL
);

CREATE TABLE debt_payments (
    id INTEGER PRIMARY KEY,
    client_num BIGINT NOT NULL,
    external_id TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    paid_on TEXT NOT NULL,
    method TEXT NOT NULL,
    trace_key TEXT NOT NULL,
    ledger_entry_id BIGINT NOT NULL,
    created_at TEXT NOT NULL
, reversed_at TEXT, reversal_entry_id BIGINT);

CREATE TABLE debt_reviews (
    client_num BIGINT NOT NULL,
    external_id TEXT NOT NULL,
    score BIGINT NOT NULL,
    reasons TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (client_num, external_id)
);

CREATE TABLE debts (
    client_num BIGINT NOT NULL,
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    due_date TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    description TEXT,
    status TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    line BIGINT NOT NULL,
    created_at TEXT NOT NULL, paid_cents BIGINT NOT NULL DEFAULT 0, doc_key BIGINT,
    PRIMARY KEY (client_num, external_id)
);

CREATE TABLE email_recipients (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id),
    address TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_expires_at TEXT,
    last_error TEXT,
    trace_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE lake_runs (
    id TEXT PRIMARY KEY,
    month TEXT NOT NULL,
    reference_date TEXT NOT NULL,
    status TEXT NOT NULL,
    steps TEXT NOT NULL,
    error TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT
, inputs TEXT NOT NULL DEFAULT '{}');

CREATE TABLE ledger_accounts (
    id INTEGER PRIMARY KEY,
    client_num BIGINT NOT NULL,
    branch TEXT NOT NULL,
    account TEXT NOT NULL,
    balance_cents BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE ledger_balances (
    account_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    debits_cents BIGINT NOT NULL,
    credits_cents BIGINT NOT NULL,
    running_debits_cents BIGINT NOT NULL,
    running_credits_cents BIGINT NOT NULL,
    PRIMARY KEY (account_id, day)
);

CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY,
    client_num BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    side TEXT NOT NULL,
    event_code TEXT NOT NULL,
    description TEXT NOT NULL,
    trace_key TEXT NOT NULL,
    details TEXT,
    reference_date TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    balance_after_cents BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE ledger_events (
    code TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    active BIGINT NOT NULL,
    allows_debit BIGINT NOT NULL,
    allows_credit BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE ledger_reconciliations (
    id INTEGER PRIMARY KEY,
    ran_at TEXT NOT NULL,
    accounts BIGINT NOT NULL,
    account_days BIGINT NOT NULL,
    differences BIGINT NOT NULL,
    first_differences TEXT NOT NULL
);

CREATE TABLE ledger_requests (
    id TEXT PRIMARY KEY,
    client_num BIGINT NOT NULL,
    client_id TEXT NOT NULL,
    entries TEXT NOT NULL,
    state TEXT NOT NULL,
    result TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);

CREATE TABLE notification_attempts (
    id INTEGER PRIMARY KEY,
    notification_id BIGINT NOT NULL,
    at TEXT NOT NULL,
    status_code BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    event TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT
, channel TEXT NOT NULL DEFAULT 'webhook', address TEXT);

CREATE TABLE operator_sessions (
    token_hash TEXT PRIMARY KEY,
    operator_id TEXT NOT NULL REFERENCES operators (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
, key_id TEXT);

CREATE TABLE operators (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    api_key_hash TEXT UNIQUE,
    api_key_hint TEXT,
    created_at TEXT NOT NULL
, role TEXT NOT NULL DEFAULT 'admin', deactivated_at TEXT);

CREATE TABLE purge_runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    dry_run INTEGER NOT NULL,
    counts TEXT,
    error TEXT
);

CREATE TABLE rejects (
    id INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL REFERENCES batches (id),
    line BIGINT NOT NULL,
    field TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    raw TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE risk_decisions (
    client_id TEXT NOT NULL,
    trace_key TEXT NOT NULL,
    document TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    due_date TEXT,
    metadata TEXT,
    outcome TEXT NOT NULL,
    score BIGINT NOT NULL,
    reasons TEXT NOT NULL,
    external TEXT NOT NULL,
    used_fallback BIGINT NOT NULL,
    elapsed_ms BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (client_id, trace_key)
);

CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL);

CREATE TABLE sub_batches (
    batch_id TEXT NOT NULL REFERENCES batches (id),
    seq BIGINT NOT NULL,
    byte_start BIGINT NOT NULL,
    byte_end BIGINT NOT NULL,
    first_line BIGINT NOT NULL,
    records BIGINT NOT NULL,
    status TEXT NOT NULL,
    registered BIGINT NOT NULL DEFAULT 0,
    duplicates BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL, review BIGINT NOT NULL DEFAULT 0, updated BIGINT NOT NULL DEFAULT 0, withdrawn BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (batch_id, seq)
);

CREATE TABLE submission_lines (
    submission_id TEXT NOT NULL REFERENCES submissions (id),
    seq BIGINT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (submission_id, seq)
);

CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id),
    status TEXT NOT NULL,
    lines BIGINT NOT NULL DEFAULT 0,
    batch_id TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
, key_id TEXT);

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE INDEX api_keys_owner ON api_keys (owner, owner_id);

CREATE INDEX audit_log_at ON audit_log (at);

CREATE INDEX bankslips_email_due ON bankslips (email_next_at) WHERE email_state = 'pending';

CREATE UNIQUE INDEX bankslips_open ON bankslips (client_num, external_id) WHERE status = 'open';

CREATE INDEX batches_client_created ON batches (client_id, created_at);

CREATE INDEX batches_stalled ON batches (status) WHERE status = 'stalled';

CREATE INDEX blacklist_log_document ON blacklist_log (document, id);

CREATE UNIQUE INDEX clients_api_key_hash ON clients (api_key_hash);

CREATE INDEX debt_events_debt ON debt_events (client_num, external_id, id);

CREATE INDEX debt_payments_debt ON debt_payments (client_num, external_id, id);

CREATE UNIQUE INDEX debt_payments_trace ON debt_payments (client_num, trace_key);

CREATE INDEX debts_doc_key ON debts (doc_key);

CREATE INDEX debts_review ON debts (client_num, external_id) WHERE status = 'review';

CREATE INDEX jobs_leases ON jobs (state, lease_expires_at);

CREATE INDEX jobs_ready ON jobs (state, run_at);

CREATE UNIQUE INDEX jobs_unique_step ON jobs (kind, batch_id, seq);

CREATE INDEX lake_runs_month ON lake_runs (month);

CREATE INDEX lake_runs_started ON lake_runs (started_at);

CREATE UNIQUE INDEX ledger_accounts_key ON ledger_accounts (client_num, branch, account);

CREATE INDEX ledger_entries_statement ON ledger_entries (account_id, reference_date, id);

CREATE UNIQUE INDEX ledger_entries_trace ON ledger_entries (client_num, trace_key);

CREATE INDEX ledger_reconciliations_ran ON ledger_reconciliations (ran_at);

CREATE INDEX notification_attempts_of ON notification_attempts (notification_id, id);

CREATE INDEX notifications_batch ON notifications (client_id, batch_id);

CREATE INDEX notifications_due ON notifications (state, next_at);

CREATE INDEX rejects_batch_line ON rejects (batch_id, line, id);

CREATE INDEX risk_decisions_client_document ON risk_decisions (client_id, document, created_at);

CREATE INDEX submissions_open ON submissions (status, expires_at);
