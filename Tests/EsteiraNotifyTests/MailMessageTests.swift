import EsteiraDocuments
@testable import EsteiraNotify
import Foundation
import NIOCore
import NIOEmbedded
import Testing

@Suite("E-mail: the message's format and the SMTP replies")
struct MailMessageTests {
    @Test("plain ASCII header text stays as is; other text becomes UTF-8 encoded words")
    func encodedWords() {
        #expect(MailMessage.encodedWord("Lote processado") == "Lote processado")
        // `printf 'Olá' | base64` → T2zDoQ==
        #expect(MailMessage.encodedWord("Olá") == "=?UTF-8?B?T2zDoQ==?=")
        // `printf 'Cobrança' | base64` → Q29icmFuw6dh
        #expect(MailMessage.encodedWord("Cobrança") == "=?UTF-8?B?Q29icmFuw6dh?=")
    }

    @Test("a line break in data cannot start a new header")
    func headerInjection() {
        #expect(MailMessage.encodedWord("a.csv\r\nBcc: x@y.z") == "a.csv  Bcc: x@y.z")
    }

    @Test("long text is cut into words of at most 45 bytes, never inside a character")
    func longWords() throws {
        // 30 × "ç" is 60 bytes: 22 characters (44 bytes; a 23rd would make 46) and then 8.
        let words = MailMessage.encodedWord(String(repeating: "ç", count: 30)).components(separatedBy: "\r\n ")
        #expect(words.count == 2)
        let decoded = try words.map { word -> String in
            let b64 = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return String(decoding: try #require(Data(base64Encoded: String(b64))), as: UTF8.self)
        }
        #expect(decoded == [String(repeating: "ç", count: 22), String(repeating: "ç", count: 8)])
    }

    @Test("a line that starts with a period gets one more (RFC 5321 4.5.2)")
    func dotStuffing() {
        #expect(SMTPClient.dotStuffed("a\r\n.b\r\n..c\r\n.\r\n") == "a\r\n..b\r\n...c\r\n..\r\n")
    }

    @Test("addresses that cannot go in an SMTP command as they are")
    func sendable() {
        #expect(MailMessage.isSendable(address: "ana@example.com"))
        for bad in ["", "ana", "a@b@c", "ana @x.com", "ana@x.com>\r\nRCPT TO:<b@y.com", "joão@x.com"] {
            #expect(!MailMessage.isSendable(address: bad), "\(bad)")
        }
        #expect(MailMessage.masked("ana.souza@example.com") == "a***@example.com")
    }

    @Test("an IP address is not a server name for SNI")
    func serverName() {
        #expect(SMTPClient.serverName("127.0.0.1") == nil && SMTPClient.serverName("::1") == nil)
        #expect(SMTPClient.serverName("smtp.example.com") == "smtp.example.com")
    }

    @Test("multi-line replies are one reply, however the bytes arrive")
    func replies() async throws {
        let (stream, continuation) = AsyncThrowingStream<SMTPReply, any Error>.makeStream()
        let channel = EmbeddedChannel(handler: SMTPReplyDecoder(continuation))
        try channel.writeInbound(ByteBuffer(string: "220 ready\r\n250-smtp.example.com\r\n250-STAR"))
        try channel.writeInbound(ByteBuffer(string: "TTLS\r\n250 AUTH PLAIN LOGIN\r\n"))
        var replies = stream.makeAsyncIterator()
        let first = try await replies.next()
        #expect(first?.code == 220 && first?.lines == ["ready"])
        let second = try await replies.next()
        #expect(second?.code == 250 && second?.lines == ["smtp.example.com", "STARTTLS", "AUTH PLAIN LOGIN"])
        _ = try? channel.finish()
    }

    @Test("the message as MIME: the text, the HTML alternative, the attachment, each in base64")
    func mime() {
        let message = MailMessage(fromName: "Loja Exemplo", fromAddress: "cobranca@esteira.test", to: "ana@example.com",
                                  subject: "Boleto", text: "Olá", html: "<p>Olá</p>",
                                  attachments: [.init(fileName: "boleto.html", contentType: "text/html; charset=utf-8", data: Data("<p>b</p>".utf8))],
                                  messageID: "bankslip.1.2@esteira.test", date: Date(timeIntervalSince1970: 0))
        let text = message.rendered(boundary: "B")
        #expect(text.hasPrefix("From: Loja Exemplo <cobranca@esteira.test>\r\nTo: <ana@example.com>\r\nSubject: Boleto\r\n"))
        // 1970-01-01T00:00:00Z in São Paulo (UTC−3 then).
        #expect(text.contains("\r\nDate: Wed, 31 Dec 1969 21:00:00 -0300\r\n"))
        #expect(text.contains("Message-ID: <bankslip.1.2@esteira.test>\r\n"))
        #expect(text.contains("Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: multipart/alternative; boundary=\"B_alt\""))
        // base64 of "Olá" (T2zDoQ==) and of "<p>Olá</p>" (`printf '<p>Olá</p>' | base64` → PHA+T2zDoTwvcD4=).
        #expect(text.contains("Content-Transfer-Encoding: base64\r\n\r\nT2zDoQ==\r\n--B_alt\r\n"))
        #expect(text.contains("PHA+T2zDoTwvcD4=\r\n--B_alt--\r\n"))
        #expect(text.contains("Content-Disposition: attachment; filename=\"boleto.html\"\r\n\r\nPHA+YjwvcD4=\r\n--B--\r\n"))
        #expect(!text.contains("\n\n") && !text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }
}

@Suite("E-mail texts, in Portuguese")
struct EmailTextTests {
    @Test("counts as a Brazilian writes them")
    func counts() {
        #expect(Documents.count(0) == "0")
        #expect(Documents.count(999) == "999")
        #expect(Documents.count(1000) == "1.000")
        #expect(Documents.count(1_234_567) == "1.234.567")
    }

    @Test("a failed batch: the reason, no counts, no reject report")
    func failed() throws {
        let payload = #"{"event": "batch.failed", "batch": {"id": "b1", "status": "failed", "source": "api", "file_name": "x.csv", "counts": {"received": 0, "registered": 0, "duplicates": 0, "rejected": 0, "review": 0}, "error": "O arquivo está vazio."}}"#
        let mail = try BatchEmail.compose(payload: payload, publicURL: "https://e.example/")
        #expect(mail.subject == "Lote x.csv não processado")
        #expect(mail.text.contains("O lote x.csv (b1) não pôde ser processado: O arquivo está vazio."))
        #expect(!mail.text.contains("Recebidas") && !mail.text.contains("rejeitados.csv"))
        #expect(mail.text.contains("Ver o lote: https://e.example/app/lotes/b1\n"))
        #expect(!mail.html.contains("Recebidas") && mail.html.contains("O arquivo está vazio."))
    }

    @Test("a completed batch with 1.500 rows and no public address: counts grouped, no links")
    func completed() throws {
        let payload = #"{"event": "batch.completed", "batch": {"id": "b2", "status": "completed", "source": "sftp", "file_name": null, "counts": {"received": 1500, "registered": 1499, "duplicates": 1, "rejected": 0, "review": 0}}}"#
        let mail = try BatchEmail.compose(payload: payload, publicURL: nil)
        #expect(mail.subject == "Lote sftp processado")
        #expect(mail.text.contains("Recebidas: 1.500\nRegistradas: 1.499\nDuplicadas: 1\nRejeitadas: 0\n"))
        #expect(!mail.text.contains("http"))
    }

    @Test("a file with corrections and withdrawals: their counts between the registered and the duplicates")
    func operations() throws {
        // 10 = 4 registered + 3 updated + 2 withdrawn + 1 duplicate.
        let payload = #"{"event": "batch.completed", "batch": {"id": "b6", "status": "completed", "source": "upload", "file_name": "ops.csv", "counts": {"received": 10, "registered": 4, "updated": 3, "withdrawn": 2, "duplicates": 1, "rejected": 0, "review": 0}}}"#
        let mail = try BatchEmail.compose(payload: payload, publicURL: nil)
        #expect(mail.text.contains("Recebidas: 10\nRegistradas: 4\nAlteradas: 3\nBaixadas: 2\nDuplicadas: 1\nRejeitadas: 0\n"), "\(mail.text)")
    }

    @Test("HTML is escaped: a file name cannot add markup")
    func escaped() throws {
        let payload = #"{"event": "batch.completed", "batch": {"id": "b3", "status": "completed", "source": "api", "file_name": "<b>x</b>.csv", "counts": {"received": 1, "registered": 1, "duplicates": 0, "rejected": 0}}}"#
        let mail = try BatchEmail.compose(payload: payload, publicURL: nil)
        #expect(mail.html.contains("&lt;b&gt;x&lt;/b&gt;.csv") && !mail.html.contains("<b>x</b>"))
    }

    @Test("a dead job's alert: which job, of what, its error, and the command that revives it")
    func deadJob() throws {
        let payload = #"{"event": "job.dead", "job": 42, "kind": "register", "batch_id": "b4", "seq": 3, "attempts": 8, "error": "connection reset"}"#
        let mail = try AlertEmail.compose(payload: payload)
        #expect(mail.subject == "Esteira: tarefa 42 parada depois de 8 tentativas")
        #expect(mail.text.contains("A tarefa 42, registro (register) do lote b4, sub-lote 3, falhou 8 vezes e parou:\n  connection reset\n"))
        #expect(mail.text.contains("esteira jobs retry 42"))
        // A whole batch's step names no sub-batch; a lake step names its run.
        let finalize = try AlertEmail.compose(payload: #"{"event": "job.dead", "job": 7, "kind": "finalize", "batch_id": "b5", "seq": -1, "attempts": 8, "error": "x"}"#)
        #expect(finalize.text.contains("A tarefa 7, fechamento (finalize) do lote b5, falhou") && !finalize.text.contains("sub-lote"))
        let lake = try AlertEmail.compose(payload: #"{"event": "job.dead", "job": 9, "kind": "lake", "batch_id": "r1", "seq": 2, "attempts": 8, "error": "x"}"#)
        #expect(lake.text.contains("etapa do lago (lake) da execução r1, falhou"))
        // The lake's alerts still read as before, now that `month` is optional in the payload.
        let late = try AlertEmail.compose(payload: #"{"event": "lake.files_late", "month": "2026-10", "missing": ["faturas.csv"], "due_day": 5}"#)
        #expect(late.subject == "Lago: arquivos de 2026-10 atrasados")
    }
}
