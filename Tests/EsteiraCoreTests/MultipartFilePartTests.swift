import EsteiraCore
import Testing

/// The file part of a multipart/form-data body, read as it streams: bodies written by hand from
/// RFC 2046 § 5.1 (the file's bytes are known because the test wrote them), fed whole, byte by
/// byte and cut at every place.
@Suite("Multipart: the file part of an upload")
struct MultipartFilePartTests {
    static let file = Array("id;nome;cpf\n1;Ana;248.438.034-80\r\n--fronteir\r\n-- não é o fim\n".utf8)

    static func body(_ parts: [(headers: String, content: [UInt8])], preamble: String = "", close: Bool = true) -> [UInt8] {
        var out = Array(preamble.utf8)
        for (i, part) in parts.enumerated() {
            out += Array(((i == 0 && preamble.isEmpty) ? "" : "\r\n").utf8) + Array("--fronteira\r\n\(part.headers)\r\n".utf8) + part.content
        }
        if close { out += Array("\r\n--fronteira--\r\n".utf8) }
        return out
    }

    static let filePart = (headers: "Content-Disposition: form-data; name=\"file\"; filename=\"carteira.csv\"\r\nContent-Type: text/csv\r\n",
                           content: file)

    /// Fed in pieces of `size` bytes: the file, and the name or the problem.
    static func read(_ body: [UInt8], size: Int? = nil) -> (file: [UInt8], outcome: String) {
        var part = MultipartFilePart(boundary: "fronteira")
        var file: [UInt8] = []
        do {
            var at = 0
            let step = size ?? max(1, body.count)
            while at < body.count {
                file += try part.feed(body[at..<min(body.count, at + step)])
                at += step
            }
            return (file, "name:" + (try part.finish() ?? ""))
        } catch {
            return (file, "\(error)")
        }
    }

    @Test("the file part among others, with a preamble or without, however the body is cut")
    func fileExactly() {
        let bodies = [
            Self.body([Self.filePart]),
            Self.body([(headers: "Content-Disposition: form-data; name=\"formato\"\r\n", content: Array("padrão".utf8)), Self.filePart,
                       (headers: "Content-Disposition: form-data; name=\"file\"; filename=\"segundo.csv\"\r\n", content: Array("ignorado".utf8))],
                      preamble: "Isto é um preâmbulo.\r\n"),
        ]
        for body in bodies {
            #expect(Self.read(body) == (Self.file, "name:carteira.csv"))
            for size in [1, 2, 7, 12, 13, 64] { #expect(Self.read(body, size: size) == (Self.file, "name:carteira.csv"), "pieces of \(size)") }
        }
    }

    /// The outcome of `body` read whole, and again cut in two at every place: each must agree.
    static func outcomesAtEveryCut(_ body: [UInt8]) -> Set<String> {
        var outcomes: Set<String> = [read(body).outcome]
        for cut in 0...body.count {
            var part = MultipartFilePart(boundary: "fronteira")
            do {
                _ = try part.feed(body[..<cut])
                _ = try part.feed(body[cut...])
                outcomes.insert("name:" + (try part.finish() ?? ""))
            } catch {
                outcomes.insert("\(error)")
            }
        }
        return outcomes
    }

    @Test("at the limits (padding after a delimiter, the headers' size), the outcome is the same however the body is cut")
    func limitsWhateverTheCut() {
        let nota = "Content-Disposition: form-data; name=\"nota\"\r\n\r\nx\r\n--fronteira--"
        // Padding of 64 spaces is read; of 65 it is refused. The fuzzer found a body whose
        // padding was refused when the body was cut inside it, and read when whole.
        #expect(Self.outcomesAtEveryCut(Array(("--fronteira" + String(repeating: " ", count: 64) + "\r\n" + nota).utf8)) == ["missingFile"])
        #expect(Self.outcomesAtEveryCut(Array(("--fronteira" + String(repeating: " ", count: 65) + "\r\n" + nota).utf8)) == ["malformed"])
        // Header lines of exactly the limit (16 KiB), counted from the line after the delimiter
        // to the last header's CRLF: "X: " (3) + filler + CRLF (2).
        let filler = (16 << 10) - 5
        let atLimit = "--fronteira\r\nX: " + String(repeating: "a", count: filler) + "\r\n\r\nx\r\n--fronteira--"
        let pastLimit = "--fronteira\r\nX: " + String(repeating: "a", count: filler + 1) + "\r\n\r\nx\r\n--fronteira--"
        #expect(Self.read(Array(atLimit.utf8), size: 1).outcome == "missingFile")
        #expect(Self.read(Array(atLimit.utf8)).outcome == "missingFile")
        #expect(Self.read(Array(pastLimit.utf8), size: 1).outcome == "malformed")
        #expect(Self.read(Array(pastLimit.utf8)).outcome == "malformed")
    }

    @Test("refused: a header name with a byte above 127 (MultipartKit 4.7.1 trapped on it), a line without a colon, headers past the limit; cut short; no file")
    func refusals() {
        // The input the fuzzer found, in spirit: é (0xC3 0xA9) in a header's name.
        let accented = Self.body([(headers: "Content-Dispositi\u{e9}n: form-data; name=\"file\"\r\n", content: Self.file)])
        #expect(Self.read(accented).outcome == "malformed")
        #expect(Self.read(Array("--fronteira\r\nsem dois pontos\r\n\r\nx\r\n--fronteira--".utf8)).outcome == "malformed")
        #expect(Self.read(Array("--fronteira\r\nX: \(String(repeating: "a", count: 20_000))\r\n\r\nx".utf8), size: 1000).outcome == "malformed")
        #expect(Self.read(Array("--fronteiraXY\r\n".utf8)).outcome == "malformed")
        // No closing delimiter, or cut inside the file: truncated, and what came of the file is what was sent.
        #expect(Self.read(Self.body([Self.filePart], close: false)).outcome == "truncated")
        let cut = Array(Self.body([Self.filePart]).prefix(150))
        #expect(Self.read(cut).outcome == "truncated")
        #expect(Self.read(Self.body([(headers: "Content-Disposition: form-data; name=\"nota\"\r\n", content: [1])])).outcome == "missingFile")
        #expect(Self.read(Array("sem delimitador algum".utf8)).outcome == "missingFile")
    }
}
