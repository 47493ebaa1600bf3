import Foundation
import NIOCore
import NIOPosix

/// An open-loop load for `POST /v1/risk/analyze`: requests start at a fixed rate whatever the
/// answers do, and each latency is measured from the moment its request was due, so a server
/// that falls behind shows it (no coordinated omission). Prints p50, p99, max and errors.
///
///     risk-load --url http://127.0.0.1:8080/v1/risk/analyze --key est_… [--rate 2000] [--seconds 60] [--documents 50000]
///
/// It shares the benchmark's two cores with the server and the stand-in, so it is written to cost
/// little: one event-loop thread, HTTP/1.1 keep-alive connections (one request in flight on
/// each, never pipelined), requests written as prepared bytes, and only the status line and
/// Content-Length of each answer read. (A first version on AsyncHTTPClient cost enough CPU per
/// request to take a large share of the machine from the server it measured.)
let args = CommandLine.arguments
func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil } }
guard let urlText = option("--url"), let url = URL(string: urlText), url.host != nil, option("--key") != nil else {
    FileHandle.standardError.write(Data("usage: risk-load --url URL --key KEY [--rate N] [--seconds N] [--documents N]\n".utf8))
    exit(2)
}
let host = url.host!
let key = option("--key")!
let port = url.port ?? 80
let path = url.path.isEmpty ? "/" : url.path
let rate = Int(option("--rate") ?? "2000") ?? 2000
let seconds = Int(option("--seconds") ?? "60") ?? 60
let documentCount = Int(option("--documents") ?? "50000") ?? 50000
/// An answer not complete after this long counts as an error, and its connection is dropped.
let requestTimeout = TimeAmount.seconds(10)
let maxConnections = 4000

/// Valid CPFs: nine digits and their two check digits (Receita Federal's mod-11 rule).
func cpf(_ n: Int) -> String {
    var digits = String(format: "%09d", n % 999_999_999).compactMap { $0.wholeNumberValue }
    for weights in [Array((2...10).reversed()), Array((2...11).reversed())] {
        let r = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 } % 11
        digits.append(r < 2 ? 0 : 11 - r)
    }
    return digits.map(String.init).joined()
}
let documents = (0..<documentCount).map { cpf($0 * 7919 + 13) }

@Sendable func request(_ i: Int) -> ByteBuffer {
    let amount = "\(i % 5000 + 1),\(i % 100 < 10 ? "0" : "")\(i % 100)"
    let body = #"{"document":"\#(documents[i % documents.count])","amount":"\#(amount)"}"#
    let head = "POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nAuthorization: Bearer \(key)\r\n"
        + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
    return ByteBuffer(string: head + body)
}

// Enough file descriptors for every connection.
var limit = rlimit()
getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
limit.rlim_cur = max(limit.rlim_cur, min(limit.rlim_max, rlim_t(maxConnections + 100)))
setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)

/// The whole run, confined to one event loop: only its thread touches it.
final class Load: @unchecked Sendable {
    let loop: any EventLoop
    let total: Int
    let start: NIODeadline
    let interval: Int64
    var next = 0
    var finished = 0
    var latenciesMs: [Double] = []
    var statuses: [Int: Int] = [:]
    var errors = 0
    var idle: [Connection] = []
    var busy: Set<ObjectIdentifier> = []
    var busyConnections: [ObjectIdentifier: Connection] = [:]
    var connections = 0
    /// Due requests waiting for a connection (at the cap).
    var waiting: [(index: Int, due: NIODeadline)] = []
    let done: EventLoopPromise<Void>

    init(loop: any EventLoop, total: Int, rate: Int) {
        self.loop = loop
        self.total = total
        start = .now() + .milliseconds(100)
        interval = 1_000_000_000 / Int64(rate)
        done = loop.makePromise()
        latenciesMs.reserveCapacity(total)
    }

    func due(_ i: Int) -> NIODeadline { start + .nanoseconds(Int64(i) * interval) }

    /// Starts every request due by now, then looks again shortly.
    func tick() {
        let now = NIODeadline.now()
        while next < total, due(next) <= now {
            send(next, due: due(next))
            next += 1
        }
        for connection in busyConnections.values where now - connection.due! > requestTimeout {
            connection.channel.close(promise: nil)
        }
        if next < total || finished < total {
            loop.scheduleTask(in: .microseconds(200)) { self.tick() }
        }
    }

