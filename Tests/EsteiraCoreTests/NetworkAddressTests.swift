import EsteiraCore
import Testing

@Suite("Which addresses a client's webhook may reach")
struct NetworkAddressTests {
    // The ranges of RFC 6890 (special-purpose registries) and RFC 4193 / 4291, one address each.
    @Test("not public: loopback, private, link-local, CGNAT, multicast, unspecified, mapped and translated private", arguments: [
        [127, 0, 0, 1], [10, 1, 2, 3], [172, 16, 0, 1], [172, 31, 255, 255], [192, 168, 0, 1], [169, 254, 169, 254],
        [100, 64, 0, 1], [0, 0, 0, 0], [224, 0, 0, 1], [255, 255, 255, 255], [198, 18, 0, 1],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],                         // ::1
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],                         // ::
        [0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],                   // fe80::1
        [0xFD, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],                   // fd12::1
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 1],                 // ::ffff:127.0.0.1
        [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1],               // 64:ff9b::10.0.0.1
    ] as [[UInt8]])
    func notPublic(_ address: [UInt8]) {
        #expect(!NetworkAddress.isPublic(address))
    }

    @Test("public", arguments: [
        [8, 8, 8, 8], [200, 147, 3, 157], [172, 32, 0, 1], [100, 128, 0, 1],
        [0x20, 0x01, 0x48, 0x60, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x88], // 2001:4860:4860::8888
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 8, 8, 4, 4],                   // ::ffff:8.8.4.4
    ] as [[UInt8]])
    func isPublic(_ address: [UInt8]) {
        #expect(NetworkAddress.isPublic(address))
    }
}
