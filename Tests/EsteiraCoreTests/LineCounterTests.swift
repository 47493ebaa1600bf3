import EsteiraCore
import Testing

/// The lines a quota counts, fed in pieces as an upload arrives. Expected counts by hand.
@Suite("Line counter: the lines of a file as it streams")
struct LineCounterTests {
    static func total(_ text: String, pieces: Int) -> Int {
        let bytes = Array(text.utf8)
        var counter = LineCounter()
        var at = 0
        while at < bytes.count {
            counter.add(Array(bytes[at..<min(bytes.count, at + pieces)]))
            at += pieces
        }
        return counter.total
    }

    @Test("a header and two records, with or without a last line feed; CRLF; blank lines; nothing")
    func counts() {
        for pieces in [1, 2, 3, 5, 1000] {
            // "id;nome\n", "1;Ana\n", "2;Bia\n": three line feeds, three lines.
            #expect(Self.total("id;nome\n1;Ana\n2;Bia\n", pieces: pieces) == 3)
            // The same without the last line feed: two feeds, and the last line still counts.
            #expect(Self.total("id;nome\n1;Ana\n2;Bia", pieces: pieces) == 3)
            // CRLF ends lines the same way: two feeds.
            #expect(Self.total("id;nome\r\n1;Ana\r\n", pieces: pieces) == 2)
            // Blank lines are lines: four feeds.
            #expect(Self.total("id\n\n\n1\n", pieces: pieces) == 4)
            #expect(Self.total("", pieces: pieces) == 0)
        }
    }
}
