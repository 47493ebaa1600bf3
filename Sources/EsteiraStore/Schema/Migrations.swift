import EsteiraCore
import Foundation

/// The schema, as an ordered list of named migrations. A migration that has shipped is never
/// edited: a change is a new migration. Each is applied once, in its own transaction, and recorded
/// in `schema_migrations`.
///
/// The SQL is written once. Seven words differ between the databases and are filled in per dialect:
/// `{ID}` (an auto-increment key), `{TS}` (a moment), `{DAY}` (a calendar day), `{TEXT}`,
/// `{KEY}`, text that is an identifier and compares byte by byte (SQLite's default; on PostgreSQL
/// `COLLATE "C"`, which also makes its index inserts cheaper than the database's locale would),
/// `{UPDATED_OFTEN}` after a table whose rows are updated in place all the time (on
/// PostgreSQL, pages kept 30% free so those updates touch no index), and `{STRPOS}`, the function
/// that finds a character in a string (SQLite's `instr`, PostgreSQL's `strpos`).
///
/// Debts refer to their client by `clients.num`, a small integer, rather than by the client's
/// UUID: the registry's indexes hold it, and an integer compares and packs cheaper than a UUID's
/// text, which made SQLite's inserts markedly faster.
///
/// The registry is the hottest table, so its rows carry nothing derivable: no trace id (the
/// batch's), no document kind (the document's length says it), and no foreign key on `client_num`,
/// which SQLite would check with a lookup per row; only the register
/// stage writes debts, with the num of the batch's client.
public enum Migrations {
    public struct Migration: Sendable {
        public let name: String
        public let sql: String
        /// The one database it concerns, when it is a tuning of that one; on the other it is
        /// recorded as applied and does nothing.
        public var only: SQLDialect? = nil
    }

