#!/usr/bin/env python3
"""The book of invoice variables computed a second way, by DuckDB SQL written from the definitions
in the issue and docs/lake.md (not from Esteira's code), and compared with Esteira's refined layer.

    lake-book-reference.py generate DIR [--months 14] [--start 2025-10] [--seed 8]
        Writes DIR/tb_faturas_AAAAMM.csv and DIR/tb_pagamentos_AAAAMM.csv for each month, in three
        dialects (';' with decimal comma and DD/MM/AAAA; ',' with decimal point and ISO dates; tab),
        and DIR/manifest.json saying which. The data has every case the book must tell apart:
        payments early, on the due date, late, partial, split over days, several on one day, above
        the amount, missing, and made after a reference date; exact duplicates; an id repeated with
        other content; and bad rows (empty fields, impossible dates, amounts that are not amounts).

    lake-book-reference.py check DIR LAKE R [R ...]
        For each reference date R: the book by DuckDB from DIR's CSV files, against Esteira's
        LAKE/refined/book_faturas/dt_base=R and book_resumo/dt_base=R, value by value, in integer
        units (cents, ten-thousandths, hundredths of a day). Prints one line per R and exits 1 on
        any difference, printing the first ones.
"""
import datetime as dt
import json
import os
import random
import sys

WINDOWS = [(1, "U1M"), (3, "U3M"), (6, "U6M"), (12, "U12M")]
DIALECTS = [
    {"delim": ";", "decimal": ",", "date": "%d/%m/%Y"},
    {"delim": ",", "decimal": ".", "date": "%Y-%m-%d"},
    {"delim": "\t", "decimal": ".", "date": "%Y-%m-%d"},
]


def money(cents, dialect):
    whole, frac = divmod(cents, 100)
    if dialect["decimal"] == ",":
        digits = f"{whole:,}".replace(",", ".")
        return f"{digits},{frac:02d}"
    return f"{whole}.{frac:02d}"


