import EsteiraCore
import Foundation
import Testing

@Suite("End to end: the priority of a worker's parsing threads", .offSharedPool, .serialized)
struct WorkerPriorityEndToEndTests {
    /// The nice value of each of a process's threads whose name starts with `prefix`, as the kernel
    /// reports it in /proc (field 19 of each thread's stat, counted after the name in parentheses).
    static func niceValues(pid: Int32, threadsNamed prefix: String) throws -> [Int] {
        let tasks = "/proc/\(pid)/task"
        return try FileManager.default.contentsOfDirectory(atPath: tasks).compactMap { tid in
            let comm = (try? String(contentsOfFile: "\(tasks)/\(tid)/comm", encoding: .utf8)) ?? ""
            guard comm.hasPrefix(prefix), let stat = try? String(contentsOfFile: "\(tasks)/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // After ")": state is field 3, so nice (field 19) is the 17th.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 16 ? Int(fields[16]) : nil
        }
    }

    @Test("ESTEIRA_CPU_NICE sets the nice value of the threads that parse and encode sub-batches, and nothing else's")
    func niceOfParsingThreads() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start(["ESTEIRA_NO_WORKERS": "1"])
        let worker = try server.startWorker(["ESTEIRA_CPU_NICE": "7"])
        let file = Data("id_divida;nome;cpf;valor;vencimento\nN1;Ana;248.438.034-80;10,00;2024-01-01\n".utf8)
        let id = try await server.upload(file, key: client.key, name: "n.csv")
        let batch = try await server.waitForBatch(id, key: client.key, timeout: 120)
        #expect(batch.counts["registered"] == 1)

        // The transform and register stages ran on the pool ("TP-#0", "TP-#1", …: NIO's names for
        // a thread pool's threads); each thread that ran one is at 7. The process's other threads
        // (the event loops, Swift's cooperative pool) keep the normal priority, 0.
        let pool = try Self.niceValues(pid: worker.processIdentifier, threadsNamed: "TP-#")
        #expect(!pool.isEmpty && pool.contains(7) && pool.allSatisfy { $0 == 7 || $0 == 0 }, "\(pool)")
        let loops = try Self.niceValues(pid: worker.processIdentifier, threadsNamed: "NIO-")
        #expect(!loops.isEmpty && loops.allSatisfy { $0 == 0 }, "\(loops)")
    }

    @Test("a value outside 0…19 stops the command with a message that names the setting")
    func badValue() throws {
        let server = try EsteiraProcess()
        defer { server.removeData() }
        for bad in ["20", "-1", "dez"] {
            var env = server.environmentForCommands
            env["ESTEIRA_CPU_NICE"] = bad
            let command = "'\(EsteiraProcess.binary)' clients list 2>&1"
            let (status, text) = try EsteiraProcess.output(of: "/bin/sh", ["-c", command], environment: env)
            // A setting that does not read exits 64 (EX_USAGE), as ArgumentParser's own validation errors do.
            #expect(status == 64 && text.contains("ESTEIRA_CPU_NICE=\(bad) is not valid: expected a whole number from 0 to 19"),
                    "\(bad): \(status) \(text)")
        }
    }
}