    public static let all: [Migration] = [
        Migration(name: "0001_foundation", sql: """
        CREATE TABLE clients (
            id TEXT PRIMARY KEY,
            num BIGINT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            document TEXT NOT NULL,
            api_key_hash TEXT,
            api_key_hint TEXT,
            sub_batch_size BIGINT NOT NULL,
            trace_id TEXT NOT NULL,
            created_at {TS} NOT NULL,
            key_revoked_at {TS}
        );
        CREATE UNIQUE INDEX clients_api_key_hash ON clients (api_key_hash);

        CREATE TABLE batches (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES clients (id),
            status TEXT NOT NULL,
            source TEXT NOT NULL,
            file_name TEXT,
            blob_key TEXT NOT NULL,
            byte_size BIGINT NOT NULL,
            received_on {DAY} NOT NULL,
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
            created_at {TS} NOT NULL,
            updated_at {TS} NOT NULL,
            finished_at {TS}
        );
        CREATE INDEX batches_client_created ON batches (client_id, created_at);

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
            updated_at {TS} NOT NULL,
            PRIMARY KEY (batch_id, seq)
        );

        CREATE TABLE debts (
            client_num BIGINT NOT NULL,
            external_id {KEY} NOT NULL,
            name TEXT NOT NULL,
            document {KEY} NOT NULL,
            amount_cents BIGINT NOT NULL,
            due_date {DAY} NOT NULL,
            email TEXT,
            phone TEXT,
            description TEXT,
            status TEXT NOT NULL,
            batch_id TEXT NOT NULL,
            line BIGINT NOT NULL,
            created_at {TS} NOT NULL,
            PRIMARY KEY (client_num, external_id)
        );
        CREATE INDEX debts_client_document ON debts (client_num, document);

        CREATE TABLE rejects (
            id {ID},
            batch_id TEXT NOT NULL REFERENCES batches (id),
            line BIGINT NOT NULL,
            field TEXT NOT NULL,
            code TEXT NOT NULL,
            message TEXT NOT NULL,
            raw TEXT NOT NULL,
            created_at {TS} NOT NULL
        );
        CREATE INDEX rejects_batch_line ON rejects (batch_id, line, id);

        CREATE TABLE jobs (
            id {ID},
            kind TEXT NOT NULL,
            batch_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            state TEXT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            max_attempts BIGINT NOT NULL,
            run_at {TS} NOT NULL,
            lease_owner TEXT,
            lease_expires_at {TS},
            last_error TEXT,
            trace_id TEXT NOT NULL,
            created_at {TS} NOT NULL,
            updated_at {TS} NOT NULL
        );
        CREATE UNIQUE INDEX jobs_unique_step ON jobs (kind, batch_id, seq);
        CREATE INDEX jobs_ready ON jobs (state, run_at);
        CREATE INDEX jobs_leases ON jobs (state, lease_expires_at);
        """),
        // Debts sent as JSON lines before a submit: each line is kept as a standard CSV record
        // until the submit writes them, in order, as one file.
        Migration(name: "0002_submissions", sql: """
        CREATE TABLE submissions (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES clients (id),
            status TEXT NOT NULL,
            lines BIGINT NOT NULL DEFAULT 0,
            batch_id TEXT,
            created_at {TS} NOT NULL,
            expires_at {TS} NOT NULL,
            updated_at {TS} NOT NULL
        );
        CREATE INDEX submissions_open ON submissions (status, expires_at);

        CREATE TABLE submission_lines (
            submission_id TEXT NOT NULL REFERENCES submissions (id),
            seq BIGINT NOT NULL,
            line TEXT NOT NULL,
            PRIMARY KEY (submission_id, seq)
        );
        """),
        // A client's saved formats (column mappings), the format a batch was received with (a
        // copy: editing a preset later does not change a batch already running), the CSV a
        // spreadsheet was turned into, and the web pages' sign-in sessions.
        Migration(name: "0003_formats_and_web", sql: """
        CREATE TABLE client_formats (
            client_id TEXT NOT NULL REFERENCES clients (id),
            name TEXT NOT NULL,
            spec TEXT NOT NULL,
            is_default BIGINT NOT NULL DEFAULT 0,
            created_at {TS} NOT NULL,
            updated_at {TS} NOT NULL,
            PRIMARY KEY (client_id, name)
        );
        ALTER TABLE batches ADD COLUMN format_name TEXT;
        ALTER TABLE batches ADD COLUMN format TEXT;
        ALTER TABLE batches ADD COLUMN data_key TEXT;

        CREATE TABLE web_sessions (
            token_hash TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES clients (id),
            created_at {TS} NOT NULL,
            expires_at {TS} NOT NULL
        );
        """),
        // The agency's operators (who keep the blacklist), the blacklist, and its history: every
        // addition, change and removal, with who did it and why.
        Migration(name: "0004_operators_and_blacklist", sql: """
        CREATE TABLE operators (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            api_key_hash TEXT UNIQUE,
            api_key_hint TEXT,
            created_at {TS} NOT NULL
        );
        CREATE TABLE blacklist (
            document {KEY} PRIMARY KEY,
            reason TEXT NOT NULL,
            operator_id TEXT NOT NULL REFERENCES operators (id),
            created_at {TS} NOT NULL,
            updated_at {TS} NOT NULL
        );
        CREATE TABLE blacklist_log (
            id {ID},
            document {KEY} NOT NULL,
            action TEXT NOT NULL,
            reason TEXT,
            operator_id TEXT NOT NULL,
            at {TS} NOT NULL
        );
        CREATE INDEX blacklist_log_document ON blacklist_log (document, id);
        """),
        // Every risk decision, with its inputs, the rules that fired and the external answer.
        Migration(name: "0005_risk_decisions", sql: """
        CREATE TABLE risk_decisions (
            client_id TEXT NOT NULL,
            trace_key TEXT NOT NULL,
            document {KEY} NOT NULL,
            amount_cents BIGINT NOT NULL,
            due_date {DAY},
            metadata TEXT,
            outcome TEXT NOT NULL,
            score BIGINT NOT NULL,
            reasons TEXT NOT NULL,
            external TEXT NOT NULL,
            used_fallback BIGINT NOT NULL,
            elapsed_ms BIGINT NOT NULL,
            created_at {TS} NOT NULL,
            PRIMARY KEY (client_id, trace_key)
        );
        CREATE INDEX risk_decisions_document ON risk_decisions (document, created_at);
        """),
        // The risk rules in the register stage. A debt flagged for review keeps `status = 'review'`
        // in the registry, which stays lean for the approved majority: the flagged ones' scores and
        // reasons live beside it (`debt_reviews`), and only they are in the partial index that
        // `GET /v1/debts?review=true` reads. Counts of flagged debts per sub-batch and batch; amount
        // limits per client; and a version of the blacklist, raised by every change in the same
        // transaction, which tells a process that its copy in memory is stale.
        Migration(name: "0006_risk_in_register", sql: """
        CREATE TABLE debt_reviews (
            client_num BIGINT NOT NULL,
            external_id {KEY} NOT NULL,
            score BIGINT NOT NULL,
            reasons TEXT NOT NULL,
            created_at {TS} NOT NULL,
            PRIMARY KEY (client_num, external_id)
        );
        CREATE INDEX debts_review ON debts (client_num, external_id) WHERE status = 'review';
        ALTER TABLE sub_batches ADD COLUMN review BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE batches ADD COLUMN review BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE clients ADD COLUMN max_amount_cents BIGINT;
        ALTER TABLE clients ADD COLUMN min_amount_cents BIGINT;
        CREATE TABLE blacklist_version (
            id BIGINT PRIMARY KEY,
            version BIGINT NOT NULL
        );
        INSERT INTO blacklist_version (id, version) VALUES (1, 0);
        """),
        // Bankslips (seed 001): each client's collection settings, with the next our-number of its
        // sequence, and the slips issued. A debt has at most one open slip: the partial unique
        // index says so even if a bug tried twice.
        Migration(name: "0007_bankslips", sql: """
        CREATE TABLE collection_settings (
            client_id TEXT PRIMARY KEY REFERENCES clients (id),
            settings TEXT NOT NULL,
            next_our_number BIGINT NOT NULL,
            updated_at {TS} NOT NULL
        );
        CREATE TABLE bankslips (
            client_num BIGINT NOT NULL,
            external_id {KEY} NOT NULL,
            our_number BIGINT NOT NULL,
            amount_cents BIGINT NOT NULL,
            due_date {DAY} NOT NULL,
            barcode TEXT NOT NULL,
            digitable_line TEXT NOT NULL,
            pix_payload TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at {TS} NOT NULL,
            PRIMARY KEY (client_num, our_number)
        );
        CREATE UNIQUE INDEX bankslips_open ON bankslips (client_num, external_id) WHERE status = 'open';
        """),
        // Notifications to clients: webhook endpoints, and the outbox — a notification row written
        // in the transaction of the status change that causes it — with every delivery attempt.
        Migration(name: "0008_notifications", sql: """
        CREATE TABLE webhook_endpoints (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES clients (id),
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            events TEXT NOT NULL,
            created_at {TS} NOT NULL
        );
        CREATE TABLE notifications (
            id {ID},
            client_id TEXT NOT NULL,
            batch_id TEXT NOT NULL,
            event TEXT NOT NULL,
            endpoint_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts BIGINT NOT NULL,
            next_at {TS} NOT NULL,
            created_at {TS} NOT NULL,
            delivered_at {TS}
        );
        CREATE INDEX notifications_due ON notifications (state, next_at);
        CREATE INDEX notifications_batch ON notifications (client_id, batch_id);
        CREATE TABLE notification_attempts (
            id {ID},
            notification_id BIGINT NOT NULL,
            at {TS} NOT NULL,
            status_code BIGINT,
            error TEXT,
            duration_ms BIGINT NOT NULL
        );
        CREATE INDEX notification_attempts_of ON notification_attempts (notification_id, id);
        """),
        // E-mail: the client's addresses per event, the outbox's channel (a notification goes to a
        // webhook endpoint or to an address), and the debtor's slip e-mail, whose outbox is the
        // slip's own row (written with it, in the register transaction; no second row per debt).
        Migration(name: "0009_email", sql: """
        CREATE TABLE email_recipients (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES clients (id),
            address TEXT NOT NULL,
            events TEXT NOT NULL,
            created_at {TS} NOT NULL
        );
        ALTER TABLE notifications ADD COLUMN channel TEXT NOT NULL DEFAULT 'webhook';
        ALTER TABLE notifications ADD COLUMN address TEXT;
        ALTER TABLE bankslips ADD COLUMN email_to TEXT;
        ALTER TABLE bankslips ADD COLUMN email_state TEXT;
        ALTER TABLE bankslips ADD COLUMN email_attempts BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE bankslips ADD COLUMN email_next_at {TS};
        ALTER TABLE bankslips ADD COLUMN email_error TEXT;
        ALTER TABLE bankslips ADD COLUMN emailed_at {TS};
        CREATE INDEX bankslips_email_due ON bankslips (email_next_at) WHERE email_state = 'pending';
        """),
        // The cash ledger: the catalog of events, accounts (their balance kept on the row, which
        // is also the lock that orders an account's entries), immutable entries, and per account
        // per day the totals and the running totals up to that day.
        Migration(name: "0010_ledger", sql: """
        CREATE TABLE ledger_events (
            code TEXT PRIMARY KEY,
            description TEXT NOT NULL,
            active BIGINT NOT NULL,
            allows_debit BIGINT NOT NULL,
            allows_credit BIGINT NOT NULL,
            updated_at {TS} NOT NULL
        );
        CREATE TABLE ledger_accounts (
            id {ID},
            client_num BIGINT NOT NULL,
            branch {KEY} NOT NULL,
            account {KEY} NOT NULL,
            balance_cents BIGINT NOT NULL,
            entries BIGINT NOT NULL,
            created_at {TS} NOT NULL
        ){UPDATED_OFTEN};
        CREATE UNIQUE INDEX ledger_accounts_key ON ledger_accounts (client_num, branch, account);
        CREATE TABLE ledger_entries (
            id {ID},
            client_num BIGINT NOT NULL,
            account_id BIGINT NOT NULL,
            amount_cents BIGINT NOT NULL,
            side TEXT NOT NULL,
            event_code TEXT NOT NULL,
            description TEXT NOT NULL,
            trace_key {KEY} NOT NULL,
            details TEXT,
            reference_date {DAY} NOT NULL,
            fingerprint TEXT NOT NULL,
            balance_after_cents BIGINT NOT NULL,
            created_at {TS} NOT NULL
        );
        CREATE UNIQUE INDEX ledger_entries_trace ON ledger_entries (client_num, trace_key);
        CREATE INDEX ledger_entries_statement ON ledger_entries (account_id, reference_date, id);
        CREATE TABLE ledger_balances (
            account_id BIGINT NOT NULL,
            day {DAY} NOT NULL,
            debits_cents BIGINT NOT NULL,
            credits_cents BIGINT NOT NULL,
            running_debits_cents BIGINT NOT NULL,
            running_credits_cents BIGINT NOT NULL,
            PRIMARY KEY (account_id, day)
        ){UPDATED_OFTEN};
        """),
        // Ledger requests posted with ?async=true: what was asked, and what became of it. Their
        // job is a `ledger` job of the queue (retries, dead letters) named by the request's id.
        Migration(name: "0011_ledger_requests", sql: """
        CREATE TABLE ledger_requests (
            id TEXT PRIMARY KEY,
            client_num BIGINT NOT NULL,
            client_id TEXT NOT NULL,
            entries TEXT NOT NULL,
            state TEXT NOT NULL,
            result TEXT,
            created_at {TS} NOT NULL,
            finished_at {TS}
        );
        """),
        // Payments on debts: each a row, the debt's paid total on its row, and the credit in the
        // client's ledger account, all in one transaction; the event the credits use.
        Migration(name: "0012_debt_payments", sql: """
        ALTER TABLE debts ADD COLUMN paid_cents BIGINT NOT NULL DEFAULT 0;
        CREATE TABLE debt_payments (
            id {ID},
            client_num BIGINT NOT NULL,
            external_id {KEY} NOT NULL,
            amount_cents BIGINT NOT NULL,
            paid_on {DAY} NOT NULL,
            method TEXT NOT NULL,
            trace_key {KEY} NOT NULL,
            ledger_entry_id BIGINT NOT NULL,
            created_at {TS} NOT NULL
        );
        CREATE UNIQUE INDEX debt_payments_trace ON debt_payments (client_num, trace_key);
        CREATE INDEX debt_payments_debt ON debt_payments (client_num, external_id, id);
        INSERT INTO ledger_events (code, description, active, allows_debit, allows_credit, updated_at)
        VALUES ('PAGAMENTO_DIVIDA', 'Pagamento de dívida recebido', 1, 0, 1, '2026-11-22T00:00:00.000000Z');
        """),
        // The lake's runs: what was taken, each step with its times and counts, how it ended.
        Migration(name: "0013_lake_runs", sql: """
        CREATE TABLE lake_runs (
            id TEXT PRIMARY KEY,
            month TEXT NOT NULL,
            reference_date {DAY} NOT NULL,
            status TEXT NOT NULL,
            steps TEXT NOT NULL,
            error TEXT,
            started_at {TS} NOT NULL,
            finished_at {TS}
        );
        CREATE INDEX lake_runs_started ON lake_runs (started_at);
        """),
        // A lake run's steps are jobs of their own (raw, curate each file, book): the run keeps
        // the raw keys its curate steps read.
        Migration(name: "0014_lake_run_inputs", sql: """
        ALTER TABLE lake_runs ADD COLUMN inputs TEXT NOT NULL DEFAULT '{}';
        CREATE INDEX lake_runs_month ON lake_runs (month);
        """),
        // The agency's own alerts (a lake file late, a lake run failed): where operators want
        // them, by webhook or e-mail. Their notifications go through the same outbox as the
        // clients', with an empty client_id.
        Migration(name: "0015_alert_targets", sql: """
        CREATE TABLE alert_targets (
            id TEXT PRIMARY KEY,
            channel TEXT NOT NULL,
            url TEXT,
            secret TEXT,
            address TEXT,
            events TEXT NOT NULL,
            created_at {TS} NOT NULL
        );
        """),
        // Each reconciliation of the ledger, by whichever process ran it (a serve on its schedule,
        // or `esteira ledger reconcile`): `/metrics` in every process reports the last one, not
        // only the process that ran it, and not nothing for a day after a restart.
        Migration(name: "0016_ledger_reconciliations", sql: """
        CREATE TABLE ledger_reconciliations (
            id {ID},
            ran_at {TS} NOT NULL,
            accounts BIGINT NOT NULL,
            account_days BIGINT NOT NULL,
            differences BIGINT NOT NULL,
            first_differences TEXT NOT NULL
        );
        CREATE INDEX ledger_reconciliations_ran ON ledger_reconciliations (ran_at);
        """),
        // On PostgreSQL a batch's debts take `created_at` from the column's default, the register
        // transaction's start, instead of a timestamp in every row of the `COPY`: reading that text
        // cost the server 0.6–1.5 CPU-seconds per 1,000,000 rows (docs/benchmarks.md). SQLite binds
        // the moment as a value, which costs nothing to read, and keeps writing it.
        Migration(name: "0017_debts_created_at_default", sql: """
        ALTER TABLE debts ALTER COLUMN created_at SET DEFAULT now();
        """, only: .postgres),
        // The registry's document index leads with the document instead of the client. Every
        // lookup is by both (a client's debts of one document), so either order serves it; but
        // with the client first, every comparison of an insert into the B-tree first compares a
        // client number that is the same for the whole batch, and `COPY` into the registry was
        // measurably slower. On an existing registry the new index is built while the migration
        // holds its lock.
        Migration(name: "0018_debts_document_first", sql: """
        DROP INDEX debts_client_document;
        CREATE INDEX debts_document_client ON debts (document, client_num);
        """),
        // The registry's document index holds the document as a number (`TaxID.indexKey`)
        // instead of its text: a PostgreSQL batch of 1,000,000 rows spent about 3 CPU-seconds of
        // its 9 inserting into the text index, and an 8-byte key compares and packs cheaper
        // (docs/benchmarks.md, "The document's index on a number"). The client is left out of the
        // index: a document has few debts across all clients, and the reader filters by client
        // and by the document's text among them. Existing debts get their key here, computed by
        // the same rule in SQL.
        Migration(name: "0019_debts_document_key", sql: """
        ALTER TABLE debts ADD COLUMN doc_key BIGINT;
        UPDATE debts SET doc_key = \(documentKeySQL);
        CREATE INDEX debts_doc_key ON debts (doc_key);
        DROP INDEX debts_document_client;
        """),
        // The velocity rule counts a document's decisions for one client (K006 is per client):
        // an index on (document, created_at) found the rows but read each one from the table to
        // check its client, and those reads grew with the table. This one answers the count
        // from the index alone.
        Migration(name: "0020_risk_decisions_client_document", sql: """
        CREATE INDEX risk_decisions_client_document ON risk_decisions (client_id, document, created_at);
        DROP INDEX risk_decisions_document;
        """),
        // A debt's history after its registration: each change (withdrawn, slip cancelled, paid,
        // and later corrected, reversed, review decided) is a row, never updated or deleted. The
        // registration itself and the slips issued are read from their own rows (docs/portfolio.md).
        Migration(name: "0021_debt_events", sql: """
        CREATE TABLE debt_events (
            id {ID},
            client_num BIGINT NOT NULL,
            external_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at {TS} NOT NULL,
            actor TEXT NOT NULL,
            details TEXT NOT NULL
        );
        CREATE INDEX debt_events_debt ON debt_events (client_num, external_id, id);
        """),
        // A payment can be reversed: the reversal's time and its debit in the ledger are kept on
        // the payment, and the ledger gets the event that debits the collection account.
        Migration(name: "0022_payment_reversals", sql: """
        ALTER TABLE debt_payments ADD COLUMN reversed_at {TS};
        ALTER TABLE debt_payments ADD COLUMN reversal_entry_id BIGINT;
        INSERT INTO ledger_events (code, description, active, allows_debit, allows_credit, updated_at)
        VALUES ('ESTORNO_PAGAMENTO', 'Estorno de pagamento de dívida', 1, 1, 0, '2026-12-06T00:00:00.000000Z');
        """),
        // Files carry corrections (A) and withdrawals (B) beside inclusions: their counts.
        Migration(name: "0023_operation_counts", sql: """
        ALTER TABLE sub_batches ADD COLUMN updated BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE sub_batches ADD COLUMN withdrawn BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE batches ADD COLUMN updated BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE batches ADD COLUMN withdrawn BIGINT NOT NULL DEFAULT 0;
        """),
        // A batch may be a preview first (dry run): what it would do, kept until it is confirmed.
        Migration(name: "0024_batch_previews", sql: """
        ALTER TABLE batches ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE batch_previews (
            batch_id TEXT PRIMARY KEY REFERENCES batches (id),
            report TEXT NOT NULL,
            created_at {TS} NOT NULL
        );
        """),
        // A file may be a client's whole open portfolio: its open debts the file leaves out are
        // listed as missing when it ends, and withdrawn if the client asks for that.
        Migration(name: "0025_full_portfolio", sql: """
        ALTER TABLE batches ADD COLUMN full_portfolio INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE clients ADD COLUMN withdraw_missing INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE batch_missing (
            batch_id TEXT NOT NULL REFERENCES batches (id),
            external_id TEXT NOT NULL,
            status_before TEXT NOT NULL,
            withdrawn INTEGER NOT NULL,
            PRIMARY KEY (batch_id, external_id)
        );
        """),
        // A debt's changes now go by e-mail too, to the addresses that name them. An address made
        // before named every client event by default, without a debt's e-mail to choose: it keeps
        // hearing of its batches only.
        Migration(name: "0026_debt_emails_opt_in", sql: """
        UPDATE email_recipients SET events = REPLACE(REPLACE(REPLACE(REPLACE(events,
            ',debt.corrected', ''), ',debt.withdrawn', ''), ',debt.paid', ''), ',debt.review_decided', '');
        """),
        // A batch whose step ran out of attempts is `stalled`, with the step and the status it
        // goes back to when revived; the endpoints and addresses that hear of a batch's failure
        // hear of its stall too.
        Migration(name: "0027_stalled_batches", sql: """
        ALTER TABLE batches ADD COLUMN stalled_step TEXT;
        ALTER TABLE batches ADD COLUMN stalled_from TEXT;
        UPDATE webhook_endpoints SET events = events || ',batch.stalled' WHERE ',' || events || ',' LIKE '%,batch.failed,%';
        UPDATE email_recipients SET events = events || ',batch.stalled' WHERE ',' || events || ',' LIKE '%,batch.failed,%';
        """),
        // Every scrape counts the stalled batches: an index of those alone, however many batches end.
        Migration(name: "0028_batches_stalled_index", sql: """
        CREATE INDEX batches_stalled ON batches (status) WHERE status = 'stalled';
        """),
        // The operators' console: each operator has a role (those made before roles existed
        // could do everything, and stay admins), a session of their own, apart from the clients'
        // (`operator_sessions`), and may be deactivated; a client may be deactivated too (its key
        // stops, its data stays). The audit holds every operator action, who by name, the target
        // and the values before and after; nothing in Esteira updates or deletes its rows.
        Migration(name: "0029_operators_console", sql: """
        ALTER TABLE operators ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
        ALTER TABLE operators ADD COLUMN deactivated_at {TS};
        ALTER TABLE clients ADD COLUMN deactivated_at {TS};
        CREATE TABLE operator_sessions (
            token_hash TEXT PRIMARY KEY,
            operator_id TEXT NOT NULL REFERENCES operators (id),
            created_at {TS} NOT NULL,
            expires_at {TS} NOT NULL
        );
        CREATE TABLE audit_log (
            id {ID},
            at {TS} NOT NULL,
            operator_id TEXT,
            operator_name TEXT NOT NULL,
            channel TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            before_value TEXT,
            after_value TEXT
        );
        CREATE INDEX audit_log_at ON audit_log (at);
        """),
        // Named keys, several per client and operator, with expiry and last use (KeyStore); the
        // keys of before move over as `principal`, and the old columns are no longer read.
        // Sessions now end with the key they were opened with, so those open are closed.
        Migration(name: "0030_named_keys", sql: """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            owner_id TEXT NOT NULL,
            name TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            hint TEXT NOT NULL,
            created_at {TS} NOT NULL,
            expires_at {TS},
            last_used_at {TS},
            revoked_at {TS}
        );
        CREATE INDEX api_keys_owner ON api_keys (owner, owner_id);
        INSERT INTO api_keys (id, owner, owner_id, name, key_hash, hint, created_at)
            SELECT 'k_' || substr(api_key_hash, 1, 16), 'client', id, 'principal', api_key_hash, COALESCE(api_key_hint, ''), created_at
            FROM clients WHERE api_key_hash IS NOT NULL;
        INSERT INTO api_keys (id, owner, owner_id, name, key_hash, hint, created_at)
            SELECT 'k_' || substr(api_key_hash, 1, 16), 'operator', id, 'principal', api_key_hash, COALESCE(api_key_hint, ''), created_at
            FROM operators WHERE api_key_hash IS NOT NULL;
        UPDATE clients SET api_key_hash = NULL, api_key_hint = NULL;
        UPDATE operators SET api_key_hash = NULL, api_key_hint = NULL;
        DELETE FROM web_sessions;
        ALTER TABLE web_sessions ADD COLUMN key_id TEXT;
        DELETE FROM operator_sessions;
        ALTER TABLE operator_sessions ADD COLUMN key_id TEXT;
        """),
        // Per-client limits (null: the agency's default, a setting), the rows each client sent
        // each day against its quota, and what an upload reserved of it before it was read.
        Migration(name: "0031_client_quotas", sql: """
        ALTER TABLE clients ADD COLUMN requests_per_second BIGINT;
        ALTER TABLE clients ADD COLUMN rows_per_day BIGINT;
        CREATE TABLE client_usage (
            client_id TEXT NOT NULL REFERENCES clients (id),
            day {DAY} NOT NULL,
            rows_received BIGINT NOT NULL,
            PRIMARY KEY (client_id, day)
        );
        ALTER TABLE batches ADD COLUMN rows_reserved BIGINT;
        """),
        // Retention (Purge): when a batch's files were removed, and each purge's counts.
        Migration(name: "0032_retention", sql: """
        ALTER TABLE batches ADD COLUMN files_purged_at {TS};
        CREATE TABLE purge_runs (
            id {ID},
            started_at {TS} NOT NULL,
            finished_at {TS},
            dry_run INTEGER NOT NULL,
            counts TEXT,
            error TEXT
        );
        """),
    ]