def generate(out, months, start, seed):
    rnd = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    year, month = map(int, start.split("-"))
    firsts = []
    for i in range(months + 1):
        y, m = year + (month - 1 + i) // 12, (month - 1 + i) % 12 + 1
        firsts.append(dt.date(y, m, 1))
    customers = [f"C{n:03d}" for n in range(1, 41)] + ["Conceição-1", "José Ávila", "Ñandú 3"]
    invoices = {i: [] for i in range(months)}
    payments = {i: [] for i in range(months)}

    def month_of(day):
        for i in range(months):
            if firsts[i] <= day < firsts[i + 1]:
                return i
        return None  # after the last month: never sent

    pay_seq = 0

    def pay(fid, cli, day, cents):
        nonlocal pay_seq
        i = month_of(day)
        pay_seq += 1
        if i is not None:
            payments[i].append([f"P{pay_seq:06d}", fid, cli, day, cents])

    for i in range(months):
        days = (firsts[i + 1] - firsts[i]).days
        n = 0
        for cli in customers:
            for _ in range(rnd.choice([0, 1, 1, 2])):
                n += 1
                fid = f"F{i:02d}-{n:04d}"
                issued = firsts[i] + dt.timedelta(days=rnd.randrange(days))
                due = issued + dt.timedelta(days=rnd.randint(5, 25))
                cents = rnd.randint(1_000, 250_000)
                invoices[i].append([fid, cli, issued, due, cents])
                kind = rnd.choice(["early", "on_due", "late", "partial", "split", "same_day", "over", "missing", "late_far"])
                if kind == "early":
                    pay(fid, cli, issued + dt.timedelta(days=rnd.randint(0, (due - issued).days - 1)), cents)
                elif kind == "on_due":
                    pay(fid, cli, due, cents)
                elif kind == "late":
                    pay(fid, cli, due + dt.timedelta(days=rnd.randint(1, 40)), cents)
                elif kind == "late_far":
                    pay(fid, cli, due + dt.timedelta(days=rnd.randint(60, 200)), cents)
                elif kind == "partial":
                    pay(fid, cli, due - dt.timedelta(days=rnd.randint(0, 3)), rnd.randint(1, cents - 1))
                elif kind == "split":
                    first = rnd.randint(1, cents - 1)
                    pay(fid, cli, due - dt.timedelta(days=2), first)
                    pay(fid, cli, due + dt.timedelta(days=rnd.randint(-1, 30)), cents - first)
                elif kind == "same_day":
                    day = due + dt.timedelta(days=rnd.randint(-2, 10))
                    half = cents // 2
                    pay(fid, cli, day, half)
                    pay(fid, cli, day, cents - half)
                elif kind == "over":
                    pay(fid, cli, due + dt.timedelta(days=rnd.randint(-5, 5)), cents + rnd.randint(1, 5_000))

    manifest = []
    for i in range(months):
        d = DIALECTS[i % len(DIALECTS)]
        stamp = firsts[i].strftime("%Y%m")

        def line(values):
            return d["delim"].join(values) + "\n"

        def render(row):
            return [v.strftime(d["date"]) if isinstance(v, dt.date) else money(v, d) if isinstance(v, int) else v for v in row]

        inv_rows = [render(r) for r in invoices[i]]
        pay_rows = [render(r) for r in payments[i]]
        # Exact duplicates (kept once), an id repeated with other content (every row of it out),
        # and bad rows (out), each with an id of its own.
        for rows in (inv_rows, pay_rows):
            if len(rows) < 6:
                continue
            rows.append(list(rows[1]))
            rows.append(list(rows[3]))
            conflict = list(rows[5])
            conflict[4] = money(1, d)
            rows.append(conflict)
        bad_dates = ["31/02/2026" if d["date"].startswith("%d") else "2026-02-30", "2026-13-01", "ontem"]
        inv_rows += [
            [f"FX{i:02d}-1", "", render([firsts[i]])[0], render([firsts[i]])[0], money(100, d)],
            [f"FX{i:02d}-2", "C001", render([firsts[i]])[0], bad_dates[i % 3], money(100, d)],
            [f"FX{i:02d}-3", "C002", render([firsts[i]])[0], render([firsts[i] + dt.timedelta(days=9)])[0], "doze reais"],
        ]
        if pay_rows:
            pay_rows += [
                [f"PX{i:02d}-1", pay_rows[0][1], pay_rows[0][2], bad_dates[(i + 1) % 3], money(500, d)],
                [f"PX{i:02d}-2", pay_rows[0][1], pay_rows[0][2], render([firsts[i]])[0], "1" + d["decimal"] + "2" + d["decimal"] + "3"],
                [f"PX{i:02d}-3", "", pay_rows[0][2], render([firsts[i]])[0], money(500, d)],
            ]
        rnd.shuffle(inv_rows)
        rnd.shuffle(pay_rows)
        files = {}
        for table, header, rows in (
            ("faturas", ["id_fatura", "id_cliente", "dt_emissao", "dt_vencimento", "vl_fatura"], inv_rows),
            ("pagamentos", ["id_pagamento", "id_fatura", "id_cliente", "dt_pagamento", "vl_pagamento"], pay_rows),
        ):
            name = f"tb_{table}_{stamp}.csv"
            with open(os.path.join(out, name), "w", encoding="utf-8", newline="") as f:
                f.write(line(header))
                for r in rows:
                    f.write(line(r))
            files[table] = name
        manifest.append({"month": firsts[i].strftime("%Y-%m"), **files, **d})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"generated {months} months in {out}")


def load(con, folder):
    """The curated tables by SQL: every field required (trimmed), dates in either format, amounts
    in the file's decimal style; an id twice with the same content kept once, with other content
    dropped entirely. (Ids are unique across files in the generated data.)"""
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    for table, cols in (("faturas", ["id", "cli", "emissao", "dia", "valor"]), ("pagamentos", ["id", "fatura", "cli", "dia", "valor"])):
        con.execute(f"CREATE TABLE raw_{table} (file VARCHAR, decimal_comma BOOLEAN, {', '.join(c + ' VARCHAR' for c in cols)})")
        for m in manifest:
            con.execute(f"""INSERT INTO raw_{table} SELECT ?, ?, * FROM read_csv(?, delim = ?, header = true, all_varchar = true,
                            null_padding = true, quote = '"')""", [m[table], m["decimal"] == ",", os.path.join(folder, m[table]), m["delim"]])
        date = "coalesce(try_strptime(trim({0}), '%Y-%m-%d'), try_strptime(trim({0}), '%d/%m/%Y'))::DATE"
        amount = ("(TRY_CAST(CASE WHEN decimal_comma THEN replace(replace(trim(valor), '.', ''), ',', '.') ELSE trim(valor) END "
                  "AS DECIMAL(15,2)) * 100)::BIGINT")
        text = [c for c in cols if c not in ("emissao", "dia", "valor")]
        dates = [c for c in cols if c in ("emissao", "dia")]
        con.execute(f"""CREATE TABLE typed_{table} AS
            SELECT file, {', '.join(f'trim({c}) AS {c}' for c in text)}, {', '.join(date.format(c) + ' AS ' + c for c in dates)}, {amount} AS cents
            FROM raw_{table}""")
        required = " AND ".join([f"coalesce({c}, '') <> ''" for c in text] + [f"{c} IS NOT NULL" for c in dates] + ["cents IS NOT NULL"])
        con.execute(f"""CREATE TABLE {table} AS
            SELECT * EXCLUDE (n) FROM (
                SELECT DISTINCT *, count(*) OVER (PARTITION BY file, id) AS n FROM (SELECT DISTINCT * FROM typed_{table} WHERE {required}))
            WHERE n = 1""")


