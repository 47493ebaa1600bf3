"""Writes the benchmark file: ROWS debts in the standard format, about 2% of them bad
(every 50th row, offset 7, has a CPF with a wrong check digit).

The CPFs ascend with the row, unless BENCH_DOCUMENTS=scattered: then they come in the order of a
real client's file, which is no order, and every insert into the registry's document index lands
on a different page (ascending ones take PostgreSQL's fast path for the index's right end)."""
import os
import sys


def cpf(n: int) -> str:
    body = [int(c) for c in f"{n % 999_999_999:09d}"]
    for weights in (range(10, 1, -1), range(11, 1, -1)):
        r = sum(d * w for d, w in zip(body, weights)) % 11
        body.append(0 if r < 2 else 11 - r)
    return "".join(map(str, body))


def operations(rows: int, step: int, inclusions_only: bool = False) -> None:
    """ROWS operations on a registry that holds the first file of ROWS debts (made by main()):
    15% corrections (i % 20 in 0, 1, 2: DEBT-i's amount plus one real), 5% withdrawals
    (i % 20 == 3: DEBT-i, reason pago_ao_credor), 80% inclusions of new debts (NEW-i). A row of
    the first file with a bad CPF (i % 50 == 7) was never registered, so its correction or
    withdrawal names the next row's debt instead: every operation applies. With inclusions_only,
    every row is the inclusion of NEW-i, of the same debtors: the same file without operations."""
    out = sys.stdout
    out.write("operacao;id_divida;nome;cpf;valor;vencimento;email;motivo_baixa\n")
    buf = []
    for i in range(rows):
        kind = 4 if inclusions_only else i % 20
        j = i + 1 if i % 50 == 7 and kind < 4 else i
        due = f"{(j % 28) + 1:02d}/{(j % 12) + 1:02d}/2024"
        if kind < 3:
            buf.append(f"A;DEBT-{j:08d};Devedor Número {j};{cpf(j * step + 11)};{j % 5000 + 2},{j % 100:02d};{due};d{j}@example.com;\n")
        elif kind == 3:
            buf.append(f"B;DEBT-{j:08d};;;;;;pago_ao_credor\n")
        else:
            buf.append(f"I;NEW-{i:08d};Devedor Novo {i};{cpf(i * step + 11)};{i % 5000 + 1},{i % 100:02d};{due};n{i}@example.com;\n")
        if len(buf) == 10000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


def main() -> None:
    rows = int(sys.argv[1])
    out = sys.stdout
    # 999,999,999 = 3^4 * 37 * 333,667, and 7,919 and 104,729 are other primes: multiplying by
    # them modulo it is one-to-one, so the scattered CPFs are as distinct as the ascending ones.
    step = 7919 * (104729 if os.environ.get("BENCH_DOCUMENTS") == "scattered" else 1)
    if "--operations" in sys.argv[2:] or "--inclusions" in sys.argv[2:]:
        operations(rows, step, inclusions_only="--inclusions" in sys.argv[2:])
        return
    out.write("id_divida;nome;cpf;valor;vencimento;email\n")
    buf = []
    for i in range(rows):
        doc = cpf(i * step + 11)
        if i % 50 == 7:
            doc = doc[:-1] + str((int(doc[-1]) + 1) % 10)
        buf.append(f"DEBT-{i:08d};Devedor Número {i};{doc};{i % 5000 + 1},{i % 100:02d};{(i % 28) + 1:02d}/{(i % 12) + 1:02d}/2024;d{i}@example.com\n")
        if len(buf) == 10000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


if __name__ == "__main__":
    main()