    /// `TaxID.indexKey` of the column `document`, in SQL that both databases run (`{STRPOS}` is
    /// the position of a character in a string, from 1): a CPF's digits cast to a number; for a
    /// CNPJ, 10¹¹ plus the sum of each of the first twelve characters' value in base 36 times its
    /// power of 36.
    static let documentKeySQL: String = {
        var terms: [String] = []
        var power: Int64 = 1
        for position in stride(from: 12, through: 1, by: -1) {
            terms.append("({STRPOS}('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(document, \(position), 1)) - 1) * CAST(\(power) AS BIGINT)")
            power *= 36  // 36¹² after the last, still within Int64
        }
        return "CASE WHEN length(document) = 11 THEN CAST(document AS BIGINT) ELSE 100000000000 + "
            + terms.joined(separator: " + ") + " END"
    }()

    static func render(_ sql: String, for dialect: SQLDialect) -> String {
        let words: [String: String]
        switch dialect {
        case .sqlite:
            words = ["{ID}": "INTEGER PRIMARY KEY", "{TS}": "TEXT", "{DAY}": "TEXT", "{TEXT}": "TEXT", "{KEY}": "TEXT", "{UPDATED_OFTEN}": "",
                     "{STRPOS}": "instr"]
        case .postgres:
            words = ["{ID}": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "{TS}": "TIMESTAMPTZ",
                     "{DAY}": "DATE", "{TEXT}": "TEXT", "{KEY}": "TEXT COLLATE \"C\"",
                     // Room on each page for a row's new version: updates that change no indexed
                     // column then stay on the page (HOT) and touch no index.
                     "{UPDATED_OFTEN}": " WITH (fillfactor = 70)", "{STRPOS}": "strpos"]
        }
        var out = sql
        for (k, v) in words { out = out.replacingOccurrences(of: k, with: v) }
        return out
    }