BOOK_SQL = """
WITH
  R AS (SELECT ?::DATE AS r),
  counted AS (SELECT p.* FROM pagamentos p, R WHERE p.dia <= R.r),
  per_day AS (SELECT fatura, dia, sum(cents) AS cents FROM counted GROUP BY fatura, dia),
  running AS (SELECT fatura, dia, sum(cents) OVER (PARTITION BY fatura ORDER BY dia) AS total FROM per_day),
  paid AS (SELECT f.id, min(r.dia) AS paid_on FROM faturas f JOIN running r ON r.fatura = f.id AND r.total >= f.cents GROUP BY f.id),
  totals AS (SELECT fatura, count(*) AS n, sum(cents) AS cents FROM counted GROUP BY fatura),
  outcome AS (
    SELECT f.id, f.cli, f.dia AS due, f.cents, coalesce(t.n, 0) AS n_pay, coalesce(t.cents, 0) AS paid_cents, p.paid_on,
           greatest(0, date_diff('day', f.dia, coalesce(p.paid_on, R.r))) AS days_late
    FROM faturas f CROSS JOIN R LEFT JOIN totals t ON t.fatura = f.id LEFT JOIN paid p ON p.id = f.id),
  windows AS (SELECT * FROM (VALUES (1, 'U1M'), (3, 'U3M'), (6, 'U6M'), (12, 'U12M')) w(k, periodo)),
  member AS (
    SELECT w.periodo, o.* FROM outcome o, windows w, R
    WHERE o.due > R.r - to_months(w.k) AND o.due <= R.r)
SELECT periodo, {group}
       count(*) AS total_faturas, sum(cents) AS valor_total_faturas, half(sum(cents), count(*)) AS valor_medio_faturas,
       sum(n_pay) AS total_pagamentos, sum(paid_cents) AS valor_total_pagamentos, half(sum(paid_cents), sum(n_pay)) AS valor_medio_pagamentos,
       half(10000 * count(*) FILTER (paid_on <= due), count(*)) AS percentual_pagamento_prazo,
       count(*) FILTER (paid_on > due) AS total_atrasos,
       half(10000 * count(*) FILTER (paid_on > due), count(*)) AS percentual_atrasos,
       half(10000 * count(*) FILTER (paid_on IS NULL), count(*)) AS percentual_inadimplencia,
       half(100 * coalesce(sum(days_late) FILTER (days_late > 0), 0), count(*) FILTER (days_late > 0)) AS media_dias_atraso,
       max(days_late) FILTER (days_late > 0) AS max_dias_atraso,
       coalesce(sum(cents - paid_cents) FILTER (paid_on IS NULL), 0) AS valor_inadimplente,
       half(10000 * sum(paid_cents), sum(cents)) AS percentual_valor_pago
       {extra}
FROM member GROUP BY ALL
"""

VARIABLES = ["total_faturas", "valor_total_faturas", "valor_medio_faturas", "total_pagamentos", "valor_total_pagamentos",
             "valor_medio_pagamentos", "percentual_pagamento_prazo", "total_atrasos", "percentual_atrasos", "percentual_inadimplencia",
             "media_dias_atraso", "max_dias_atraso", "valor_inadimplente", "percentual_valor_pago"]
# Esteira's columns in integer units: money ×100, fractions ×10000, mean days ×100.
SCALE = {"valor_total_faturas": 100, "valor_medio_faturas": 100, "valor_total_pagamentos": 100, "valor_medio_pagamentos": 100,
         "percentual_pagamento_prazo": 10000, "percentual_atrasos": 10000, "percentual_inadimplencia": 10000,
         "media_dias_atraso": 100, "valor_inadimplente": 100, "percentual_valor_pago": 10000,
         "media_fatura_por_cliente": 100, "media_pagamento_por_cliente": 100}


def units(c):
    return f"({c} * {SCALE[c]})::BIGINT AS {c}" if c in SCALE else c


