#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEsteiraShims
import Foundation

/// Blobs as files under a folder. A blob is written to a temporary name, fsynced and renamed, so a
/// crash never leaves half a file under a real key.
public struct LocalBlobStore: BlobStore {
    public let root: String

    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func path(_ key: String) throws -> String {
        try BlobKeys.check(key)
        return root + "/" + key
    }

    static func errno(_ what: String, _ key: String) -> BlobError {
        let code = Glibc.errno
        return BlobError(code: code == ENOENT ? .notFound : .io, key: key, detail: "\(what): \(String(cString: strerror(code)))")
    }

    public func makeWriter(key: String) async throws -> any BlobWriter {
        let final = try path(key)
        try FileManager.default.createDirectory(atPath: (final as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let temp = final + ".part-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw LocalBlobStore.errno("open", key) }
        return LocalBlobWriter(fd: fd, temp: temp, final: final, key: key)
    }

    public func put(key: String, bytes: [UInt8]) async throws {
        try await putThroughWriter(key: key, bytes: bytes)
    }

    public func read(key: String, offset: Int, length: Int) async throws -> [UInt8] {
        let p = try path(key)
        let fd = open(p, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LocalBlobStore.errno("open", key) }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: length)
        var got = 0
        while got < length {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, length - got, off_t(offset + got)) }
            if n < 0 { if Glibc.errno == EINTR { continue }; throw LocalBlobStore.errno("read", key) }
            if n == 0 { break }
            got += n
        }
        out.removeLast(length - got)
        return out
    }

    public func readAll(key: String) async throws -> [UInt8] {
        try await read(key: key, offset: 0, length: try await size(key: key))
    }

    public func size(key: String) async throws -> Int {
        var st = stat()
        guard stat(try path(key), &st) == 0 else { throw LocalBlobStore.errno("stat", key) }
        return Int(st.st_size)
    }

    public func list(prefix: String) async throws -> [BlobEntry] {
        let folder = root + "/" + prefix
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        var out: [BlobEntry] = []
        while let relative = walker.nextObject() as? String {
            let attributes = walker.fileAttributes
            guard attributes?[.type] as? FileAttributeType == .typeRegular else { continue }
            // A writer's temporary file (`<key>.part-<n>`) is not a blob until it is renamed into place.
            if relative.split(separator: "/").last?.contains(".part-") == true { continue }
            out.append(BlobEntry(key: prefix + relative, size: (attributes?[.size] as? NSNumber)?.intValue ?? 0))
        }
        return out.sorted { $0.key < $1.key }
    }

    public func delete(key: String) async throws {
        if unlink(try path(key)) != 0 && Glibc.errno != ENOENT { throw LocalBlobStore.errno("unlink", key) }
    }
}

final class LocalBlobWriter: BlobWriter, @unchecked Sendable {
    // @unchecked: a writer is used by one task at a time (the upload that made it); the lock
    // guards against a misuse turning into a corrupt file rather than proving a data race absent.
    private let lock = NSLock()
    private let fd: Int32
    private let temp: String
    private let final: String
    private let key: String
    private var size = 0
    private var closed = false
    /// Bytes written but not yet asked to go to disk.
    private var unsynced = 0
    /// Once this much is written, the kernel is asked to start writing it out (without waiting),
    /// so that the fsync that makes the upload durable has little left to do.
    static let writebackEvery = 8 << 20

    init(fd: Int32, temp: String, final: String, key: String) {
        self.fd = fd
        self.temp = temp
        self.final = final
        self.key = key
    }

    func write(_ bytes: [UInt8]) async throws {
        try lock.withLock {
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
                if n < 0 { if Glibc.errno == EINTR { continue }; throw LocalBlobStore.errno("write", key) }
                done += n
            }
            size += bytes.count
            unsynced += bytes.count
            if unsynced >= LocalBlobWriter.writebackEvery {
                _ = esteira_start_writeback(fd, Int64(size - unsynced), Int64(unsynced))
                unsynced = 0
            }
        }
    }

    func finish() async throws -> Int {
        try lock.withLock {
            guard !closed else { return size }
            closed = true
            guard fsync(fd) == 0 else { close(fd); unlink(temp); throw LocalBlobStore.errno("fsync", key) }
            close(fd)
            guard rename(temp, final) == 0 else { unlink(temp); throw LocalBlobStore.errno("rename", key) }
            // The rename itself is made durable by syncing the folder.
            let dir = open((final as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY)
            if dir >= 0 { fsync(dir); close(dir) }
            return size
        }
    }

    func abort() async {
        lock.withLock {
            guard !closed else { return }
            closed = true
            close(fd)
            unlink(temp)
        }
    }

    deinit {
        if !closed { close(fd); unlink(temp) }
    }
}
