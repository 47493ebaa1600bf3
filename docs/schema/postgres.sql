CREATE TABLE alert_targets (
    id text NOT NULL,
    channel text NOT NULL,
    url text,
    secret text,
    address text,
    events text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT alert_targets_pkey PRIMARY KEY (id)
);

CREATE TABLE api_keys (
    id text NOT NULL,
    owner text NOT NULL,
    owner_id text NOT NULL,
    name text NOT NULL,
    key_hash text NOT NULL,
    hint text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_owner ON api_keys USING btree (owner, owner_id);

CREATE TABLE audit_log (
    id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    operator_id text,
    operator_name text NOT NULL,
    channel text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    before_value text,
    after_value text,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id)
);
CREATE INDEX audit_log_at ON audit_log USING btree (at);

CREATE TABLE bankslips (
    client_num bigint NOT NULL,
    external_id text NOT NULL,
    our_number bigint NOT NULL,
    amount_cents bigint NOT NULL,
    due_date date NOT NULL,
    barcode text NOT NULL,
    digitable_line text NOT NULL,
    pix_payload text NOT NULL,
    status text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    email_to text,
    email_state text,
    email_attempts bigint DEFAULT 0 NOT NULL,
    email_next_at timestamp with time zone,
    email_error text,
    emailed_at timestamp with time zone,
    CONSTRAINT bankslips_pkey PRIMARY KEY (client_num, our_number)
);
CREATE INDEX bankslips_email_due ON bankslips USING btree (email_next_at) WHERE (email_state = 'pending'::text);
CREATE UNIQUE INDEX bankslips_open ON bankslips USING btree (client_num, external_id) WHERE (status = 'open'::text);

CREATE TABLE batch_missing (
    batch_id text NOT NULL,
    external_id text NOT NULL,
    status_before text NOT NULL,
    withdrawn integer NOT NULL,
    CONSTRAINT batch_missing_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES batches(id),
    CONSTRAINT batch_missing_pkey PRIMARY KEY (batch_id, external_id)
);

CREATE TABLE batch_previews (
    batch_id text NOT NULL,
    report text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT batch_previews_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES batches(id),
    CONSTRAINT batch_previews_pkey PRIMARY KEY (batch_id)
);

CREATE TABLE batches (
    id text NOT NULL,
    client_id text NOT NULL,
    status text NOT NULL,
    source text NOT NULL,
    file_name text,
    blob_key text NOT NULL,
    byte_size bigint NOT NULL,
    received_on date NOT NULL,
    sub_batch_size bigint NOT NULL,
    encoding text,
    delimiter text,
    layout text,
    received bigint DEFAULT 0 NOT NULL,
    registered bigint DEFAULT 0 NOT NULL,
    duplicates bigint DEFAULT 0 NOT NULL,
    rejected bigint DEFAULT 0 NOT NULL,
    sub_batches bigint DEFAULT 0 NOT NULL,
    error_code text,
    error text,
    trace_id text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    format_name text,
    format text,
    data_key text,
    review bigint DEFAULT 0 NOT NULL,
    updated bigint DEFAULT 0 NOT NULL,
    withdrawn bigint DEFAULT 0 NOT NULL,
    dry_run integer DEFAULT 0 NOT NULL,
    full_portfolio integer DEFAULT 0 NOT NULL,
    stalled_step text,
    stalled_from text,
    rows_reserved bigint,
    files_purged_at timestamp with time zone,
    CONSTRAINT batches_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients(id),
    CONSTRAINT batches_pkey PRIMARY KEY (id)
);
CREATE INDEX batches_client_created ON batches USING btree (client_id, created_at);
CREATE INDEX batches_stalled ON batches USING btree (status) WHERE (status = 'stalled'::text);

CREATE TABLE blacklist (
    document text NOT NULL,
    reason text NOT NULL,
    operator_id text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT blacklist_operator_id_fkey FOREIGN KEY (operator_id) REFERENCES operators(id),
    CONSTRAINT blacklist_pkey PRIMARY KEY (document)
);

CREATE TABLE blacklist_log (
    id bigint NOT NULL,
    document text NOT NULL,
    action text NOT NULL,
    reason text,
    operator_id text NOT NULL,
    at timestamp with time zone NOT NULL,
    CONSTRAINT blacklist_log_pkey PRIMARY KEY (id)
);
CREATE INDEX blacklist_log_document ON blacklist_log USING btree (document, id);

