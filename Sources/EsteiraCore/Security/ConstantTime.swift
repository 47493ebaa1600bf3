/// Secrets compared without telling, by how long the comparison takes, how much of a guess was
/// right: every byte is looked at whatever the first difference. (Lengths may differ in time:
/// the tokens compared here have a fixed, public length.)
public enum ConstantTime {
    public static func equal(_ a: String, _ b: String) -> Bool {
        equal(Array(a.utf8), Array(b.utf8))
    }

    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
