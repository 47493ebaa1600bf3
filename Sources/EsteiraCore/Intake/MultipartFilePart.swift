#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `file` field of a multipart/form-data body (RFC 7578, RFC 2046 § 5.1), taken out as the
/// body streams in: each chunk fed answers the file's bytes it held, so that memory stays at one
/// network chunk. Only the first `file` field counts. The body must end with the closing
/// delimiter (`--boundary--`): a body cut before it (a dropped connection, a client that gave up)
/// is not a whole file.
///
/// Our own reader rather than MultipartKit's: the fuzzer (`scripts/fuzz`, target `multipart`)
/// found that MultipartKit 4.7.1 traps on a byte above 127 in a part's header name (its table of
/// allowed characters has 128 entries), which would stop the process on a hostile upload; no
/// fixed version is on the mirror. Without I/O, so that the upload routes and the fuzzer run the
/// same code.
public struct MultipartFilePart: Sendable {
    public enum Problem: Error, Equatable, Sendable {
        /// Not multipart: no delimiter line where one must be, a header line that does not read,
        /// or a part's headers past `maxHeaderBytes`.
        case malformed
        /// No `file` field.
        case missingFile
        /// The body ended before the file part or the closing delimiter.
        case truncated
    }

    /// The most a part's header lines may take.
    public static let maxHeaderBytes = 16 << 10
    /// The most transport padding (spaces and tabs, RFC 2046 § 5.1.1) a delimiter line may carry.
    public static let maxPaddingBytes = 64

    enum State: Sendable { case preamble, afterDelimiter, headers, body, epilogue }

    /// `CRLF--boundary`: what ends a part (and, at the very start of the body, the first line
    /// without its CRLF).
    let delimiter: [UInt8]
    var state = State.preamble
    /// Bytes read but not yet decided on: the tail that may be the start of a delimiter, or
    /// header lines not yet whole.
    var pending: [UInt8]
    var inFile = false
    var sawFile = false
    var fileEnded = false
    var closed = false
    public private(set) var fileName: String?

    public init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may open the body without a CRLF before it.
        pending = [13, 10]
    }

    /// Feeds the next chunk of the body; answers the file's bytes in it. The chunk is bytes in
    /// memory, not any collection of them: a generic method called from another module runs
    /// unspecialized, a witness call per byte of the upload.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(Problem) -> [UInt8] {
        if state == .epilogue { return [] }
        pending.append(contentsOf: bytes)
        return try decide()
    }

    public mutating func feed(_ bytes: ArraySlice<UInt8>) throws(Problem) -> [UInt8] {
        if state == .epilogue { return [] }
        pending.append(contentsOf: bytes)
        return try decide()
    }

    public mutating func feed(_ bytes: [UInt8]) throws(Problem) -> [UInt8] {
        try feed(bytes[...])
    }

    /// Reads on in `pending` as far as it can be decided; answers the file's bytes found.
    mutating func decide() throws(Problem) -> [UInt8] {
        var out: [UInt8] = []
        var at = 0
        loop: while true {
            switch state {
            case .preamble, .body:
                if let found = Self.find(delimiter, in: pending, from: at) {
                    if state == .body {
                        if inFile { out.append(contentsOf: pending[at..<found]) }
                        if inFile { fileEnded = true }
                        inFile = false
                    }
                    at = found + delimiter.count
                    state = .afterDelimiter
                } else {
                    // All but what may be the start of a delimiter is decided.
                    let keep = max(at, pending.count - (delimiter.count - 1))
                    if state == .body && inFile { out.append(contentsOf: pending[at..<keep]) }
                    at = keep
                    break loop
                }
            case .afterDelimiter:
                // `--`: the closing delimiter. Otherwise optional spaces and tabs, then CRLF.
                guard pending.count - at >= 2 else { break loop }
                if pending[at] == 45 && pending[at + 1] == 45 {
                    closed = true
                    state = .epilogue
                    at = pending.count
                    break loop
                }
                var i = at
                while i < pending.count, pending[i] == 32 || pending[i] == 9 { i += 1 }
                // The padding's bound holds whether or not its CRLF has come yet: a bound only
                // while waiting would refuse a body cut inside the padding and take it whole.
                guard i - at <= Self.maxPaddingBytes else { throw .malformed }
                guard i + 1 < pending.count else { break loop }
                guard pending[i] == 13, pending[i + 1] == 10 else { throw .malformed }
                at = i + 2
                state = .headers
            case .headers:
                let end: Int
                if pending.count - at >= 2 && pending[at] == 13 && pending[at + 1] == 10 {
                    end = at  // no header lines
                } else if let found = Self.find([13, 10, 13, 10], in: pending, from: at) {
                    end = found + 2
                } else {
                    // The blank line may be starting in the last three bytes (CR LF CR), so the
                    // headers are past the limit only when even that ending would leave them so.
                    guard pending.count - 1 - at <= Self.maxHeaderBytes else { throw .malformed }
                    break loop
                }
                guard end - at <= Self.maxHeaderBytes else { throw .malformed }
                try headers(pending[at..<end])
                at = end + 2
                state = .body
            case .epilogue:
                at = pending.count
                break loop
            }
        }
        pending.removeFirst(at)
        return out
    }

    /// After the last chunk: the file's name, if the part gave one.
    public func finish() throws(Problem) -> String? {
        guard sawFile else { throw .missingFile }
        guard fileEnded, closed else { throw .truncated }
        return fileName
    }

    /// A part's header lines (each ending in CRLF): a token, a colon, a value. The part is the
    /// file when its Content-Disposition names the field `file` (the first such part only).
    mutating func headers(_ lines: ArraySlice<UInt8>) throws(Problem) {
        var start = lines.startIndex
        while start < lines.endIndex {
            guard let cr = lines[start...].firstIndex(of: 13), cr + 1 < lines.endIndex, lines[cr + 1] == 10 else { throw .malformed }
            let line = lines[start..<cr]
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex,
                  line[..<colon].allSatisfy(Self.isTokenByte) else { throw .malformed }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmedSpaces
            if name == "content-disposition" {
                let params = Self.dispositionParameters(value)
                if params["name"] == "file" && !sawFile {
                    inFile = true
                    sawFile = true
                    fileName = params["filename"]
                }
            }
            start = cr + 2
        }
    }

    /// RFC 9110's token characters, which a header's name is made of.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(b)
        }
    }

    /// `form-data; name="file"; filename="x.csv"` as its parameters, names lowercased.
    public static func dispositionParameters(_ value: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in value.split(separator: ";").dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            var v = String(kv[1]).trimmedSpaces
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            out[String(kv[0]).trimmedSpaces.lowercased()] = v
        }
        return out
    }

    /// Where `needle` first starts in `haystack` at or after `from`: candidates are found by
    /// memchr on the needle's first byte, so a long body is scanned at memory speed.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, haystack.count - from >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { h -> Int? in
            guard let base = h.baseAddress else { return nil }
            var i = from
            let last = h.count - needle.count
            while i <= last {
                guard let p = memchr(base + i, Int32(first), last - i + 1) else { return nil }
                i = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + i, needle, needle.count) == 0 { return i }
                i += 1
            }
            return nil
        }
    }
}
