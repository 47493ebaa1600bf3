import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Where and how e-mail leaves: an SMTP server (the agency's relay, SES's SMTP interface, ...).
public struct SMTPSettings: Sendable {
    /// `starttls`: plain connection upgraded with STARTTLS before anything else is said (port 587;
    /// refused when the server does not offer it). `tls`: TLS from the first byte (port 465).
    /// `none`: no encryption, for a relay on the same host or network.
    public enum Security: String, Sendable, CaseIterable { case none, starttls, tls }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// The envelope sender and the `From` address.
    public var from: String
    /// A CA certificate (PEM) trusted besides the system's, for a relay with its own.
    public var caFile: String?
    /// The name said in EHLO.
    public var heloName: String
    /// One whole conversation, from connecting to the server's answer to the message.
    public var timeout: Duration

    public init(host: String, port: Int, security: Security, username: String? = nil, password: String? = nil, from: String,
                caFile: String? = nil, heloName: String = "esteira.localdomain", timeout: Duration = .seconds(30)) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.from = from
        self.caFile = caFile
        self.heloName = heloName
        self.timeout = timeout
    }
}

/// Why a message was not accepted. `permanent` (a 5xx reply, an address that cannot be written
/// in SMTP) means sending again would not help; anything else (4xx, no connection, a timeout)
/// may pass later.
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    public var code: Int?
    public var message: String

    public var permanent: Bool { code.map { (500..<600).contains($0) } ?? false }
    public var description: String { code.map { "\($0) \(message)" } ?? message }
}

/// One reply: its code and its text lines (a multi-line reply has several).
struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]
}

/// Sends messages, one SMTP conversation each (RFC 5321): EHLO, STARTTLS when asked, AUTH PLAIN
/// or LOGIN when there are credentials, MAIL, RCPT, DATA, QUIT. Written on SwiftNIO and NIOSSL.
public struct SMTPClient: Sendable {
    public let settings: SMTPSettings
    let tls: NIOSSLContext?

    public init(settings: SMTPSettings) throws {
        self.settings = settings
        if settings.security == .none {
            tls = nil
        } else {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if let ca = settings.caFile { configuration.additionalTrustRoots = [.file(ca)] }
            tls = try NIOSSLContext(configuration: configuration)
        }
    }

    /// Sends `message` to its recipient; returns when the server has taken responsibility for it
    /// (its 250 to the end of DATA).
    public func send(_ message: MailMessage) async throws {
        for address in [settings.from, message.to] where !MailMessage.isSendable(address: address) {
            throw SMTPError(code: 553, message: "address cannot be written in SMTP: \(MailMessage.masked(address))")
        }
        let timeout = settings.timeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.converse(message) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw SMTPError(code: nil, message: "no answer from \(self.settings.host):\(self.settings.port) in \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    func converse(_ message: MailMessage) async throws {
        let (replies, continuation) = AsyncThrowingStream<SMTPReply, any Error>.makeStream()
        let tls = self.tls
        let implicitTLS = settings.security == .tls
        let sni = Self.serverName(settings.host)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicitTLS, let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: sni))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyDecoder(continuation))
                }
            }
            .connect(host: settings.host, port: settings.port).get()
        defer { channel.close(promise: nil) }
        var conversation = SMTPConversation(channel: channel, replies: replies.makeAsyncIterator())

        try await conversation.expect(220)
        var capabilities = try await conversation.command("EHLO \(settings.heloName)", expect: 250).lines
        if settings.security == .starttls {
            guard capabilities.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                throw SMTPError(code: nil, message: "\(settings.host) does not offer STARTTLS")
            }
            try await conversation.command("STARTTLS", expect: 220)
            guard let tls else { throw SMTPError(code: nil, message: "no TLS context") }
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: sni), position: .first)
            }.get()
            capabilities = try await conversation.command("EHLO \(settings.heloName)", expect: 250).lines
        }
        if let user = settings.username, let password = settings.password {
            let mechanisms = capabilities.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased().split(separator: " ") ?? []
            if mechanisms.contains("PLAIN") || !mechanisms.contains("LOGIN") {
                let token = Data(([0] + Array(user.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                try await conversation.command("AUTH PLAIN \(token)", expect: 235, redacted: "AUTH PLAIN ***")
            } else {
                try await conversation.command("AUTH LOGIN", expect: 334)
                try await conversation.command(Data(user.utf8).base64EncodedString(), expect: 334, redacted: "***")
                try await conversation.command(Data(password.utf8).base64EncodedString(), expect: 235, redacted: "***")
            }
        }
        try await conversation.command("MAIL FROM:<\(settings.from)>", expect: 250)
        try await conversation.command("RCPT TO:<\(message.to)>", expect: 250...251, redacted: "RCPT TO:<\(MailMessage.masked(message.to))>")
        try await conversation.command("DATA", expect: 354)
        try await conversation.send(Self.dotStuffed(message.rendered()) + ".\r\n")
        try await conversation.expect(250)
        // The message is accepted; a failed goodbye changes nothing.
        _ = try? await conversation.command("QUIT", expect: 221)
    }

    /// SNI and certificate checks use a host name; an IP address is checked against the
    /// certificate's IP entries instead.
    static func serverName(_ host: String) -> String? {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 ? nil : host
    }

    /// RFC 5321 4.5.2: a line of the message that starts with a period gets one more.
    static func dotStuffed(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 64)
        var lines = text.components(separatedBy: "\r\n")
        if lines.last == "" { lines.removeLast() }
        for line in lines {
            if line.hasPrefix(".") { out += "." }
            out += line
            out += "\r\n"
        }
        return out
    }
}

/// The client's side of one conversation: a command, then its reply.
struct SMTPConversation {
    let channel: any Channel
    var replies: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator

    mutating func expect(_ codes: ClosedRange<Int>, after command: String = "greeting") async throws -> SMTPReply {
        guard let reply = try await replies.next() else {
            throw SMTPError(code: nil, message: "connection closed waiting for the reply to \(command)")
        }
        guard codes.contains(reply.code) else {
            throw SMTPError(code: reply.code, message: "\(command): \(reply.lines.joined(separator: " "))")
        }
        return reply
    }

    @discardableResult
    mutating func expect(_ code: Int, after command: String = "greeting") async throws -> SMTPReply {
        try await expect(code...code, after: command)
    }

    @discardableResult
    mutating func command(_ line: String, expect codes: ClosedRange<Int>, redacted: String? = nil) async throws -> SMTPReply {
        try await send(line + "\r\n")
        return try await expect(codes, after: redacted ?? line)
    }

    @discardableResult
    mutating func command(_ line: String, expect code: Int, redacted: String? = nil) async throws -> SMTPReply {
        try await command(line, expect: code...code, redacted: redacted)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }
}

/// Cuts the server's bytes into replies: lines `NNN-text` continue a reply, `NNN text` ends it.
final class SMTPReplyDecoder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation
    var pending: [UInt8] = []
    var lines: [String] = []

    init(_ continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var end = newline
            if end > 0 && pending[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let line = String(decoding: pending[..<end], as: UTF8.self)
            pending.removeSubrange(...newline)
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)) else {
                fail(context, SMTPError(code: nil, message: "unreadable reply: \(line.prefix(80))"))
                return
            }
            lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
            if bytes.count == 3 || bytes[3] != UInt8(ascii: "-") {
                continuation.yield(SMTPReply(code: code, lines: lines))
                lines = []
            }
        }
        if pending.count > 64 * 1024 { fail(context, SMTPError(code: nil, message: "reply line too long")) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, error)
    }

    func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
