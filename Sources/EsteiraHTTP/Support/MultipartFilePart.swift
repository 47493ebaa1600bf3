import MultipartKit
import NIOCore

/// The `file` field of a multipart/form-data body, taken out as the body streams in: each chunk
/// fed answers the file's bytes it held, so that memory stays at one network chunk. Only the
/// first `file` field counts. The body must end with the closing delimiter (`--boundary--`): a body
/// cut before it (a dropped connection, a client that gave up) is not a whole file.
///
/// Without I/O, so that the upload routes and the fuzzer (`scripts/fuzz`, target `multipart`)
/// run the same code.
final class MultipartFilePart {
    enum Problem: Error, Equatable {
        /// The parser could not read the body.
        case malformed
        /// No `file` field.
        case missingFile
        /// The body ended before the file part or the closing delimiter.
        case truncated
    }

    private let parser: MultipartParser
    private let closing: [UInt8]
    private var tail: [UInt8] = []
    private var closed = false
    private var inFile = false
    private var sawFile = false
    private var fileEnded = false
    private var pending: [UInt8] = []
    private(set) var fileName: String?

    init(boundary: String) {
        parser = MultipartParser(boundary: boundary)
        closing = Array("--\(boundary)--".utf8)
        parser.onHeader = { [unowned self] name, value in
            guard name.lowercased() == "content-disposition" else { return }
            let params = Self.dispositionParameters(value)
            if params["name"] == "file" && !sawFile {
                inFile = true
                sawFile = true
                fileName = params["filename"]
            }
        }
        parser.onBody = { [unowned self] buffer in
            if inFile { pending.append(contentsOf: buffer.readableBytesView) }
        }
        parser.onPartComplete = { [unowned self] in
            if inFile { fileEnded = true }
            inFile = false
        }
    }

    /// Feeds the next chunk of the body; answers the file's bytes in it.
    func feed(_ buffer: ByteBuffer) throws(Problem) -> [UInt8] {
        do {
            try parser.execute(buffer)
        } catch {
            throw .malformed
        }
        if !closed {
            tail += buffer.readableBytesView
            if tail.firstRange(of: closing) != nil { closed = true }
            tail = Array(tail.suffix(closing.count - 1))
        }
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    /// After the last chunk: the file's name, if the part gave one.
    func finish() throws(Problem) -> String? {
        guard sawFile else { throw .missingFile }
        guard fileEnded, closed else { throw .truncated }
        return fileName
    }

    /// `form-data; name="file"; filename="x.csv"` as its parameters, names lowercased.
    static func dispositionParameters(_ value: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in value.split(separator: ";").dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            var v = kv[1].trimmingCharacters(in: .whitespaces)
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            out[kv[0].trimmingCharacters(in: .whitespaces).lowercased()] = v
        }
        return out
    }
}
