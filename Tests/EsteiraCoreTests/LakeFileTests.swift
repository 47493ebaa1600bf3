import EsteiraCore
import Foundation
import Testing

@Suite("Lake files: typed, deduplicated, quarantined, reconciled")
struct LakeFileTests {
    // Eight rows (lines 2–9): F1 twice alike, in both date formats and both decimal separators
    // (one kept, one duplicate); F2 twice with different amounts (both to quarantine, which is
    // right cannot be told); F3 and F4 good; F6 dated October 32; F7 without an amount.
    static let file = """
        ID_Fatura;Id Cliente;Dt Emissão;DT_VENCIMENTO;vl_fatura
        F1;C1;2026-10-01;2026-10-10;100,00
        F1;C1;01/10/2026;10/10/2026;100.00
        F2;C2;2026-10-02;2026-10-12;50,00
        F2;C2;2026-10-02;2026-10-12;51,00
        F3;C3;"2026-10-03";2026-10-13;"1.234,56"
        F4;C1;2026-10-04;2026-10-14;0,99
        F6;C4;2026-10-32;2026-10-14;10,00
        F7;C4;2026-10-05;2026-10-15;

        """

    @Test("counts by hand: 8 raw = 3 curated (F1, F3, F4) + 1 duplicate (F1 again) + 4 quarantined (F2 twice, F6, F7)")
    func curate() throws {
        let r = try LakeFile.curate(Array(Self.file.utf8), table: .faturas)
        #expect(r.counts == LakeCounts(raw: 8, curated: 3, duplicates: 1, quarantined: 4))
        #expect(r.counts.isBalanced)
        #expect(r.rows.map(\.id) == ["F1", "F3", "F4"])
        // F1 in ISO and in DD/MM/AAAA, 100,00 and 100.00: the same content, so one duplicate.
        #expect(r.rows[0].values == [.text("F1"), .text("C1"), .day(Day(year: 2026, month: 10, day: 1)!),
                                     .day(Day(year: 2026, month: 10, day: 10)!), .money(10_000)])
        #expect(r.rows[1].values.last == .money(123_456))
        #expect(r.quarantined.map { "\($0.line):\($0.field):\($0.code)" } == ["4:id_fatura:LK104", "5:id_fatura:LK104", "8:dt_emissao:LK102", "9:vl_fatura:LK101"])
        #expect(r.quarantined[0].reason.contains("repetido com conteúdo diferente") && r.quarantined[0].raw == "F2;C2;2026-10-02;2026-10-12;50,00")
    }

    @Test("a file without a required column, or not text, is refused whole")
    func refused() {
        #expect(throws: LakeFile.Problem.missingColumn("vl_pagamento")) {
            try LakeFile.curate(Array("id_pagamento,id_fatura,id_cliente,dt_pagamento\nP1,F1,C1,2026-10-01\n".utf8), table: .pagamentos)
        }
        #expect(throws: LakeFile.Problem.notText) { try LakeFile.curate([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 1, 2, 0], table: .faturas) }
        #expect(throws: LakeFile.Problem.empty) { try LakeFile.curate([], table: .faturas) }
    }

    @Test("Windows-1252 text and a comma delimiter")
    func encoding() throws {
        // "Pagamento" rows with "ç" as Windows-1252 (0xE7) inside a quoted id.
        var bytes = Array("id_pagamento,id_fatura,id_cliente,dt_pagamento,vl_pagamento\n\"P-a".utf8)
        bytes.append(0xE7)
        bytes += Array("o\",F1,C1,2026-10-05,\"1.000,00\"\n".utf8)
        let r = try LakeFile.curate(bytes, table: .pagamentos)
        #expect(r.rows.first?.id == "P-aço" && r.rows.first?.values.last == .money(100_000))
    }
}
