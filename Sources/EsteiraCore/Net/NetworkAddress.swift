/// Whether an IP address is one a client's webhook may reach: a public address on the internet.
/// Loopback, private (RFC 1918, unique-local), link-local (the cloud's metadata service lives at
/// 169.254.169.254), carrier-grade NAT, multicast, unspecified and reserved ranges are not: a
/// client must never make Esteira call into the agency's own network, nor learn what answers there.
public enum NetworkAddress {
    /// `bytes`: 4 bytes of IPv4 or 16 of IPv6, network order.
    public static func isPublic(_ bytes: [UInt8]) -> Bool {
        switch bytes.count {
        case 4: return isPublicV4(bytes)
        case 16: return isPublicV6(bytes)
        default: return false
        }
    }

    static func isPublicV4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _): return false                  // this network, private, loopback
        case (100, 64...127): return false                             // carrier-grade NAT
        case (169, 254): return false                                  // link-local, the metadata service
        case (172, 16...31), (192, 168): return false                  // private
        case (192, 0) where b[2] == 0 || b[2] == 2: return false       // IETF protocol, TEST-NET-1
        case (198, 18...19): return false                              // benchmarking
        case (198, 51) where b[2] == 100, (203, 0) where b[2] == 113: return false // TEST-NET-2, -3
        case (224...255, _): return false                              // multicast, reserved, broadcast
        default: return true
        }
    }

    static func isPublicV6(_ b: [UInt8]) -> Bool {
        // An IPv4 address mapped into IPv6 (::ffff:a.b.c.d) or translated (64:ff9b::a.b.c.d) is judged as IPv4.
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF { return isPublicV4(Array(b[12...])) }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4..<12].allSatisfy({ $0 == 0 }) {
            return isPublicV4(Array(b[12...]))
        }
        if b[0..<15].allSatisfy({ $0 == 0 }) && (b[15] == 0 || b[15] == 1) { return false } // unspecified, loopback
        if b[0..<12].allSatisfy({ $0 == 0 }) { return false }          // IPv4-compatible, deprecated
        if b[0] & 0xFE == 0xFC { return false }                        // unique local fc00::/7
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return false }        // link-local fe80::/10
        if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return false }        // site-local fec0::/10
        if b[0] == 0xFF { return false }                               // multicast
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return false } // documentation
        return true
    }
}
