import CEsteiraGzip
import Foundation

/// A ZIP archive read through its central directory (PKWARE APPNOTE.TXT 6.3.10), as far as an
/// XLSX needs: stored (method 0) and deflated (method 8) entries, with ZIP64 sizes and offsets.
///
/// Nothing the archive says is believed beyond the file: every offset and size must lie inside
/// it, and an entry is read only up to its compressed size. A deflate stream that has not ended
/// there is refused; a reader that inflated on past the entry waited at the file's end for bytes
/// that never come (the fuzzer's `xlsx` finding, docs/security.md).
struct ZIPArchive {
    struct Entry: Sendable {
        var path: String
        /// General purpose bit flags (APPNOTE 4.4.4); bit 0 marks an encrypted entry.
        var flags: UInt16
        var method: UInt16
        var crc32: UInt32
        var compressedSize: UInt64
        var uncompressedSize: UInt64
        var localHeaderOffset: UInt64
    }

    /// Why the archive, or one of its entries, cannot be read. In Portuguese: it reaches the
    /// client inside the spreadsheet's reason.
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    private let file: FileHandle
    let fileSize: UInt64
    /// Each path's entry; when several share a path, the first in the central directory.
    private let entryOfPath: [String: Entry]

    init(url: URL) throws {
        file = try FileHandle(forReadingFrom: url)
        fileSize = try file.seekToEnd()
        let directory = try Self.centralDirectory(of: file, size: fileSize)
        entryOfPath = Dictionary(try Self.entries(in: directory.bytes, count: directory.count).map { ($0.path, $0) },
                                 uniquingKeysWith: { first, _ in first })
    }

    subscript(path: String) -> Entry? { entryOfPath[path] }

