import EsteiraCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Bytes sent to the server over a plain socket, as no HTTP client would send them: a broken
/// chunk size, a body cut short, a client that stops halfway. Returns what the server answered
/// before it closed the connection or `wait` ran out, and whether it closed it.
enum RawHTTP {
    struct Exchange {
        var response: String
        var closedByServer: Bool
        var status: Int? { Int(response.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") }
        /// The body after the blank line (not de-chunked: the server's error answers have a length).
        var body: String { response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
    }

    static func exchange(port: Int, _ bytes: [UInt8], halfClose: Bool = false, wait: TimeInterval = 10) throws -> Exchange {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(wait)
        while Date() < deadline {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return Exchange(response: String(decoding: received, as: UTF8.self), closedByServer: true) }
            if n < 0 {
                if errno == ECONNRESET { return Exchange(response: String(decoding: received, as: UTF8.self), closedByServer: true) }
                continue
            }
            received += buffer[0..<n]
        }
        return Exchange(response: String(decoding: received, as: UTF8.self), closedByServer: false)
    }
}