CREATE TABLE blacklist_version (
    id bigint NOT NULL,
    version bigint NOT NULL,
    CONSTRAINT blacklist_version_pkey PRIMARY KEY (id)
);

CREATE TABLE client_formats (
    client_id text NOT NULL,
    name text NOT NULL,
    spec text NOT NULL,
    is_default bigint DEFAULT 0 NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT client_formats_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients(id),
    CONSTRAINT client_formats_pkey PRIMARY KEY (client_id, name)
);

CREATE TABLE client_usage (
    client_id text NOT NULL,
    day date NOT NULL,
    rows_received bigint NOT NULL,
    CONSTRAINT client_usage_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients(id),
    CONSTRAINT client_usage_pkey PRIMARY KEY (client_id, day)
);

CREATE TABLE clients (
    id text NOT NULL,
    num bigint NOT NULL,
    name text NOT NULL,
    document text NOT NULL,
    api_key_hash text,
    api_key_hint text,
    sub_batch_size bigint NOT NULL,
    trace_id text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    key_revoked_at timestamp with time zone,
    max_amount_cents bigint,
    min_amount_cents bigint,
    withdraw_missing integer DEFAULT 0 NOT NULL,
    deactivated_at timestamp with time zone,
    requests_per_second bigint,
    rows_per_day bigint,
    CONSTRAINT clients_pkey PRIMARY KEY (id),
    CONSTRAINT clients_num_key UNIQUE (num)
);
CREATE UNIQUE INDEX clients_api_key_hash ON clients USING btree (api_key_hash);

CREATE TABLE collection_settings (
    client_id text NOT NULL,
    settings text NOT NULL,
    next_our_number bigint NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT collection_settings_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients(id),
    CONSTRAINT collection_settings_pkey PRIMARY KEY (client_id)
);

CREATE TABLE debt_events (
    id bigint NOT NULL,
    client_num bigint NOT NULL,
    external_id text NOT NULL,
    kind text NOT NULL,
    at timestamp with time zone NOT NULL,
    actor text NOT NULL,
    details text NOT NULL,
    CONSTRAINT debt_events_pkey PRIMARY KEY (id)
);
CREATE INDEX debt_events_debt ON debt_events USING btree (client_num, external_id, id);

CREATE TABLE debt_payments (
    id bigint NOT NULL,
    client_num bigint NOT NULL,
    external_id text NOT NULL,
    amount_cents bigint NOT NULL,
    paid_on date NOT NULL,
    method text NOT NULL,
    trace_key text NOT NULL,
    ledger_entry_id bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    reversed_at timestamp with time zone,
    reversal_entry_id bigint,
    CONSTRAINT debt_payments_pkey PRIMARY KEY (id)
);
CREATE INDEX debt_payments_debt ON debt_payments USING btree (client_num, external_id, id);
CREATE UNIQUE INDEX debt_payments_trace ON debt_payments USING btree (client_num, trace_key);

CREATE TABLE debt_reviews (
    client_num bigint NOT NULL,
    external_id text NOT NULL,
    score bigint NOT NULL,
    reasons text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT debt_reviews_pkey PRIMARY KEY (client_num, external_id)
);

CREATE TABLE debts (
    client_num bigint NOT NULL,
    external_id text NOT NULL,
    name text NOT NULL,
    document text NOT NULL,
    amount_cents bigint NOT NULL,
    due_date date NOT NULL,
    email text,
    phone text,
    description text,
    status text NOT NULL,
    batch_id text NOT NULL,
    line bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    paid_cents bigint DEFAULT 0 NOT NULL,
    doc_key bigint,
    CONSTRAINT debts_pkey PRIMARY KEY (client_num, external_id)
);
CREATE INDEX debts_doc_key ON debts USING btree (doc_key);
CREATE INDEX debts_review ON debts USING btree (client_num, external_id) WHERE (status = 'review'::text);

CREATE TABLE email_recipients (
    id text NOT NULL,
    client_id text NOT NULL,
    address text NOT NULL,
    events text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT email_recipients_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients(id),
    CONSTRAINT email_recipients_pkey PRIMARY KEY (id)
);

