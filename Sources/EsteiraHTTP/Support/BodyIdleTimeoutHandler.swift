import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client stops sending a request body it has started: a slow or
/// stalled upload would otherwise hold its connection, and its half-written blob, forever. It
/// counts only while the server waits for bytes it asked for: a route slow to take the body
/// (a blob store under load) stops reading, and that wait is not the client's.
///
/// On close the route's body stream ends with an error; the upload aborts its writer, so nothing
/// is stored.
final class BodyIdleTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let timeout: TimeAmount
    private var inBody = false
    /// When the server last asked for bytes it has not received yet; nil when it has them.
    private var waitingSince: NIODeadline?
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: inBody = true
        case .body: break
        case .end: inBody = false
        }
        waitingSince = nil
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if inBody, waitingSince == nil {
            waitingSince = .now()
            schedule(context, in: timeout)
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    private func schedule(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        guard check == nil else { return }
        check = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: delay) { [self] in
            check = nil
            guard inBody, let since = waitingSince else { return }
            let waited = NIODeadline.now() - since
            if waited >= timeout {
                context.close(promise: nil)
            } else {
                schedule(context, in: timeout - waited)
            }
        }
    }
}
