import EsteiraCore
import EsteiraTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

@Suite("End to end: a worker-only process is watched and scraped; settings are checked at start", .offSharedPool, .serialized)
struct WorkerMetricsEndToEndTests {
    @Test("esteira worker --metrics-port serves /health and /metrics with its own pipeline counters after a batch")
    func workerMetrics() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start(["ESTEIRA_NO_WORKERS": "1"])
        let worker = try server.startWorkerWithMetrics()

        let health = try await URLSession.shared.data(from: worker.url.appendingPathComponent("health"))
        #expect((health.1 as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: health.0, as: UTF8.self).contains(#""status":"ok""#))

        // Two valid rows and one with an invalid CPF (its check digits are wrong: 248.438.034-81).
        let file = Data("""
            id_divida;nome;cpf;valor;vencimento
            M1;Ana;248.438.034-80;10,00;\(TestCalendar.day(days: -30))
            M2;Bia;529.982.247-25;20,00;\(TestCalendar.day(days: -30))
            M3;Caio;248.438.034-81;30,00;\(TestCalendar.day(days: -30))

            """.utf8)
        let id = try await server.upload(file, key: client.key, name: "m.csv")
        let batch = try await server.waitForBatch(id, key: client.key, timeout: 120)
        #expect(batch.counts["registered"] == 2)

        // The API process ran no job: the counters below can only be the worker's.
        let (body, response) = try await URLSession.shared.data(from: worker.url.appendingPathComponent("metrics"))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let text = String(decoding: body, as: UTF8.self)
        #expect(Self.value(of: "esteira_rows_registered_total", in: text) == 2, "\(text)")
        #expect(Self.value(of: "esteira_rows_rejected_total", in: text) == 1, "\(text)")
        #expect(text.contains("esteira_stage_duration_seconds"))
        // The API's routes are not there.
        let v1 = try await URLSession.shared.data(from: worker.url.appendingPathComponent("v1/batches"))
        #expect((v1.1 as? HTTPURLResponse)?.statusCode == 404)
    }

    /// The sum of a counter's samples over its labels in a Prometheus text exposition.
    static func value(of name: String, in text: String) -> Double? {
        let samples = text.split(separator: "\n").filter { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
        guard !samples.isEmpty else { return nil }
        return samples.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    @Test("a malformed setting stops the process at start, naming the variable", arguments: ["serve", "worker"])
    func malformedSetting(command: String) throws {
        let server = try EsteiraProcess()
        defer { server.removeData() }
        let (status, text) = try EsteiraProcess.output(of: EsteiraProcess.binary, [command],
                                                       environment: ["ESTEIRA_DATA_DIR": server.dataDir, "ESTEIRA_PORT": "abc"], withErrors: true)
        #expect(status != 0)
        #expect(text.contains("ESTEIRA_PORT=abc is not valid: expected a whole number from 0 to 65535"), "\(text)")
    }
}
