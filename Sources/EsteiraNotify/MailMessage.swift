import Foundation

/// An e-mail in Internet Message Format (RFC 5322) with MIME: a plain-text body, an HTML
/// alternative, and attachments. Text is UTF-8, bodies in base64 (lines of 76), header words
/// with other than plain ASCII as RFC 2047 encoded words.
public struct MailMessage: Sendable {
    public struct Attachment: Sendable {
        public var fileName: String
        public var contentType: String
        public var data: Data

        public init(fileName: String, contentType: String, data: Data) {
            self.fileName = fileName
            self.contentType = contentType
            self.data = data
        }
    }

    public var fromName: String
    public var fromAddress: String
    public var to: String
    public var subject: String
    public var text: String
    public var html: String?
    public var attachments: [Attachment]
    /// Stable for one notification, the same on every attempt: a receiver can drop repeats.
    public var messageID: String
    public var date: Date
    public var headers: [(name: String, value: String)]

    public init(fromName: String, fromAddress: String, to: String, subject: String, text: String, html: String? = nil,
                attachments: [Attachment] = [], messageID: String, date: Date = Date(), headers: [(name: String, value: String)] = []) {
        self.fromName = fromName
        self.fromAddress = fromAddress
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.attachments = attachments
        self.messageID = messageID
        self.date = date
        self.headers = headers
    }

    /// The message's bytes, lines ending in CRLF.
    public func rendered(boundary: String = "=_esteira_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")) -> String {
        var out = ""
        func header(_ name: String, _ value: String) { out += "\(name): \(value)\r\n" }
        header("From", "\(Self.encodedWord(fromName)) <\(fromAddress)>")
        header("To", "<\(to)>")
        header("Subject", Self.encodedWord(subject))
        header("Date", Self.dateFormatter.string(from: date))
        header("Message-ID", "<\(messageID)>")
        header("MIME-Version", "1.0")
        header("Auto-Submitted", "auto-generated")
        for h in headers { header(h.name, Self.encodedWord(h.value)) }

        let textPart = Self.part(contentType: "text/plain; charset=utf-8", data: Data(text.utf8))
        var body: String
        if let html {
            let alternative = boundary + "_alt"
            body = "Content-Type: multipart/alternative; boundary=\"\(alternative)\"\r\n\r\n"
                + "--\(alternative)\r\n" + textPart
                + "--\(alternative)\r\n" + Self.part(contentType: "text/html; charset=utf-8", data: Data(html.utf8))
                + "--\(alternative)--\r\n"
        } else {
            body = textPart
        }
        if attachments.isEmpty {
            out += body
        } else {
            out += "Content-Type: multipart/mixed; boundary=\"\(boundary)\"\r\n\r\n"
            out += "--\(boundary)\r\n" + body
            for a in attachments {
                let name = Self.encodedWord(a.fileName)
                out += "--\(boundary)\r\n"
                out += Self.part(contentType: "\(a.contentType); name=\"\(name)\"", data: a.data,
                                 extra: "Content-Disposition: attachment; filename=\"\(name)\"\r\n")
            }
            out += "--\(boundary)--\r\n"
        }
        return out
    }

    static func part(contentType: String, data: Data, extra: String = "") -> String {
        "Content-Type: \(contentType)\r\nContent-Transfer-Encoding: base64\r\n\(extra)\r\n"
            + data.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]) + "\r\n"
    }

    /// A header text as is when it is plain printable ASCII, else as UTF-8 encoded words of at most
    /// 45 bytes each (60 in base64, so a folded line stays under 78), never cutting a character.
    /// Line breaks and other control characters become spaces: a header cannot be split by data.
    static func encodedWord(_ value: String) -> String {
        let clean = String(String.UnicodeScalarView(value.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        if clean.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && !clean.contains("=?") && clean.utf8.count <= 900 {
            return clean
        }
        var words: [String] = []
        var chunk: [UInt8] = []
        for ch in clean {
            let bytes = Array(String(ch).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: "\r\n ")
    }

    /// Whether an address can go in `MAIL FROM:<…>` / `RCPT TO:<…>` and `To: <…>` as is: printable
    /// ASCII, one `@`, nothing that ends the command or the brackets.
    public static func isSendable(address: String) -> Bool {
        let bytes = Array(address.utf8)
        return !bytes.isEmpty && bytes.count <= 254 && bytes.filter { $0 == UInt8(ascii: "@") }.count == 1
            && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
    }

    /// An address for logs: its first letter and domain (`a***@example.com`).
    public static func masked(_ address: String) -> String {
        guard let at = address.firstIndex(of: "@") else { return "***" }
        return String(address.prefix(1)) + "***" + address[at...]
    }

    static let dateFormatter: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "America/Sao_Paulo")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return f
    }()
}
