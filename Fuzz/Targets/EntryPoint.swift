#if !ESTEIRA_FUZZ
import EsteiraCore
import Foundation

/// A plain build (`swift build`) makes this, not the fuzzer: the targets run only as scripts/fuzz
/// builds them, with `-sanitize=fuzzer` and ESTEIRA_FUZZ, where libFuzzer brings its own `main`.
/// `esteira-fuzz --write-staging-seeds DIR` writes staging files made by the encoder itself, the
/// seeds of the `staging` target (random bytes seldom get past a staging file's header).
@main
struct FuzzStub {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, arguments[1] == "--write-staging-seeds" else {
            print("esteira-fuzz: build and run it with scripts/fuzz (libFuzzer, -sanitize=fuzzer)")
            return
        }
        guard case .success(let cpf) = TaxID.parse("248.438.034-80"), case .success(let cnpj) = TaxID.parse("12.ABC.345/01DE-35"),
              let due = Day(year: 2026, month: 12, day: 7) else { fatalError("seed values") }
        let ana = Debt(externalID: "D1", name: "Ana", document: cpf, amountCents: 123_456, dueDate: due,
                       email: "ana@example.com", phone: "11987654321", description: "Contrato 1")
        let loja = Debt(externalID: "D2", name: "Loja Ção", document: cnpj, amountCents: 1, dueDate: due, email: nil, phone: nil, description: nil)
        let seeds: [String: [StagedRecord]] = [
            "one-debt": [.debt(line: 2, raw: "D1;Ana;248.438.034-80;1234,56", ana)],
            "mixed": [
                .debt(line: 2, raw: "D1;Ana", ana),
                .correction(line: 3, raw: "D2;Loja", loja),
                .withdrawal(line: 4, raw: "D3;B;obito", externalID: "D3", reason: .death),
                .rejected(line: 5, raw: "x;y", issues: [RowIssue(line: 5, field: .amount, code: .amountMalformed, message: "O valor x não é um valor.")]),
            ],
        ]
        for (name, records) in seeds {
            try Data(StagingCodec.encode(records)).write(to: URL(fileURLWithPath: arguments[2] + "/" + name))
        }
    }
}
#endif