def reference_book(con, r):
    # Per customer: every customer with an invoice in the 12-month window, in every window;
    # a window where they have none is zeros and nulls.
    per = con.execute(BOOK_SQL.format(group="cli,", extra=""), [r]).fetchall()
    found = {(row[0], row[1]): row[2:] for row in per}
    customers = sorted({cli for (periodo, cli) in found if periodo == "U12M"})
    empty = (0, 0, None, 0, 0, None, None, 0, None, None, None, None, 0, None)
    customer_rows = {(cli, periodo): tuple(found.get((periodo, cli), empty)) for cli in customers for _, periodo in WINDOWS}
    port = con.execute(BOOK_SQL.format(group="", extra=", count(DISTINCT cli), half(sum(cents), count(DISTINCT cli)), "
                                                     "half(sum(paid_cents), count(DISTINCT cli))"), [r]).fetchall()
    found = {row[0]: tuple(row[1:]) for row in port}
    portfolio = {periodo: found.get(periodo, empty + (0, None, None)) for _, periodo in WINDOWS}
    return customer_rows, portfolio


def esteira_book(con, lake, r):
    base = os.path.join(lake, "refined")
    cols = ", ".join(units(c) for c in VARIABLES)
    per = con.execute(f"SELECT id_cliente, periodo, {cols}, dt_base FROM read_parquet(?)",
                      [f"{base}/book_faturas/dt_base={r}/*.parquet"]).fetchall()
    extra = ", ".join(units(c) for c in ["total_clientes", "media_fatura_por_cliente", "media_pagamento_por_cliente"])
    port = con.execute(f"SELECT periodo, {cols}, {extra}, dt_base FROM read_parquet(?)",
                       [f"{base}/book_resumo/dt_base={r}/*.parquet"]).fetchall()
    for row in per + port:
        assert str(row[-1]) == r, f"dt_base {row[-1]} in the partition of {r}"
    return ({(row[0], row[1]): tuple(row[2:-1]) for row in per}, {row[0]: tuple(row[1:-1]) for row in port}), len(per)


def check(folder, lake, refs):
    import duckdb
    con = duckdb.connect()
    # a / b rounded half away from zero (every operand here is ≥ 0), null when b is 0.
    con.execute("CREATE MACRO half(a, b) AS CASE WHEN b = 0 THEN NULL ELSE (2 * a + b) // (2 * b) END")
    # R minus k months keeps the day or takes the month's last one (docs/lake.md); DuckDB agrees.
    assert con.execute("SELECT (DATE '2026-03-31' - to_months(1))::DATE").fetchone()[0] == dt.date(2026, 2, 28)
    load(con, folder)
    ok = True
    for r in refs:
        mine, theirs = reference_book(con, r), None
        theirs, n = esteira_book(con, lake, r)
        facts = con.execute("""SELECT count(*) FILTER (dia > ?::DATE), count(*) FROM pagamentos""", [r]).fetchone()
        differences = []
        for label, a, b in (("customer", mine[0], theirs[0]), ("portfolio", mine[1], theirs[1])):
            for key in sorted(set(a) | set(b), key=str):
                if a.get(key) != b.get(key):
                    differences.append(f"  {label} {key}: duckdb {a.get(key)} esteira {b.get(key)}")
        p = mine[1]
        summary = " ".join(f"{periodo}={p[periodo][0]}/{p[periodo][7]}late/{p[periodo][12] / 100:.2f}open" for _, periodo in WINDOWS)
        if differences:
            ok = False
            print(f"{r}: {len(differences)} differences ({n} customer rows); first ones:")
            print("\n".join(differences[:10]))
        else:
            print(f"{r}: equal, {len(mine[0])} customer rows and 4 portfolio rows, every value ({summary}; "
                  f"{facts[0]} of {facts[1]} payments after R)")
    counts = con.execute("""SELECT (SELECT count(*) FROM raw_faturas), (SELECT count(*) FROM faturas),
                                   (SELECT count(*) FROM raw_pagamentos), (SELECT count(*) FROM pagamentos)""").fetchone()
    print(f"rows: faturas {counts[0]} raw, {counts[1]} curated; pagamentos {counts[2]} raw, {counts[3]} curated")
    return ok


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "generate":
        opts = {"--months": "14", "--start": "2025-10", "--seed": "8"}
        rest = args[2:]
        for i in range(0, len(rest), 2):
            opts[rest[i]] = rest[i + 1]
        generate(args[1], int(opts["--months"]), opts["--start"], int(opts["--seed"]))
    elif args and args[0] == "check" and len(args) >= 4:
        sys.exit(0 if check(args[1], args[2], args[3:]) else 1)
    else:
        print(__doc__)
        sys.exit(2)
