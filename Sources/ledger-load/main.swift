import EsteiraCore
import EsteiraStore
import Foundation
import Logging

/// The ledger's engine under load, in process: `writers` tasks post requests of `batch` entries
/// back to back (closed loop) until `entries` are posted, over `accounts` accounts and the 8 days
/// of the retroactive window, through the same rules and store the API uses. Prints entries a
/// second, the latency of a request (p50, p99, max), and then the reconciliation's differences.
///
///     ledger-load --database-url postgres://… [--writers 8] [--entries 100000] [--accounts 1000] [--batch 1] [--group-commit]
let args = CommandLine.arguments
func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil } }
guard let url = option("--database-url") else {
    FileHandle.standardError.write(Data("usage: ledger-load --database-url URL [--writers N] [--entries N] [--accounts N] [--batch N]\n".utf8))
    exit(2)
}
let writers = Int(option("--writers") ?? "8") ?? 8
let total = Int(option("--entries") ?? "100000") ?? 100_000
let accounts = Int(option("--accounts") ?? "1000") ?? 1000
let batch = Int(option("--batch") ?? "1") ?? 1
let client = Int(option("--client") ?? "\(Int.random(in: 1_000...1_000_000_000))")!
/// Through `LedgerCommitter`, as the API posts: concurrent small requests share a transaction.
let groupCommit = args.contains("--group-commit")

var logger = Logger(label: "ledger-load")
logger.logLevel = .warning
let db = try PostgresDatabase(url: url, logger: logger, maxConnections: writers + 2)

/// Latencies of every request, in microseconds, gathered per writer.
actor Results {
    var latencies: [Int] = []
    func add(_ l: [Int]) { latencies += l }
}

func run() async throws {
    try await Migrations.migrate(db)
    let ledger = LedgerStore(db: db)
    let committer = LedgerCommitter(store: ledger)
    try await ledger.saveEvent(LedgerEvent(code: "BENCH", description: "Benchmark", active: true, allowsDebit: true, allowsCredit: true))
    let today = Day(Date(), in: Day.saoPaulo)
    let rules = LedgerRules(events: try await ledger.eventsByCode(), today: today)
    let results = Results()
    let requestsPerWriter = (total / batch + writers - 1) / writers
    let started = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for w in 0..<writers {
            group.addTask {
                var rng = SystemRandomNumberGenerator()
                var latencies: [Int] = []
                latencies.reserveCapacity(requestsPerWriter)
                for _ in 0..<requestsPerWriter {
                    let inputs = (0..<batch).map { _ in
                        LedgerEntryInput(branch: "0001", account: "A\(Int.random(in: 0..<accounts, using: &rng))", amount: nil,
                                         amountCents: Int64.random(in: 1...100_000, using: &rng), side: Bool.random(using: &rng) ? "C" : "D",
                                         eventCode: "BENCH", description: "writer \(w)", traceKey: UUID().uuidString.lowercased(),
                                         details: nil, referenceDate: today.adding(days: -Int.random(in: 0...7, using: &rng)).iso)
                    }
                    let t0 = ContinuousClock.now
                    let drafts = try rules.check(inputs).get()
                    if groupCommit {
                        _ = try await committer.post(clientNum: client, drafts)
                    } else {
                        _ = try await ledger.post(clientNum: client, drafts)
                    }
                    latencies.append(Int((ContinuousClock.now - t0) / .microseconds(1)))
                }
                await results.add(latencies)
            }
        }
        try await group.waitForAll()
    }
    let elapsed = Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000
    let l = await results.latencies.sorted()
    func ms(_ q: Double) -> String { String(format: "%.1f ms", Double(l[min(l.count - 1, Int(Double(l.count) * q))]) / 1000) }
    let posted = l.count * batch
    print(String(format: "   %d entries in %.1f s: %.0f entries/s; request of %d: p50 %@, p99 %@, max %@",
                 posted, elapsed, Double(posted) / elapsed, batch, ms(0.5), ms(0.99), ms(1.0)))
    let report = try await ledger.reconcile()
    print("   reconciliation: \(report.accounts) accounts, \(report.days) account-days, \(report.differences.count) differences")
}

try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { await db.run() }
    try await run()
    group.cancelAll()
}
