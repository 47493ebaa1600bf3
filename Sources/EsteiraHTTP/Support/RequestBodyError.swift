import Hummingbird
import NIOCore
import NIOHTTP1

extension RequestBody {
    /// The whole body, at most `limit` bytes; past it, 413 with a JSON body saying the limit
    /// (NIO's own error would answer an empty 413). Every route that reads a body whole reads it here.
    func collect(atMost limit: Int, hint: String = "") async throws -> ByteBuffer {
        do {
            return try await collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(limit, hint: hint)
        }
    }
}

/// Errors that reading a request's body raises when the client sent it broken.
enum RequestBodyError {
    static func isClientsFault(_ error: any Error) -> Bool {
        if error is HTTPParserError { return true }
        if let channel = error as? ChannelError {
            switch channel {
            case .eof, .inputClosed, .outputClosed, .alreadyClosed, .ioOnClosedChannel: return true
            default: return false
            }
        }
        return false
    }
}