    /// Applies what is missing; returns the names applied now. Safe to run from several processes at
    /// once on PostgreSQL (an advisory lock serializes them).
    @discardableResult
    public static func migrate(_ db: any SQLDatabase) async throws -> [String] {
        try await db.write { c in
            try await c.lock(.migrations)
            // Read before anything is created: a process whose role may use the tables but not
            // change the schema (docs/deploy.md) starts when nothing is pending, and says what to
            // do when something is.
            let present = try await c.query(c.dialect == .postgres
                ? "SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'"
                : "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
            let exists = try present.first?.int("n") ?? 0 > 0
            let done = exists ? Set(try await c.query("SELECT name FROM schema_migrations").map { try $0.string("name") }) : []
            let pending = all.filter { !done.contains($0.name) }
            guard !pending.isEmpty else { return [] }
            do {
                if !exists {
                    try await c.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
                }
                for m in pending {
                    let concerned = m.only == nil || m.only == c.dialect
                    for statement in render(m.sql, for: c.dialect).components(separatedBy: ";")
                    where concerned && !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                        try await c.execute(SQL(stringLiteral: statement))
                    }
                    try await c.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (\(m.name), \(Timestamp.iso(Date())))")
                }
            } catch let error as SQLError where error.message.contains("permission denied") || error.message.contains("must be owner") {
                throw SQLError(code: error.code, message: "\(pending.count) migration(s) pending (\(pending.map(\.name).joined(separator: ", "))) and this "
                               + "database role may not change the schema: run `esteira migrate` with the role that owns it (docs/deploy.md). \(error.message)",
                               sql: error.sql)
            }
            return pending.map(\.name)
        }
    }
}
