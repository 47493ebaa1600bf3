import EsteiraCore
import EsteiraTestSupport
import Foundation
import HTTPTypes
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `esteira` binary, started on a free port in a temporary folder.
final class EsteiraProcess: @unchecked Sendable {
    // @unchecked: each instance is driven by one test at a time.
    let dataDir: String
    let environment: [String: String]
    private(set) var process: Process?
    /// `esteira worker` processes started with `startWorker`.
    private(set) var workers: [Process] = []
    private(set) var baseURL = URL(string: "http://127.0.0.1")!

    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["ESTEIRA_BIN"] { return b }
        // Tests/EsteiraEndToEndTests/<file> → the package root → .build/debug/esteira
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/esteira").path
    }

    /// With `ESTEIRA_TEST_E2E_POSTGRES_URL` (scripts/test sets it for its second pass), every
    /// process runs on a new PostgreSQL database of that server instead of SQLite in the folder.
    static let e2ePostgresURL = ProcessInfo.processInfo.environment["ESTEIRA_TEST_E2E_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// The PostgreSQL database of this process, when it runs on one.
    let databaseURL: String?
    private let ownsDatabase: Bool

    init(environment: [String: String] = [:]) throws {
        dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-e2e-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        var environment = environment
        if let url = environment["DATABASE_URL"] {
            databaseURL = url
            ownsDatabase = false
        } else if let admin = Self.e2ePostgresURL {
            let url = try PostgresFaultTests.freshDatabase(admin: admin)
            environment["DATABASE_URL"] = url
            databaseURL = url
            ownsDatabase = true
        } else {
            databaseURL = nil
            ownsDatabase = false
        }
        self.environment = environment
    }

    /// The environment every command of this server runs with.
    var environmentForCommands: [String: String] { env() }

    private func env(_ extra: [String: String] = [:]) -> [String: String] {
        var e = ProcessInfo.processInfo.environment
        e["ESTEIRA_DATA_DIR"] = dataDir
        e.removeValue(forKey: "DATABASE_URL")
        // The tests' webhook receivers listen on loopback, which a client's webhook may not reach
        // unless the operators allow it; the test of that refusal turns it off again.
        e["ESTEIRA_WEBHOOK_ALLOW_PRIVATE"] = "1"
        for (k, v) in environment { e[k] = v }
        for (k, v) in extra { e[k] = v }
        return e
    }

    /// Runs a program to its end; returns its exit status and what it printed (standard error is
    /// dropped). Spawned and reaped here, with its output in a file: Foundation's `Process` was
    /// seen to miss the exit of a program that ends within milliseconds, and wait for ever.
    static func output(of executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       withErrors: Bool = false) throws -> (status: Int32, text: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-out-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if withErrors {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = (environment ?? ProcessInfo.processInfo.environment)
            .map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw NSError(domain: "esteira", code: Int(spawned), userInfo: [NSLocalizedDescriptionKey: "cannot run \(executable)"])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS spelled out: the C macros are not imported into Swift.
        return (status & 0x7F == 0 ? (status >> 8) & 0xFF : -1, text)
    }

    /// Runs a subcommand to its end and returns what it printed.
    func command(_ args: [String]) throws -> String {
        let (status, text) = try Self.output(of: Self.binary, args, environment: env())
        guard status == 0 else {
            throw NSError(domain: "esteira", code: Int(status), userInfo: [NSLocalizedDescriptionKey: "esteira \(args) failed"])
        }
        return text
    }

    /// Creates a client through the command line and returns its API key.
    func createClient(name: String, document: String, subBatchSize: Int? = nil) throws -> (id: String, key: String) {
        var args = ["clients", "create", "--name", name, "--document", document, "--json"]
        if let s = subBatchSize { args += ["--sub-batch-size", "\(s)"] }
        let json = try JSONSerialization.jsonObject(with: Data(try command(args).utf8)) as! [String: String]
        return (json["id"]!, json["api_key"]!)
    }

    /// Creates an operator through the command line and returns its API key.
    func createOperator(name: String = "Ana", role: String = "admin") throws -> String {
        let made = try JSONValue.parse(Array(try command(["operators", "create", "--name", name, "--role", role, "--json"]).utf8))
        guard let key = made["api_key"]?.string else { throw NSError(domain: "esteira", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(made)"]) }
        return key
    }

    /// Starts `esteira serve --port 0` and waits for the line that says where it listens.
    func start(_ extra: [String: String] = [:]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["serve", "--port", "0"]
        p.environment = env(extra)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = try Self.newLog(at: dataDir + "/server.log")
        try p.run()
        process = p
        baseURL = try Self.listeningURL(out, what: "server")
    }

    /// The address a starting process prints on its standard output, waited for up to a minute.
    static func listeningURL(_ out: Pipe, what: String) throws -> URL {
        var buffer = Data()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            if let range = text.range(of: #"https?://127\.0\.0\.1:\d+"#, options: .regularExpression) {
                return URL(string: String(text[range]))!
            }
        }
        throw NSError(domain: "esteira", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(what) did not start"])
    }

    /// Starts `esteira worker --metrics-port 0` on the same data and answers where its `/health`
    /// and `/metrics` are served.
    func startWorkerWithMetrics(_ extra: [String: String] = [:], arguments: [String] = []) throws -> (process: Process, url: URL) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["worker", "--metrics-port", "0"] + arguments
        p.environment = env(extra)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = try Self.newLog(at: dataDir + "/worker-\(workers.count).log")
        try p.run()
        workers.append(p)
        return (p, try Self.listeningURL(out, what: "worker"))
    }

    /// Starts `esteira worker` (only workers, no API) on the same data, with its log in
    /// `worker-N.log` of the data folder.
    @discardableResult
    func startWorker(_ extra: [String: String] = [:], arguments: [String] = []) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["worker"] + arguments
        p.environment = env(extra)
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = try Self.newLog(at: dataDir + "/worker-\(workers.count).log")
        try p.run()
        workers.append(p)
        return p
    }

    /// An empty log file at `path`, open for a process to write.
    static func newLog(at path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    /// Everything the server and the workers logged, each line after the name of its log
    /// (`server`, `worker-0`, …).
    func logs() -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDir)) ?? []
        return names.filter { $0.hasSuffix(".log") }.sorted().compactMap { name -> String? in
            guard let text = try? String(contentsOfFile: dataDir + "/" + name, encoding: .utf8) else { return nil }
            let process = name.dropLast(4)
            return text.split(separator: "\n").map { "\(process) \($0)" }.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Waits until `text` is in the log named `log` (`server`, `worker-0`, …), or in any of them
    /// when `log` is nil.
    func waitForLog(_ text: String, in log: String? = nil, timeout: TimeInterval = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let seen = log.map { (try? String(contentsOfFile: dataDir + "/\($0).log", encoding: .utf8)) ?? "" } ?? logs()
            if seen.contains(text) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw NSError(domain: "esteira", code: 3, userInfo: [NSLocalizedDescriptionKey:
            "'\(text)' not in the \(log ?? "") log after \(Int(timeout)) s; logs:\n\(logs().split(separator: "\n").suffix(40).joined(separator: "\n"))"])
    }

    func kill9() {
        guard let p = process else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// SIGTERM, then SIGKILL if the process has not ended within `patience` seconds.
    static func terminate(_ p: Process, patience: TimeInterval = 45) {
        guard p.isRunning else { return }
        p.terminate()
        let deadline = Date().addingTimeInterval(patience)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    func stop() {
        for w in workers { Self.terminate(w) }
        workers = []
        guard let p = process else { return }
        Self.terminate(p)
        process = nil
    }

    func removeData() {
        try? FileManager.default.removeItem(atPath: dataDir)
        if ownsDatabase, let url = databaseURL, let admin = Self.e2ePostgresURL, let slash = url.lastIndex(of: "/") {
            _ = try? PostgresFaultTests.psql(admin, "DROP DATABASE IF EXISTS \(url[url.index(after: slash)...]) WITH (FORCE)")
        }
    }

    // MARK: HTTP

    /// The API over a socket, answered as the in-process tests' `APIResult` (one result type and
    /// one reading of JSON for every HTTP test).
    func request(_ method: String, _ path: String, key: String?, body: Data? = nil, contentType: String? = nil,
                 timeout: TimeInterval = 300) async throws -> APIResult {
        var r = URLRequest(url: URL(string: baseURL.absoluteString + path)!)
        r.httpMethod = method
        r.timeoutInterval = timeout
        if let key { r.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let contentType { r.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        let (data, response): (Data, URLResponse)
        if let body {
            (data, response) = try await URLSession.shared.upload(for: r, from: body)
        } else {
            (data, response) = try await URLSession.shared.data(for: r)
        }
        let http = response as! HTTPURLResponse
        var headers = HTTPFields()
        for (k, v) in http.allHeaderFields {
            if let name = HTTPField.Name(String(describing: k)) { headers[name] = String(describing: v) }
        }
        return APIResult(status: http.statusCode, headers: headers, body: String(decoding: data, as: UTF8.self))
    }

    /// A JSON body sent with `method` (POST by default).
    func post(_ path: String, key: String?, json: String, method: String = "POST") async throws -> APIResult {
        try await request(method, path, key: key, body: Data(json.utf8), contentType: "application/json")
    }

    func upload(_ file: Data, key: String, name: String) async throws -> String {
        let r = try await request("POST", "/v1/batches?file_name=\(name)", key: key, body: file, contentType: "text/csv")
        guard r.status == 202, let id = r.json["id"]?.string else {
            throw NSError(domain: "esteira", code: r.status, userInfo: [NSLocalizedDescriptionKey: r.body])
        }
        return id
    }

    /// Polls the batch until it is final. With `ridingOutErrors`, a request that fails (the API
    /// answering 500 while its database restarts) is just another poll.
    func waitForBatch(_ id: String, key: String, timeout: TimeInterval = 600, requestTimeout: TimeInterval = 300,
                      ridingOutErrors: Bool = false) async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        var last = JSONValue.null
        while Date() < deadline {
            let b: JSONValue
            do {
                b = try await request("GET", "/v1/batches/\(id)", key: key, timeout: requestTimeout).json
            } catch where ridingOutErrors {
                b = .null
            }
            if let s = b["status"]?.string, ["completed", "completed_with_rejects", "failed"].contains(s) { return b }
            if b != .null { last = b }
            try await Task.sleep(for: .milliseconds(200))
        }
        // What a reader of a failed run needs: where the batch stood, its jobs, and the processes' last words.
        let jobs = (try? sql("""
            SELECT kind, seq, state, attempts, lease_owner, lease_expires_at, run_at, substr(last_error, 1, 160)
            FROM jobs WHERE state <> 'done' ORDER BY seq, kind LIMIT 40
            """)) ?? "?"
        let tail = logs().split(separator: "\n").suffix(80).joined(separator: "\n")
        throw NSError(domain: "esteira", code: 2, userInfo: [NSLocalizedDescriptionKey:
            "batch \(id) did not finish; last seen \(last["status"]?.string ?? "-") \(last.counts)\njobs:\n\(jobs)\nlogs:\n\(tail)"])
    }

    /// The `items` of a list the API answers at `path` (a notification log), read every 100 ms until
    /// `done` holds of them, 10 s at most; returns the last read. A receiver (webhook, SMTP) has an
    /// attempt before the sender has recorded its answer, so a log read right after may not show it yet.
    func items(_ path: String, key: String?, until done: ([JSONValue]) -> Bool) async throws -> [JSONValue] {
        var items: [JSONValue] = []
        for _ in 0..<100 {
            items = try await request("GET", path, key: key).json["items"]?.items ?? []
            if done(items) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return items
    }

    /// How many jobs are not done, read until none is left or `timeout` passes: a finished batch's
    /// cleanup job runs just after the batch ends.
    static func jobsLeft(timeout: TimeInterval = 15, _ count: () throws -> String) async throws -> String {
        var last = try count()
        let deadline = Date().addingTimeInterval(timeout)
        while last != "0" && Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            last = try count()
        }
        return last
    }

    /// Runs a query with the database's own command-line tool (sqlite3, or psql on PostgreSQL): a
    /// second reader of the database. Columns are separated by `|` either way.
    func sql(_ sql: String) throws -> String {
        if let url = databaseURL { return try PostgresFaultTests.psql(url, sql) }
        return try Self.output(of: "/usr/bin/sqlite3", [dataDir + "/esteira.sqlite", sql]).text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