CREATE TABLE jobs (
    id bigint NOT NULL,
    kind text NOT NULL,
    batch_id text NOT NULL,
    seq bigint NOT NULL,
    state text NOT NULL,
    attempts bigint DEFAULT 0 NOT NULL,
    max_attempts bigint NOT NULL,
    run_at timestamp with time zone NOT NULL,
    lease_owner text,
    lease_expires_at timestamp with time zone,
    last_error text,
    trace_id text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT jobs_pkey PRIMARY KEY (id)
);
CREATE INDEX jobs_leases ON jobs USING btree (state, lease_expires_at);
CREATE INDEX jobs_ready ON jobs USING btree (state, run_at);
CREATE UNIQUE INDEX jobs_unique_step ON jobs USING btree (kind, batch_id, seq);

CREATE TABLE lake_runs (
    id text NOT NULL,
    month text NOT NULL,
    reference_date date NOT NULL,
    status text NOT NULL,
    steps text NOT NULL,
    error text,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    inputs text DEFAULT '{}'::text NOT NULL,
    CONSTRAINT lake_runs_pkey PRIMARY KEY (id)
);
CREATE INDEX lake_runs_month ON lake_runs USING btree (month);
CREATE INDEX lake_runs_started ON lake_runs USING btree (started_at);

CREATE TABLE ledger_accounts (
    id bigint NOT NULL,
    client_num bigint NOT NULL,
    branch text NOT NULL,
    account text NOT NULL,
    balance_cents bigint NOT NULL,
    entries bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT ledger_accounts_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ledger_accounts_key ON ledger_accounts USING btree (client_num, branch, account);

CREATE TABLE ledger_balances (
    account_id bigint NOT NULL,
    day date NOT NULL,
    debits_cents bigint NOT NULL,
    credits_cents bigint NOT NULL,
    running_debits_cents bigint NOT NULL,
    running_credits_cents bigint NOT NULL,
    CONSTRAINT ledger_balances_pkey PRIMARY KEY (account_id, day)
);

CREATE TABLE ledger_entries (
    id bigint NOT NULL,
    client_num bigint NOT NULL,
    account_id bigint NOT NULL,
    amount_cents bigint NOT NULL,
    side text NOT NULL,
    event_code text NOT NULL,
    description text NOT NULL,
    trace_key text NOT NULL,
    details text,
    reference_date date NOT NULL,
    fingerprint text NOT NULL,
    balance_after_cents bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT ledger_entries_pkey PRIMARY KEY (id)
);
CREATE INDEX ledger_entries_statement ON ledger_entries USING btree (account_id, reference_date, id);
CREATE UNIQUE INDEX ledger_entries_trace ON ledger_entries USING btree (client_num, trace_key);

CREATE TABLE ledger_events (
    code text NOT NULL,
    description text NOT NULL,
    active bigint NOT NULL,
    allows_debit bigint NOT NULL,
    allows_credit bigint NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT ledger_events_pkey PRIMARY KEY (code)
);

CREATE TABLE ledger_reconciliations (
    id bigint NOT NULL,
    ran_at timestamp with time zone NOT NULL,
    accounts bigint NOT NULL,
    account_days bigint NOT NULL,
    differences bigint NOT NULL,
    first_differences text NOT NULL,
    CONSTRAINT ledger_reconciliations_pkey PRIMARY KEY (id)
);
CREATE INDEX ledger_reconciliations_ran ON ledger_reconciliations USING btree (ran_at);

CREATE TABLE ledger_requests (
    id text NOT NULL,
    client_num bigint NOT NULL,
    client_id text NOT NULL,
    entries text NOT NULL,
    state text NOT NULL,
    result text,
    created_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    CONSTRAINT ledger_requests_pkey PRIMARY KEY (id)
);

CREATE TABLE notification_attempts (
    id bigint NOT NULL,
    notification_id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    status_code bigint,
    error text,
    duration_ms bigint NOT NULL,
    CONSTRAINT notification_attempts_pkey PRIMARY KEY (id)
);
CREATE INDEX notification_attempts_of ON notification_attempts USING btree (notification_id, id);

CREATE TABLE notifications (
    id bigint NOT NULL,
    client_id text NOT NULL,
    batch_id text NOT NULL,
    event text NOT NULL,
    endpoint_id text NOT NULL,
    payload text NOT NULL,
    state text NOT NULL,
    attempts bigint NOT NULL,
    next_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    delivered_at timestamp with time zone,
    channel text DEFAULT 'webhook'::text NOT NULL,
    address text,
    CONSTRAINT notifications_pkey PRIMARY KEY (id)
);
CREATE INDEX notifications_batch ON notifications USING btree (client_id, batch_id);
CREATE INDEX notifications_due ON notifications USING btree (state, next_at);

CREATE TABLE operator_sessions (
    token_hash text NOT NULL,
    operator_id text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    key_id text,
    CONSTRAINT operator_sessions_operator_id_fkey FOREIGN KEY (operator_id) REFERENCES operators(id),
    CONSTRAINT operator_sessions_pkey PRIMARY KEY (token_hash)
);

CREATE TABLE operators (
    id text NOT NULL,
    name text NOT NULL,
    api_key_hash text,
    api_key_hint text,
    created_at timestamp with time zone NOT NULL,
    role text DEFAULT 'admin'::text NOT NULL,
    deactivated_at timestamp with time zone,
    CONSTRAINT operators_pkey PRIMARY KEY (id),
    CONSTRAINT operators_api_key_hash_key UNIQUE (api_key_hash)
);

CREATE TABLE purge_runs (
    id bigint NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    dry_run integer NOT NULL,
    counts text,
    error text,
    CONSTRAINT purge_runs_pkey PRIMARY KEY (id)
);

CREATE TABLE rejects (
    id bigint NOT NULL,
    batch_id text NOT NULL,
    line bigint NOT NULL,
    field text NOT NULL,
    code text NOT NULL,
    message text NOT NULL,
    raw text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT rejects_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES batches(id),
    CONSTRAINT rejects_pkey PRIMARY KEY (id)
);
CREATE INDEX rejects_batch_line ON rejects USING btree (batch_id, line, id);

CREATE TABLE risk_decisions (
    client_id text NOT NULL,
    trace_key text NOT NULL,
    document text NOT NULL,
    amount_cents bigint NOT NULL,
    due_date date,
    metadata text,
    outcome text NOT NULL,
    score bigint NOT NULL,
    reasons text NOT NULL,
    external text NOT NULL,
    used_fallback bigint NOT NULL,
    elapsed_ms bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT risk_decisions_pkey PRIMARY KEY (client_id, trace_key)
);
CREATE INDEX risk_decisions_client_document ON risk_decisions USING btree (client_id, document, created_at);

CREATE TABLE schema_migrations (
    name text NOT NULL,
    applied_at text NOT NULL,
    CONSTRAINT schema_migrations_pkey PRIMARY KEY (name)
);

CREATE TABLE sub_batches (
    batch_id text NOT NULL,
    seq bigint NOT NULL,
    byte_start bigint NOT NULL,
    byte_end bigint NOT NULL,
    first_line bigint NOT NULL,
    records bigint NOT NULL,
    status text NOT NULL,
    registered bigint DEFAULT 0 NOT NULL,
    duplicates bigint DEFAULT 0 NOT NULL,
    rejected bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    review bigint DEFAULT 0 NOT NULL,
    updated bigint DEFAULT 0 NOT NULL,
    withdrawn bigint DEFAULT 0 NOT NULL,
    CONSTRAINT sub_batches_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES batches(id),
    CONSTRAINT sub_batches_pkey PRIMARY KEY (batch_id, seq)
);

CREATE TABLE submission_lines (
    submission_id text NOT NULL,
    seq bigint NOT NULL,
    line text NOT NULL,
    CONSTRAINT submission_lines_submission_id_fkey FOREIGN KEY (submission_id) REFERENCES submissions(id),
    CONSTRAINT submission_lines_pkey PRIMARY KEY (submission_id, seq)
);

CREATE TABLE submissions (
    id text NOT NULL,
    client_id text NOT NULL,
    status text NOT NULL,
    lines bigint DEFAULT 0 NOT NULL,
    batch_id text,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT submissions_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients(id),
    CONSTRAINT submissions_pkey PRIMARY KEY (id)
);
CREATE INDEX submissions_open ON submissions USING btree (status, expires_at);

CREATE TABLE web_sessions (
    token_hash text NOT NULL,
    client_id text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    key_id text,
    CONSTRAINT web_sessions_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients(id),
    CONSTRAINT web_sessions_pkey PRIMARY KEY (token_hash)
);

CREATE TABLE webhook_endpoints (
    id text NOT NULL,
    client_id text NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,
    events text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT webhook_endpoints_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients(id),
    CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id)
);
