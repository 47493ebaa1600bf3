import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Stamps each request with the moment its head was read off the connection (a header of
/// Esteira's own, replacing any the client sent), so that a route with a deadline counts from the
/// request's arrival: under load a request can wait for a turn before its handler runs, and that
/// wait belongs inside the deadline.
final class ArrivalStampHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    static let header = HTTPField.Name("X-Esteira-Arrived-Ns")!

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(var head) = unwrapInboundIn(data) {
            head.headerFields[Self.header] = String(NIODeadline.now().uptimeNanoseconds)
            context.fireChannelRead(wrapInboundOut(.head(head)))
            return
        }
        context.fireChannelRead(data)
    }

    /// How long ago the request arrived (zero when it was not stamped, as in a test's router).
    static func waited(_ headers: HTTPFields) -> Duration {
        guard let text = headers[header], let stamp = UInt64(text) else { return .zero }
        let now = NIODeadline.now().uptimeNanoseconds
        return now > stamp ? .nanoseconds(Int64(now - stamp)) : .zero
    }
}
