import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation
import Synchronization

/// Each client's limits: requests per second to the API, and rows a day by every channel. A
/// client's own (set by operators) or the agency's defaults.
///
/// Rows a day hold across every process: they are counted in the database, one conditional
/// update per file or single debt (`ClientUsage`). Requests per second are counted in each API
/// process's memory, a bucket per client: counting them in the database would be a write on
/// every request, the very load the limit is there to keep off. With N API processes behind a
/// balancer a client may get up to N times its rate; set it with that in mind (docs/security.md).
public final class ClientQuotas: Sendable {
    public let defaultRequestsPerSecond: Int
    public let defaultRowsPerDay: Int
    private let buckets = Mutex<[String: TokenBucket]>([:])
    private let clock = MonotonicSeconds()

    public init(requestsPerSecond: Int = 50, rowsPerDay: Int = 20_000_000) {
        defaultRequestsPerSecond = requestsPerSecond
        defaultRowsPerDay = rowsPerDay
    }

    func rowsPerDay(_ client: ClientRecord) -> Int { client.rowsPerDay ?? defaultRowsPerDay }
    func requestsPerSecond(_ client: ClientRecord) -> Int { client.requestsPerSecond ?? defaultRequestsPerSecond }


    /// Takes one of the client's requests of this second, or refuses with 429. The bucket holds
    /// two seconds' worth, so a client may burst a little above its rate.
    func take(_ client: ClientRecord) throws {
        let rate = Double(requestsPerSecond(client)), burst = max(1, 2 * rate), now = clock.now
        let wait = buckets.withLock { all -> Double? in
            var bucket = all[client.id] ?? TokenBucket(burst: burst, at: now)
            let wait = bucket.take(at: now, rate: rate, burst: burst)
            all[client.id] = bucket
            return wait
        }
        if let wait {
            let after = max(1, Int(wait.rounded(.up)))
            throw APIError.tooMany("rate_limited", retryAfter: after,
                                   "Muitas requisições: o limite deste cliente é de \(Int(rate)) por segundo. Tente de novo em \(after) s.")
        }
    }

    /// 429 for a client whose rows of the day are used up, or would be by what it sent.
    static func exceeded(limit: Int, used: Int? = nil, wouldAdd: Int? = nil, now: Date = Date()) -> APIError {
        var text = "A cota diária deste cliente é de \(DigitGroups.grouped(limit, separator: ".")) linhas"
        if let used { text += " e \(DigitGroups.grouped(used, separator: ".")) já foram recebidas hoje" }
        if let wouldAdd { text += "; este envio tem ao menos \(DigitGroups.grouped(wouldAdd, separator: ".")) linhas e passaria dela" }
        text += ". Nada foi guardado. A cota recomeça à meia-noite (horário de Brasília); para aumentá-la, fale com a operação."
        return APIError.tooMany("quota_exceeded", retryAfter: ClientUsage.secondsToNextDay(from: now), text)
    }
}

/// Counts an upload's lines as it streams, and refuses it as soon as they pass what is left of
/// the client's rows of the day, before anything is kept. A spreadsheet (a ZIP or an old Excel
/// file) is not counted here: its rows are counted when it is read (F015).
final class QuotaCountingWriter: BlobWriter, Sendable {
    let inner: any BlobWriter
    let limit: Int
    let used: Int
    /// Lines that are not records: a header, and lines the client's format skips.
    let nonRecords: Int
    private let state = Mutex<(counter: LineCounter, first: [UInt8], spreadsheet: Bool?)>((LineCounter(), [], nil))

    init(_ inner: any BlobWriter, limit: Int, used: Int, nonRecords: Int) {
        self.inner = inner
        self.limit = limit
        self.used = used
        self.nonRecords = nonRecords
    }

    /// The records the file may hold at most, or nil for a spreadsheet.
    var records: Int? {
        state.withLock { s in s.spreadsheet == true ? nil : max(0, s.counter.total - nonRecords) }
    }

    func write(_ bytes: [UInt8]) async throws {
        let over = state.withLock { s -> Int? in
            if s.spreadsheet == nil {
                s.first += bytes.prefix(4 - s.first.count)
                if s.first.count == 4 || bytes.isEmpty {
                    s.spreadsheet = s.first == [0x50, 0x4B, 0x03, 0x04] || s.first == [0xD0, 0xCF, 0x11, 0xE0]
                }
            }
            guard s.spreadsheet != true else { return nil }
            s.counter.add(bytes)
            // Lines ended so far: the last one may still be growing, and a header is not a record.
            let records = s.counter.lineFeeds - nonRecords
            return used + records > limit ? records : nil
        }
        if let over { throw ClientQuotas.exceeded(limit: limit, used: used, wouldAdd: over) }
        try await inner.write(bytes)
    }

    func finish() async throws -> Int {
        if let records, used + records > limit { throw ClientQuotas.exceeded(limit: limit, used: used, wouldAdd: records) }
        return try await inner.finish()
    }

    func abort() async { await inner.abort() }
}
