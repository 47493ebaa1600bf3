import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with an interim `100 Continue`, so that clients which ask before
/// sending a large body (curl does above 1 MiB) start at once instead of waiting a second for an
/// answer that would never come. A request with no `Authorization` header gets no `100`: its 401
/// goes out before the body is sent. (A present but wrong key is only found out by the route,
/// after the body; checking it here would need the database on the event loop.)
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(var head) = unwrapInboundIn(data), head.headerFields[.expect]?.lowercased() == "100-continue" {
            head.headerFields[.expect] = nil
            if head.headerFields[.authorization] != nil {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
            context.fireChannelRead(wrapInboundOut(.head(head)))
            return
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
    }
}

extension EsteiraAPI {
    /// HTTP/1.1 with the handlers Esteira adds. `bodyIdleSeconds`: how long a client may stall in
    /// the middle of a body before its connection is closed; `idleSeconds`: how long a connection
    /// may sit between requests; `tls`: HTTPS instead of HTTP.
    public static func server(bodyIdleSeconds: Double = 60, idleSeconds: Double = 120, tls: ServerTLS? = nil) throws -> HTTPServerBuilder {
        let http: HTTPServerBuilder = .http1(configuration: .init(
            additionalChannelHandlers: [ArrivalStampHandler(), ExpectContinueHandler(),
                                        BodyIdleTimeoutHandler(timeout: .nanoseconds(Int64(bodyIdleSeconds * 1e9)))],
            idleTimeout: .nanoseconds(Int64(idleSeconds * 1e9))))
        guard let tls else { return http }
        return try .tls(http, tlsConfiguration: tls.configuration)
    }
}
