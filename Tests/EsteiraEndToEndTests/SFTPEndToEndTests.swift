import EsteiraCore
import Foundation
import Testing

/// The drop folder through a real OpenSSH server: a client logs in with its key, lands jailed in
/// its inbox (`ChrootDirectory`, `internal-sftp`), uploads with the `sftp` client, and the batch
/// runs. Needs root (sshd and its chroot) and Debian's openssh-server; CI has both.
@Suite("SFTP in CI", .offSharedPool)
struct SFTPInCITests {
    @Test("sshd is there, and the tests run as root, when CI runs")
    func sshdInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd"), ".ci/run must install openssh-server")
            #expect(getuid() == 0, "the SFTP test needs root for sshd's chroot")
        }
    }
}

@Suite("End to end: SFTP drop folder through a real sshd", .offSharedPool, .serialized,
       .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd")))
struct SFTPEndToEndTests {
    /// sshd refuses a chroot with any folder on its path writable by others (as /tmp is), so the
    /// inbox lives under /srv, root-owned.
    struct Jail {
        let dir: String
        var inbox: String { dir + "/inbox" }
        var port = 0
        var sshd: pid_t?

        init() throws {
            dir = "/srv/esteira-sftp-test-\(UUID().uuidString.prefix(8).lowercased())"
            try FileManager.default.createDirectory(atPath: dir + "/inbox", withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "/srv")
        }

        func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
            let (status, text) = try EsteiraProcess.output(of: executable, arguments)
            return (status, text)
        }

        /// Keys, the configuration with one `Match` block jailing the login in `clientFolder`, and sshd itself.
        mutating func start(clientFolder: String) throws {
            for name in ["host_key", "client_key"] {
                _ = try run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", dir + "/" + name])
            }
            try FileManager.default.copyItem(atPath: dir + "/client_key.pub", toPath: dir + "/authorized_keys")
            port = Self.freePort()
            let config = """
                Port \(port)
                ListenAddress 127.0.0.1
                HostKey \(dir)/host_key
                PidFile \(dir)/sshd.pid
                AuthorizedKeysFile \(dir)/authorized_keys
                StrictModes no
                UsePAM no
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin prohibit-password
                Subsystem sftp internal-sftp
                Match User root
                    ChrootDirectory \(clientFolder)
                    ForceCommand internal-sftp
                    AllowTcpForwarding no
                    X11Forwarding no

                """
            try config.write(toFile: dir + "/sshd_config", atomically: true, encoding: .utf8)
            // sshd's privilege separation folder, which a machine without a running sshd may lack.
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            // Spawned and reaped here, like the programs of `EsteiraProcess.output`.
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, dir + "/sshd.log", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            let arguments: [String] = ["/usr/sbin/sshd", "-D", "-e", "-f", dir + "/sshd_config"]
            let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { for a in argv { free(a) } }
            var pid: pid_t = 0
            guard posix_spawn(&pid, "/usr/sbin/sshd", &actions, nil, argv, environ) == 0 else {
                throw NSError(domain: "esteira", code: 4, userInfo: [NSLocalizedDescriptionKey: "cannot start sshd"])
            }
            sshd = pid
        }

        /// Runs an sftp batch as the client; returns its exit status and output.
        func sftp(_ commands: [String]) throws -> (Int32, String) {
            try (commands.joined(separator: "\n") + "\n").write(toFile: dir + "/batch", atomically: true, encoding: .utf8)
            return try run("/usr/bin/sftp", [
                "-b", dir + "/batch", "-i", dir + "/client_key", "-P", "\(port)",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "LogLevel=ERROR", "root@127.0.0.1",
            ])
        }

        func stop() {
            if let sshd {
                kill(sshd, SIGTERM)
                var status: Int32 = 0
                while waitpid(sshd, &status, 0) == -1 && errno == EINTR {}
            }
            try? FileManager.default.removeItem(atPath: dir)
        }

        static func freePort() -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = 0
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
            _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            return Int(UInt16(bigEndian: addr.sin_port))
        }
    }

    @Test("a file uploaded by sftp and renamed into place becomes a batch; a file that fails lands in failed/ with its reason")
    func dropFolder() async throws {
        var jail = try Jail()
        defer { jail.stop() }
        let server = try EsteiraProcess(environment: [
            "ESTEIRA_INBOX_DIR": jail.inbox, "ESTEIRA_INBOX_SECONDS": "0.2", "ESTEIRA_INBOX_QUIET_SECONDS": "0",
        ])
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        let other = try server.createClient(name: "Outra", document: "11.444.777/0001-61")
        // The operator creates each client's folder (docs/sftp.md); Esteira makes upload/, processing/, failed/.
        for id in [client.id, other.id] {
            try FileManager.default.createDirectory(atPath: jail.inbox + "/" + id, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        }
        try server.start()
        let folder = jail.inbox + "/" + client.id
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: folder + "/upload"), Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        try jail.start(clientFolder: folder)

        // Jailed: the root of the session is the client's own folder.
        var listing = (Int32(-1), "")
        for _ in 0..<50 {
            listing = try jail.sftp(["ls /"])
            if listing.0 == 0 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(listing.0 == 0, "sftp could not log in: \((try? String(contentsOfFile: jail.dir + "/sshd.log", encoding: .utf8)) ?? "")")
        #expect(listing.1.contains("upload") && listing.1.contains("failed") && !listing.1.contains(other.id))

        // Uploaded under a .part name, then renamed: taken only once renamed.
        let csv = "id_divida;nome;cpf;valor;vencimento\nF1;Ana;248.438.034-80;10,00;2024-01-31\nF2;Bia;248.438.034-70;5,00;2024-01-31\n"
        try csv.write(toFile: jail.dir + "/dividas.csv", atomically: true, encoding: .utf8)
        let put = try jail.sftp(["cd upload", "put \(jail.dir)/dividas.csv dividas.csv.part", "rename dividas.csv.part dividas.csv"])
        #expect(put.0 == 0, "\(put.1)")
        let batch = try await waitForSFTPBatch(server, key: client.key, fileName: "dividas.csv")
        #expect(batch.counts == ["received": 2, "registered": 1, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 1, "review": 0])
        #expect(batch["source"]?.string == "sftp")
        // Once the batch is final the file leaves processing/.
        try await waitUntil { ((try? FileManager.default.contentsOfDirectory(atPath: folder + "/processing")) ?? ["x"]).isEmpty }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder + "/upload")) ?? ["x"]).isEmpty)
        // Its return file, fetched through sftp: the counts, then the reject, by hand: line 3 (F2),
        // whose CPF's check digits are wrong, R003 on the document.
        let fetched = try jail.sftp(["get retorno/dividas.csv.resultado.csv \(jail.dir)/resultado.csv"])
        #expect(fetched.0 == 0, "\(fetched.1)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: jail.dir + "/resultado.csv"))
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF]) // UTF-8's byte order mark, for Excel
        let result = String(decoding: bytes.dropFirst(3), as: UTF8.self)
        let lines = result.components(separatedBy: "\r\n")
        #expect(lines[0] == "lote;arquivo;situação;recebidas;registradas;alteradas;baixadas;duplicadas;rejeitadas;em revisão")
        #expect(lines[1] == "\(batch["id"]?.string ?? "");\"dividas.csv\";Concluído com rejeições;2;1;0;0;0;1;0", "\(result)")
        #expect(lines[2] == "" && lines[3] == "linha;campo;código;mensagem;conteúdo original", "\(result)")
        #expect(lines[4].hasPrefix("3;\"CPF/CNPJ\";R003;"), "\(result)")
        #expect(lines[4].hasSuffix(";\"F2;Bia;248.438.034-70;5,00;2024-01-31\""), "\(result)")
        #expect(lines.count == 6 && lines[5] == "", "\(result)")

        // A file of operations through the same folder: F1 corrected, then withdrawn.
        let operations = "operacao;id_divida;nome;cpf;valor;vencimento;motivo_baixa\n"
            + "A;F1;Ana;248.438.034-80;12,00;2024-01-31;\nB;F1;;;;;pago_ao_credor\n"
        try operations.write(toFile: jail.dir + "/movimento.csv", atomically: true, encoding: .utf8)
        #expect(try jail.sftp(["cd upload", "put \(jail.dir)/movimento.csv movimento.csv.part", "rename movimento.csv.part movimento.csv"]).0 == 0)
        let moved = try await waitForSFTPBatch(server, key: client.key, fileName: "movimento.csv")
        #expect(moved.counts == ["received": 2, "registered": 0, "updated": 1, "withdrawn": 1, "duplicates": 0, "rejected": 0, "review": 0])
        let f1 = try await server.request("GET", "/v1/debts/F1", key: client.key).json
        #expect(f1["status"]?.string == "withdrawn" && f1["amount"]?.string == "12.00", "\(f1)")

        // A file that is not text: its batch fails, and the file comes back in failed/ with the reason.
        #expect(FileManager.default.createFile(atPath: jail.dir + "/planilha.csv", contents: Data([0x50, 0x4B, 0x03, 0x04, 0, 0, 8, 0])))
        #expect(try jail.sftp(["cd upload", "put \(jail.dir)/planilha.csv planilha.csv.part", "rename planilha.csv.part planilha.csv"]).0 == 0)
        let failed = try await waitForSFTPBatch(server, key: client.key, fileName: "planilha.csv")
        #expect(failed["status"]?.string == "failed")
        try await waitUntil { FileManager.default.fileExists(atPath: folder + "/failed/planilha.csv.error.txt") }
        let reason = try String(contentsOfFile: folder + "/failed/planilha.csv.error.txt", encoding: .utf8)
        // Eight bytes of a ZIP header: read as an XLSX, a corrupt one (F010).
        #expect(reason.contains("não pôde ser processado") && reason.contains("F010"))
        #expect(FileManager.default.fileExists(atPath: folder + "/failed/planilha.csv"))
        // The client sees it over sftp too, and in retorno/ beside the results.
        #expect(try jail.sftp(["ls failed"]).1.contains("planilha.csv.error.txt"))
        #expect(try jail.sftp(["get retorno/planilha.csv.erro.txt \(jail.dir)/erro.txt"]).0 == 0)
        #expect(try String(contentsOfFile: jail.dir + "/erro.txt", encoding: .utf8) == reason)
        let returned = try jail.sftp(["ls -a retorno"]).1
        #expect(returned.contains("movimento.csv.resultado.csv") && !returned.contains(".tmp"), "\(returned)")
    }

    func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(60)
        while !condition() {
            guard Date() < deadline else { Issue.record("condition not met in time"); return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func waitForSFTPBatch(_ server: EsteiraProcess, key: String, fileName: String) async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let items = try await server.request("GET", "/v1/batches?per_page=50", key: key).json["items"]?.elements ?? []
            if let b = items.first(where: { $0["file_name"]?.string == fileName }), let id = b["id"]?.string {
                return try await server.waitForBatch(id, key: key, timeout: 60)
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw NSError(domain: "esteira", code: 3, userInfo: [NSLocalizedDescriptionKey: "no batch for \(fileName)"])
    }
}
