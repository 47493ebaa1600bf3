import EsteiraCore
@testable import EsteiraSheets
import Foundation
import Testing

/// The fixtures are written by `Fixtures/make_fixtures.py` with openpyxl, msoffcrypto-tool and
/// Python's zipfile; every expected value below is what that script wrote.
@Suite("XLSX sheets read as a stream")
struct SheetReaderTests {
    static func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!
    }

    func csv(_ name: String, date: DateFormat = .auto, decimal: DecimalFormat = .auto,
             limits: SheetLimits = SheetLimits()) throws -> [String] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("sheet-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: out) }
        try SheetToCSV.convert(xlsx: Self.fixture(name), to: out, dateFormat: date, decimalFormat: decimal, limits: limits)
        return String(decoding: try Data(contentsOf: out), as: UTF8.self).components(separatedBy: "\n")
    }

    @Test("openpyxl's workbook: line N is row N, numbers and dates written as the format reads them")
    func openpyxlWorkbook() throws {
        // Serials by hand: 45366 is 2024-03-15 (45292 is 2024-01-01, plus 31 + 29 + 14 days);
        // 45291 is 2023-12-31; 43890 is 2020-02-29; 36525 is 1999-12-31.
        #expect(try csv("mapped.xlsx") == [
            "Código;Cliente;CPF do devedor;Valor Original;Vencimento;E-mail",
            "A-1;José da Silva;529.982.247-25;1234.56;2024-03-15;jose@exemplo.com.br",
            "A-2;\"Maria \"\"Mia\"\"; Souza Filha\";11144477735;0.3;2023-12-31;",
            // Three decimals get a fourth so that `auto` refuses them instead of reading thousands.
            "A-3;Ana;52998224725;1.2340;15/03/2024;",
            "",
            "A-4;Bruno;11.222.333/0001-81;1.234,56;2020-02-29;",
            "A-5;Carla;11144477735;150;1999-12-31;",
            "",
        ])
        let brazilian = try csv("mapped.xlsx", date: .dayMonthYear, decimal: .comma)
        #expect(brazilian[1] == "A-1;José da Silva;529.982.247-25;1234,56;15/03/2024;jose@exemplo.com.br")
        #expect(brazilian[3] == "A-3;Ana;52998224725;1,234;15/03/2024;")
        #expect(brazilian[6] == "A-5;Carla;11144477735;150;31/12/1999;")
        #expect(try csv("mapped.xlsx", date: .yearMonthDayCompact, decimal: .impliedCents)[1]
            == "A-1;José da Silva;529.982.247-25;123456;20240315;jose@exemplo.com.br")
    }

    @Test("a workbook with every ZIP64 field reads as the same workbook without them")
    func zip64Workbook() throws {
        // zip64.xlsx holds mapped.xlsx's parts with all 32-bit sizes and offsets full and their
        // values in ZIP64 extra fields and end records; Python's zipfile reads it back whole.
        #expect(try csv("zip64.xlsx") == csv("mapped.xlsx"))
        #expect(try csv("zip64.xlsx")[1] == "A-1;José da Silva;529.982.247-25;1234.56;2024-03-15;jose@exemplo.com.br")
    }

    @Test("hand-written XML: shared and inline strings, rich text, formulas, booleans, E notation, 1904 dates, prefixes")
    func handwrittenWorkbook() throws {
        // 1904 system: serial 0 is 1904-01-01; 43903.75 is 1904-01-01 + 43903 days = 2024-03-14
        // (Python: date(1904,1,1) + timedelta(43903)). 1.2345678909E10 = 12345678909.
        // `_x000D_` is a carriage return, which becomes a space. 1234.5599999999999 has 17
        // significant digits; at Excel's 15 it is 1234.56.
        #expect(try csv("handwritten.xlsx") == [
            "id;nome;valor;data",
            "X1;P&G <Ltda> é ;12345678909;1904-01-01",
            "",
            "VERDADEIRO;;-0.0025;2024-03-14",
            "compartilhado;rico;1234.56;",
            "",
        ])
    }

    @Test("bad spreadsheets fail with the reason, in Portuguese")
    func badSheets() throws {
        @Sendable func kind(_ name: String, limits: SheetLimits = SheetLimits()) -> SheetProblem.Kind? {
            do { _ = try csv(name, limits: limits); return nil } catch let p as SheetProblem { return p.kind } catch { return nil }
        }
        #expect(kind("encrypted.xlsx") == .encrypted)
        #expect(kind("truncated.xlsx") == .corrupt)
        // Found by the fuzzer (scripts/fuzz, target xlsx): a part whose compressed size does not
        // fit an Int trapped the worker converting it.
        #expect(kind("huge-size.xlsx") != nil)
        // A part claiming more compressed bytes than the whole file holds (2 GiB - 1 in a file of
        // about 19 KB): read before, with the bomb check's ratio taken to the claimed size.
        #expect(kind("lying-size.xlsx") == .corrupt)
        #expect(kind("empty.xlsx") == .emptySheet)
        // Parts compressed by bzip2 (method 12), which Python's zipfile writes: refused, naming
        // the method, instead of read as if deflated.
        #expect(kind("bzip2.xlsx") == .corrupt)
        do {
            _ = try csv("bzip2.xlsx")
        } catch let p as SheetProblem {
            #expect(p.message.contains("método de compressão") && p.message.contains("(12)"))
        }
        // Found by the fuzzer (target xlsx): the shared strings' deflate stream does not end
        // within the part's 194 compressed bytes (Python's zlib.decompressobj(-15) gives 272 bytes
        // and eof False). Read past the part, to the file's end, it made the reader wait for input
        // that never comes, so the worker hung; it must be refused as corrupt. A watchdog turns a
        // hang into a failure instead of holding the run.
        #expect(finishes(within: 30) { kind("endless-inflate.xlsx")?.rawValue ?? "read" } == "corrupt")
        // 64 MiB of spaces in about 70 KB: past the 200:1 ratio once 1 MiB is out.
        #expect(kind("bomb.xlsx") == .tooLarge)
        var small = SheetLimits()
        small.maxRows = 6
        #expect(kind("mapped.xlsx", limits: small) == .tooLarge)
        small = SheetLimits()
        small.maxInflatedBytes = 1000
        #expect(kind("mapped.xlsx", limits: small) == .tooLarge)
        do {
            _ = try csv("encrypted.xlsx")
        } catch let p as SheetProblem {
            #expect(p.message.contains("senha"))
        }
    }

    /// What `work` returns, or nil when it has not returned within `seconds`: the thread it runs
    /// on is then left behind, for a synchronous call cannot be stopped.
    func finishes(within seconds: Int, _ work: @escaping @Sendable () -> String) -> String? {
        final class Box: @unchecked Sendable { var value: String? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            box.value = work()
            done.signal()
        }
        guard done.wait(timeout: .now() + .seconds(seconds)) == .success else { return nil }
        return box.value
    }

    @Test("numbers in a cell's XML become plain decimals with at most 15 significant digits")
    func plainDecimals() {
        let cases: [(String, String?)] = [
            ("1234.56", "1234.56"), ("0.30000000000000004", "0.3"), ("1E-7", "0.0000001"),
            ("-0", "0"), ("1.5E3", "1500"), ("123456789012345678", "123456789012346000"),
            ("99999999999999999", "100000000000000000"), ("007", "7"), ("abc", nil), ("1.2.3", nil), ("", nil),
        ]
        for (input, expected) in cases { #expect(ExcelValues.plainDecimal(input) == expected, "\(input)") }
    }

    @Test("date serials in both systems, and which number formats are dates")
    func dates() {
        #expect(ExcelValues.day(serial: "1", date1904: false) == Day(year: 1900, month: 1, day: 1))
        #expect(ExcelValues.day(serial: "59", date1904: false) == Day(year: 1900, month: 2, day: 28))
        #expect(ExcelValues.day(serial: "60", date1904: false) == nil) // 1900-02-29 never was
        #expect(ExcelValues.day(serial: "61", date1904: false) == Day(year: 1900, month: 3, day: 1))
        #expect(ExcelValues.day(serial: "45366.999", date1904: false) == Day(year: 2024, month: 3, day: 15))
        #expect(ExcelValues.isDateFormat(id: 14, code: nil))
        #expect(!ExcelValues.isDateFormat(id: 20, code: nil)) // h:mm
        #expect(ExcelValues.isDateFormat(id: 164, code: "dd/mm/yyyy"))
        #expect(ExcelValues.isDateFormat(id: 165, code: "[$-416]d\\-mmm\\-yy;@"))
        #expect(!ExcelValues.isDateFormat(id: 166, code: "hh:mm"))
        #expect(!ExcelValues.isDateFormat(id: 167, code: "#,##0.00 \"dias\""))
        #expect(!ExcelValues.isDateFormat(id: 2, code: nil))
    }
}

