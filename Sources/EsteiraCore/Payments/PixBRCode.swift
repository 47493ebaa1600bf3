import Foundation

/// The PIX BR Code of a static charge ("copia e cola", and the content of its QR code): EMV
/// merchant-presented TLV fields with a CRC-16/CCITT-FALSE at the end (Banco Central's "Manual
/// de Padrões para Iniciação do Pix"). Pure; no I/O.
public enum PixBRCode {
    public enum Problem: Error, Equatable, Sendable {
        /// A field is empty or too long once written (the field named).
        case badField(String)
    }

    /// The payload for a charge to `key`, of `amountCents` when given (otherwise the payer types
    /// the amount), to `name` in `city` (accents stripped; at most 25 and 15 characters), with
    /// the transaction id `txid` (`[A-Za-z0-9]{1,25}`, or `***` for none).
    public static func payload(key: String, amountCents: Int64?, name: String, city: String, txid: String = "***",
                               info: String? = nil) throws(Problem) -> String {
        try Template(key: key, name: name, city: city, info: info).payload(amountCents: amountCents, txid: txid)
    }

    /// The fields that stay the same for every charge of one beneficiary, written once: a batch
    /// issues a slip for every debt.
    public struct Template: Sendable {
        let head: [UInt8]
        let merchant: [UInt8]

        public init(key: String, name: String, city: String, info: String? = nil) throws(Problem) {
            guard !key.isEmpty else { throw .badField("key") }
            var account = try field("00", "br.gov.bcb.pix") + field("01", key)
            if let info, !info.isEmpty { account += try field("02", plain(info)) }
            head = Array((try field("00", "01") + field("26", account) + field("52", "0000") + field("53", "986")).utf8)
            let shortName = String(plain(name).prefix(25)), shortCity = String(plain(city).prefix(15))
            guard !shortName.isEmpty else { throw .badField("name") }
            guard !shortCity.isEmpty else { throw .badField("city") }
            merchant = Array((try field("58", "BR") + field("59", shortName) + field("60", shortCity)).utf8)
        }

        public func payload(amountCents: Int64?, txid: String = "***") throws(Problem) -> String {
            guard txid == "***" || (1...25).contains(txid.utf8.count) && txid.utf8.allSatisfy(isAlphanumeric) else {
                throw .badField("txid")
            }
            var out = head
            out.reserveCapacity(head.count + merchant.count + 64)
            if let amountCents {
                guard amountCents > 0 else { throw .badField("amount") }
                out += try field("54", Money.decimalString(cents: amountCents)).utf8
            }
            out += merchant
            out += try field("62", field("05", txid)).utf8
            out += "6304".utf8
            out += crcHex(out).utf8
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// One TLV field: id, two-digit length, value.
    static func field(_ id: String, _ value: String) throws(Problem) -> String {
        let n = value.utf8.count
        guard n > 0, n <= 99 else { throw .badField(id) }
        return id + (n < 10 ? "0" : "") + String(n) + value
    }

    static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// Without accents and without characters outside printable ASCII, so that length counts
    /// characters and bytes alike.
    static func plain(_ s: String) -> String {
        var out = ""
        for scalar in s.decomposedStringWithCanonicalMapping.unicodeScalars where scalar.value >= 0x20 && scalar.value < 0x7F {
            out.unicodeScalars.append(scalar)
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    /// CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final xor. A byte
    /// at a time through a table of the 256 remainders (a slip is made for every debt of a batch).
    public static func crc16(_ bytes: [UInt8]) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for b in bytes { crc = (crc << 8) ^ crcTable[Int(UInt8(crc >> 8) ^ b)] }
        return crc
    }

    static let crcTable: [UInt16] = (0..<256).map { n in
        var c = UInt16(n) << 8
        for _ in 0..<8 { c = c & 0x8000 != 0 ? (c << 1) ^ 0x1021 : c << 1 }
        return c
    }

    static func crcHex(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF")
        let c = crc16(bytes)
        return String([hex[Int(c >> 12)], hex[Int(c >> 8 & 0xF)], hex[Int(c >> 4 & 0xF)], hex[Int(c & 0xF)]])
    }
}