    func send(_ i: Int, due: NIODeadline) {
        if let connection = idle.popLast() {
            connection.send(request(i), due: due, load: self)
            busyConnections[ObjectIdentifier(connection)] = connection
            return
        }
        guard connections < maxConnections else {
            waiting.append((i, due))
            return
        }
        connections += 1
        let connection = Connection()
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ResponseReader(connection, self)) }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    connection.channel = channel
                    connection.send(request(i), due: due, load: self)
                    self.busyConnections[ObjectIdentifier(connection)] = connection
                case .failure:
                    self.connections -= 1
                    self.record(status: 0, due: due)
                }
            }
    }

    func record(status: Int, due: NIODeadline) {
        latenciesMs.append(Double((NIODeadline.now() - due).nanoseconds) / 1_000_000)
        statuses[status, default: 0] += 1
        if status != 200 { errors += 1 }
        finished += 1
        if finished == total { done.succeed() }
    }

    func answered(_ connection: Connection, status: Int) {
        guard let due = connection.due else { return }
        connection.due = nil
        busyConnections[ObjectIdentifier(connection)] = nil
        record(status: status, due: due)
        if !waiting.isEmpty {
            let (i, due) = waiting.removeFirst()
            connection.send(request(i), due: due, load: self)
            busyConnections[ObjectIdentifier(connection)] = connection
        } else {
            idle.append(connection)
        }
    }

    func closed(_ connection: Connection) {
        connections -= 1
        idle.removeAll { $0 === connection }
        busyConnections[ObjectIdentifier(connection)] = nil
        if let due = connection.due {
            connection.due = nil
            record(status: 0, due: due)
        }
    }
}

final class Connection: @unchecked Sendable {
    var channel: (any Channel)!
    /// When the request in flight was due; nil when idle.
    var due: NIODeadline?

    func send(_ bytes: ByteBuffer, due: NIODeadline, load: Load) {
        self.due = due
        channel.writeAndFlush(bytes, promise: nil)
    }
}

/// Reads answers: the status code from the status line, the body's length from Content-Length.
final class ResponseReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let connection: Connection
    let load: Load
    var buffer = ByteBuffer()

    init(_ connection: Connection, _ load: Load) {
        self.connection = connection
        self.load = load
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        buffer.writeBuffer(&chunk)
        while let (status, length) = Self.head(buffer) {
            guard buffer.readableBytes >= length else { return }
            buffer.moveReaderIndex(forwardBy: length)
            buffer.discardReadBytes()
            load.answered(connection, status: status)
        }
    }

    /// The status and the whole answer's length, once its head is complete.
    static func head(_ buffer: ByteBuffer) -> (status: Int, length: Int)? {
        buffer.withUnsafeReadableBytes { raw -> (Int, Int)? in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard bytes.count >= 16 else { return nil }
            var end = -1
            var i = 3
            while i < bytes.count {
                if bytes[i] == 10, bytes[i - 1] == 13, bytes[i - 2] == 10, bytes[i - 3] == 13 { end = i + 1; break }
                i += 1
            }
            guard end > 0 else { return nil }
            let head = String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
            let status = Int(head.dropFirst(9).prefix(3)) ?? 0
            var bodyLength = 0
            for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                bodyLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
            }
            return (status, end + bodyLength)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        load.closed(connection)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let loop = group.next()
let load = Load(loop: loop, total: rate * seconds, rate: rate)
loop.execute { load.tick() }
try await load.done.futureResult.get()
let (latencies, statuses, errors) = try await loop.submit { (load.latenciesMs, load.statuses, load.errors) }.get()
try await group.shutdownGracefully()

let sorted = latencies.sorted()
func pct(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
let over2s = sorted.filter { $0 > 2000 }.count
func ms(_ v: Double) -> String { String(format: "%.1f ms", v) }
let statusText = statuses.sorted { $0.key < $1.key }.map { "\($0.key == 0 ? "none" : String($0.key)):\($0.value)" }.joined(separator: " ")
print("requests \(sorted.count) at \(rate)/s for \(seconds) s: p50 \(ms(pct(0.50))), p99 \(ms(pct(0.99))), max \(ms(sorted.last ?? 0)), over 2 s \(over2s), errors \(errors) (statuses \(statusText))")