@Suite("Previews of the first rows")
struct FilePreviewTests {
    @Test("a text file: encoding and delimiter found, blank lines skipped, at most the limit, a cut record left out")
    func csvPreview() throws {
        // Windows-1252: "João" is 4A 6F E3 6F (ã is E3), which is not valid UTF-8.
        var bytes = Array("id,nome,valor\r\n".utf8)
        bytes += [0x31, 0x2C, 0x4A, 0x6F, 0xE3, 0x6F, 0x2C, 0x31, 0x30, 0x0D, 0x0A, 0x0D, 0x0A]
        for i in 2...150 { bytes += Array("\(i),\"Nome, \(i)\",\(i)\r\n".utf8) }
        let p = try FilePreview.csv(head: bytes, isWholeFile: true, limit: 100)
        #expect(p.header == ["id", "nome", "valor"])
        #expect(p.rows.count == 100)
        #expect(p.rows[0].line == 2 && p.rows[0].cells == ["1", "João", "10"])
        #expect(p.rows[1].line == 4 && p.rows[1].cells == ["2", "Nome, 2", "2"]) // line 3 is blank
        // A head cut in the middle of a record: the cut one is not shown.
        let cut = Array("a;b\n1;2\n3;".utf8)
        #expect(try FilePreview.csv(head: cut, isWholeFile: false).rows.map(\.cells) == [["1", "2"]])
        #expect(throws: FileProblem.self) { try FilePreview.csv(head: [0x25, 0x50, 0x44, 0x46, 0x2D, 0x00], isWholeFile: true) }
    }

    @Test("a workbook: the header, then rows with their sheet row numbers, numbers and dates as Brazilians write them")
    func xlsxPreview() throws {
        let p = try FilePreview.xlsx(SheetReaderTests.fixture("mapped.xlsx"), limit: 3)
        #expect(p.header == ["Código", "Cliente", "CPF do devedor", "Valor Original", "Vencimento", "E-mail"])
        #expect(p.rows.map(\.line) == [2, 3, 4])
        #expect(p.rows[0].cells == ["A-1", "José da Silva", "529.982.247-25", "1234,56", "15/03/2024", "jose@exemplo.com.br"])
        // Preview cells are shown as they are, not quoted for CSV.
        #expect(p.rows[1].cells[1] == "Maria \"Mia\"; Souza\nFilha")
    }
}