    /// Streams the entry's uncompressed bytes to `consume`, in pieces of at most `pieceSize`,
    /// and returns their CRC-32, for the caller to compare with the entry's.
    func read(_ entry: Entry, pieceSize: Int = 64 << 10, _ consume: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> UInt32 {
        guard entry.flags & 1 == 0 else { throw Problem(description: "a parte \(entry.path) está cifrada") }
        guard entry.method == 0 || entry.method == 8 else {
            throw Problem(description: "a parte \(entry.path) usa um método de compressão que não é lido (\(entry.method))")
        }
        let header = try Self.bytes(of: file, size: fileSize, at: entry.localHeaderOffset, count: 30, "o cabeçalho de \(entry.path)")
        guard header.u32(0) == 0x0403_4B50 else { throw Problem(description: "o cabeçalho de \(entry.path) não está onde o diretório diz") }
        // The data follows the local header's name and extra field, whose lengths may differ
        // from the central directory's (APPNOTE 4.3.7).
        let dataOffset = entry.localHeaderOffset + 30 + UInt64(header.u16(26)) + UInt64(header.u16(28))
        guard entry.compressedSize <= fileSize, dataOffset <= fileSize - entry.compressedSize else {
            throw Problem(description: "a parte \(entry.path) diz ocupar mais bytes do que o arquivo tem")
        }
        try file.seek(toOffset: dataOffset)
        var remaining = entry.compressedSize
        var crc: UInt32 = 0
        func deliver(_ piece: UnsafeBufferPointer<UInt8>) throws {
            crc = esteira_crc32(crc, piece.baseAddress, piece.count)
            try consume(piece)
        }
        guard entry.method == 8 else {
            while remaining > 0 {
                let piece = try nextPiece(of: entry, remaining: &remaining, pieceSize: pieceSize)
                try piece.withUnsafeBytes { try deliver($0.bindMemory(to: UInt8.self)) }
            }
            return crc
        }
        guard let inflater = esteira_inflater_new() else { throw Problem(description: "sem memória para descompactar \(entry.path)") }
        defer { esteira_inflater_free(inflater) }
        var output = [UInt8](repeating: 0, count: pieceSize)
        var ended = false
        while !ended {
            guard remaining > 0 else { throw Problem(description: "os dados compactados de \(entry.path) terminam antes do fim") }
            let input = try nextPiece(of: entry, remaining: &remaining, pieceSize: pieceSize)
            try input.withUnsafeBytes { raw in
                let input = raw.bindMemory(to: UInt8.self)
                var taken = 0
                // zlib may hold output back when the room runs out: go on while input is left
                // or the room was filled.
                var filled = true
                while !ended && (taken < input.count || filled) {
                    var consumed = 0, produced = 0
                    let outcome = output.withUnsafeMutableBufferPointer { out in
                        esteira_inflate(inflater, input.baseAddress.map { $0 + taken }, input.count - taken, &consumed,
                                        out.baseAddress, out.count, &produced)
                    }
                    guard outcome >= 0 else { throw Problem(description: "os dados compactados de \(entry.path) são inválidos") }
                    taken += consumed
                    filled = produced == output.count
                    if produced > 0 {
                        try output.withUnsafeBufferPointer { try deliver(UnsafeBufferPointer(rebasing: $0[..<produced])) }
                    }
                    ended = outcome == 1
                    // Nothing taken and nothing given: zlib wants the next piece.
                    if consumed == 0 && produced == 0 {
                        guard taken == input.count else { throw Problem(description: "os dados compactados de \(entry.path) são inválidos") }
                        break
                    }
                }
            }
        }
        return crc
    }

    /// The next piece of the entry's stored bytes, never past its compressed size.
    private func nextPiece(of entry: Entry, remaining: inout UInt64, pieceSize: Int) throws -> Data {
        let wanted = Int(min(remaining, UInt64(pieceSize)))
        guard let piece = try file.read(upToCount: wanted), piece.count == wanted else {
            throw Problem(description: "o arquivo termina no meio de \(entry.path)")
        }
        remaining -= UInt64(wanted)
        return piece
    }

    /// `count` bytes at `offset`, all inside the file, or the problem naming `what` they are.
    private static func bytes(of file: FileHandle, size: UInt64, at offset: UInt64, count: Int, _ what: String) throws -> LittleEndianBytes {
        guard UInt64(count) <= size, offset <= size - UInt64(count) else {
            throw Problem(description: "\(what) fica fora do arquivo")
        }
        try file.seek(toOffset: offset)
        guard let data = try file.read(upToCount: count), data.count == count else {
            throw Problem(description: "o arquivo termina no meio de \(what)")
        }
        return LittleEndianBytes(Array(data))
    }

    /// The central directory's bytes and its number of entries, found from the end of central
    /// directory record (APPNOTE 4.3.16), and from the ZIP64 one (4.3.14) when its fields are full.
    private static func centralDirectory(of file: FileHandle, size: UInt64) throws -> (bytes: LittleEndianBytes, count: UInt64) {
        // The record is 22 bytes and a comment of at most 65,535 follows it.
        let tailCount = Int(min(size, 22 + 0xFFFF))
        let tail = try bytes(of: file, size: size, at: size - UInt64(tailCount), count: tailCount, "o fim do ZIP")
        guard tailCount >= 22,
              let at = stride(from: tailCount - 22, through: 0, by: -1).first(where: { tail.u32($0) == 0x0605_4B50 }) else {
            throw Problem(description: "não há diretório central (não é um ZIP, ou está incompleto)")
        }
        var count = UInt64(tail.u16(at + 10)), directorySize = UInt64(tail.u32(at + 12)), offset = UInt64(tail.u32(at + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            let recordAt = size - UInt64(tailCount) + UInt64(at)
            guard recordAt >= 20 else { throw Problem(description: "o localizador ZIP64 fica fora do arquivo") }
            let locator = try bytes(of: file, size: size, at: recordAt - 20, count: 20, "o localizador ZIP64")
            guard locator.u32(0) == 0x0706_4B50 else { throw Problem(description: "falta o localizador ZIP64") }
            let record = try bytes(of: file, size: size, at: locator.u64(8), count: 56, "o registro ZIP64")
            guard record.u32(0) == 0x0606_4B50 else { throw Problem(description: "o registro ZIP64 não está onde o localizador diz") }
            count = record.u64(32)
            directorySize = record.u64(40)
            offset = record.u64(48)
        }
        guard directorySize <= size, offset <= size - directorySize else {
            throw Problem(description: "o diretório central fica fora do arquivo")
        }
        // Each entry takes at least 46 bytes: a count the directory cannot hold is a lie.
        guard count <= directorySize / 46 else { throw Problem(description: "o diretório central tem menos entradas do que diz") }
        return (try bytes(of: file, size: size, at: offset, count: Int(directorySize), "o diretório central"), count)
    }

    /// The central directory's file headers (APPNOTE 4.3.12), with ZIP64's extra field (4.5.3)
    /// where a size or offset is full.
    private static func entries(in directory: LittleEndianBytes, count: UInt64) throws -> [Entry] {
        var entries: [Entry] = []
        entries.reserveCapacity(Int(count))
        var at = 0
        for _ in 0..<count {
            guard at + 46 <= directory.count, directory.u32(at) == 0x0201_4B50 else {
                throw Problem(description: "o diretório central está corrompido")
            }
            let nameLength = Int(directory.u16(at + 28)), extraLength = Int(directory.u16(at + 30)), commentLength = Int(directory.u16(at + 32))
            let end = at + 46 + nameLength + extraLength + commentLength
            guard end <= directory.count else { throw Problem(description: "o diretório central está corrompido") }
            var entry = Entry(
                path: String(decoding: directory.bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self),
                flags: directory.u16(at + 8), method: directory.u16(at + 10), crc32: directory.u32(at + 16),
                compressedSize: UInt64(directory.u32(at + 20)), uncompressedSize: UInt64(directory.u32(at + 24)),
                localHeaderOffset: UInt64(directory.u32(at + 42)))
            var field = at + 46 + nameLength
            let extraEnd = field + extraLength
            while field + 4 <= extraEnd {
                let id = directory.u16(field), length = Int(directory.u16(field + 2))
                let dataEnd = min(field + 4 + length, extraEnd)
                if id == 0x0001 {
                    // Only the fields whose header value is full are here, in this order.
                    var value = field + 4
                    func next(_ current: UInt64) -> UInt64 {
                        guard current == 0xFFFF_FFFF, value + 8 <= dataEnd else { return current }
                        defer { value += 8 }
                        return directory.u64(value)
                    }
                    entry.uncompressedSize = next(entry.uncompressedSize)
                    entry.compressedSize = next(entry.compressedSize)
                    entry.localHeaderOffset = next(entry.localHeaderOffset)
                }
                field = dataEnd
            }
            entries.append(entry)
            at = end
        }
        return entries
    }
}

/// Bytes read as little-endian integers (ZIP's order, APPNOTE 4.4.1.1). The caller checks the
/// bounds before it reads.
struct LittleEndianBytes {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var count: Int { bytes.count }

    func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
    func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
}
