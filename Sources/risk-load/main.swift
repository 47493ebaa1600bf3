import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// An open-loop load for `POST /v1/risk/analyze`: requests start at a fixed rate whatever the
/// answers do, and each latency is measured from the moment its request was due, so a server
/// that falls behind shows it (no coordinated omission). Prints p50, p99, max and errors.
///
///     risk-load --url http://127.0.0.1:8080/v1/risk/analyze --key est_… [--rate 2000] [--seconds 60] [--documents 50000]
let args = CommandLine.arguments
func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil } }
guard let url = option("--url"), let key = option("--key") else {
    FileHandle.standardError.write(Data("usage: risk-load --url URL --key KEY [--rate N] [--seconds N] [--documents N]\n".utf8))
    exit(2)
}
let rate = Int(option("--rate") ?? "2000") ?? 2000
let seconds = Int(option("--seconds") ?? "60") ?? 60
let documentCount = Int(option("--documents") ?? "50000") ?? 50000

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

var configuration = HTTPClient.Configuration()
configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 4096)
configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

struct Results: Sendable {
    var latenciesMs: [Double] = []
    var errors = 0
    var statuses: [UInt: Int] = [:]
}
let results = Mutex(Results())
let clock = ContinuousClock()
let total = rate * seconds
let start = clock.now + .milliseconds(100)

await withTaskGroup(of: Void.self) { group in
    var next = 0
    while next < total {
        let now = clock.now
        // Start every request that is due by now; then wait a little.
        while next < total, start + .nanoseconds(Int64(next) * 1_000_000_000 / Int64(rate)) <= now {
            let due = start + .nanoseconds(Int64(next) * 1_000_000_000 / Int64(rate))
            let document = documents[next % documents.count]
            let amount = "\(next % 5000 + 1),\(String(format: "%02d", next % 100))"
            group.addTask {
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(key)")
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: #"{"document":"\#(document)","amount":"\#(amount)"}"#))
                var status: UInt = 0
                do {
                    let response = try await client.execute(request, timeout: .seconds(10))
                    _ = try await response.body.collect(upTo: 1 << 20)
                    status = response.status.code
                } catch {
                    status = 0
                }
                let ms = Double((clock.now - due) / .microseconds(1)) / 1000
                results.withLock {
                    $0.latenciesMs.append(ms)
                    $0.statuses[status, default: 0] += 1
                    if status != 200 { $0.errors += 1 }
                }
            }
            next += 1
        }
        try? await Task.sleep(for: .microseconds(500))
    }
    await group.waitForAll()
}
try? await client.shutdown()

let r = results.withLock { $0 }
let sorted = r.latenciesMs.sorted()
func pct(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
let over2s = sorted.filter { $0 > 2000 }.count
func ms(_ v: Double) -> String { String(format: "%.1f ms", v) }
let statuses = r.statuses.sorted { $0.key < $1.key }.map { "\($0.key == 0 ? "none" : String($0.key)):\($0.value)" }.joined(separator: " ")
print("requests \(sorted.count) at \(rate)/s for \(seconds) s: p50 \(ms(pct(0.50))), p99 \(ms(pct(0.99))), max \(ms(sorted.last ?? 0)), over 2 s \(over2s), errors \(r.errors) (statuses \(statuses))")
