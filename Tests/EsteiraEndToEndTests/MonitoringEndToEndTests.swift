import EsteiraCore
import EsteiraTestSupport
import Foundation
import Testing

/// What docs/operations.md gives operators to watch Esteira with, held to a live `/metrics`.
@Suite("End to end: the Grafana dashboard reads metrics a live process serves", .offSharedPool, .serialized)
struct MonitoringEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The metric names an expression of the dashboard or the rules reads, without a histogram's
    /// `_bucket`, `_count` and `_sum`: the names `# TYPE` announces.
    static func metricNames(in text: String) -> Set<String> {
        var names = Set<String>()
        let regex = /esteira_[a-z_]+/
        for match in text.matches(of: regex) {
            var name = String(match.output)
            for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
            names.insert(name)
        }
        return names
    }

    @Test("every metric deploy/grafana/esteira.json names is in /metrics after one batch")
    func dashboardMetricsExist() async throws {
        let dashboard = try String(contentsOf: Self.repository.appendingPathComponent("deploy/grafana/esteira.json"), encoding: .utf8)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(dashboard.utf8)) as? [String: Any])
        let panels = json["panels"] as? [[String: Any]] ?? []
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        let named = Self.metricNames(in: expressions.joined(separator: "\n"))
        #expect(panels.count >= 10 && named.count >= 15, "\(named)")

        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start()
        // One batch (a row rejected: its CPF's check digits are wrong), so that the pipeline's own
        // counters, which carry the client, have a series.
        let file = Data("id_divida;nome;cpf;valor;vencimento\nG1;Ana;248.438.034-80;10,00;\(TestCalendar.day(days: -30))\nG2;Bia;248.438.034-81;5,00;\(TestCalendar.day(days: -30))\n".utf8)
        let id = try await server.upload(file, key: client.key, name: "g.csv")
        _ = try await server.waitForBatch(id, key: client.key, timeout: 120)
        let metrics = try await server.request("GET", "/metrics", key: nil).body
        let served = Set(metrics.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("# TYPE ") else { return nil }
            return line.split(separator: " ").dropFirst(2).first.map(String.init)
        })
        let missing = named.subtracting(served).sorted()
        #expect(missing.isEmpty, "the dashboard names metrics /metrics does not serve: \(missing)")
        // And the route of a request is its pattern, never its path with an id in it.
        #expect(metrics.contains(#"route="/v1/batches/{id}""#) || metrics.contains(#"route="/v1/batches/:id""#), "\(metrics)")
        #expect(!metrics.contains(id))
    }
}
