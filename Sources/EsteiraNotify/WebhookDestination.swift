import EsteiraCore
import Foundation
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Where a client's webhook may go: only to public addresses, after resolving its host, at
/// registration and again before every delivery (a name can be pointed elsewhere in between).
/// An operator setting (`ESTEIRA_WEBHOOK_ALLOW_PRIVATE=1`) lifts the rule, for a test's receivers
/// on loopback or an agency whose clients' systems share its network. The operators' own alert
/// targets are the agency's and are not checked.
public enum WebhookDestination {
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case unresolvable(host: String)
        case internalAddress(host: String, address: String)

        public var description: String {
            switch self {
            case .unresolvable(let host): return "o endereço \(host) não foi encontrado (DNS)"
            case .internalAddress(let host, let address):
                return "o endereço \(host) aponta para uma rede interna (\(address)); só endereços públicos são aceitos"
            }
        }
    }

    /// Nil when every address the URL's host resolves to is public; else why not.
    public static func check(url: String) async -> Refusal? {
        guard let host = URL(string: url)?.host, !host.isEmpty else { return .unresolvable(host: url) }
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let addresses: [[UInt8]]
        do {
            addresses = try await NIOSingletons.posixBlockingThreadPool.runIfActive { resolve(name) }
        } catch {
            return .unresolvable(host: name)
        }
        guard !addresses.isEmpty else { return .unresolvable(host: name) }
        if let bad = addresses.first(where: { !NetworkAddress.isPublic($0) }) { return .internalAddress(host: name, address: text(bad)) }
        return nil
    }

    /// Every IPv4 and IPv6 address of `host` (an IP literal resolves to itself).
    static func resolve(_ host: String) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var out: [[UInt8]] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            if ai.pointee.ai_family == AF_INET, let sa = ai.pointee.ai_addr {
                var a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                out.append(withUnsafeBytes(of: &a) { Array($0) })
            } else if ai.pointee.ai_family == AF_INET6, let sa = ai.pointee.ai_addr {
                var a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                out.append(withUnsafeBytes(of: &a) { Array($0) })
            }
            cursor = ai.pointee.ai_next
        }
        return out
    }

    static func text(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count, by: 2).map { String(Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
    }
}
