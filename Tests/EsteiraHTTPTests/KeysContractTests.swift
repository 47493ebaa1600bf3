import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// Named keys (several per client and operator, expiry, last use, rotation with overlap) and the
/// guard against guessed keys, in process, on SQLite and PostgreSQL.
@Suite("Keys: named, rotated with overlap, expiring; wrong keys slowed then refused", .serialized)
struct KeysContractTests {
    @Test("a client rotates its key with an overlap: both work, then the old one is refused as expired; secrets are never listed nor audited",
          arguments: InProcessEsteira.dialects)
    func rotationWithOverlap(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let listed = try await api.request(.get, "/v1/keys", key: client.key)
            #expect(listed.status == 200)
            let first = try #require(listed.json["items"]?.elements?.first)
            #expect(first["name"]?.string == "principal")
            #expect(first["hint"]?.string == "…" + String(client.key.suffix(4)))
            let oldID = try #require(first["id"]?.string)

            // The new key, replacing the old one with one hour in which both work.
            let issued = try await api.request(.post, "/v1/keys", key: client.key,
                                               body: #"{"name": "ERP novo", "rotate": "\#(oldID)", "overlap_hours": 1, "expires_in_days": 90}"#)
            #expect(issued.status == 201, "\(issued.body)")
            #expect(issued.header("Cache-Control") == "no-store")
            let newKey = try #require(issued.json["api_key"]?.string)
            #expect(newKey.hasPrefix("est_") && newKey.count == 44)
            #expect(try await api.request(.get, "/v1/batches", key: client.key).status == 200)
            #expect(try await api.request(.get, "/v1/batches", key: newKey).status == 200)

            // The old key now ends within the hour; the new one in 90 days (89 to 91 around now).
            let keys = try await api.request(.get, "/v1/keys", key: newKey).json["items"]?.elements ?? []
            #expect(keys.count == 2)
            let old = try #require(keys.first { $0["id"]?.string == oldID })
            let oldEnd = try #require(old["expires_at"]?.string.flatMap(Timestamp.parse))
            #expect(oldEnd > Date().addingTimeInterval(3500) && oldEnd <= Date().addingTimeInterval(3601))
            let fresh = try #require(keys.first { $0["name"]?.string == "ERP novo" })
            let freshEnd = try #require(fresh["expires_at"]?.string.flatMap(Timestamp.parse))
            #expect(freshEnd > Date().addingTimeInterval(89 * 86_400) && freshEnd < Date().addingTimeInterval(91 * 86_400))
            // Nothing listed holds a secret.
            #expect(!(try await api.request(.get, "/v1/keys", key: newKey).body.contains(String(newKey.dropFirst(4).prefix(12)))))

            // Rotating again with no overlap: the replaced key is refused at once, saying it expired.
            let newID = try #require(fresh["id"]?.string)
            let third = try await api.request(.post, "/v1/keys", key: newKey, body: #"{"name": "ERP", "rotate": "\#(newID)", "overlap_hours": 0}"#)
            #expect(third.status == 201)
            let expired = try await api.request(.get, "/v1/batches", key: newKey)
            #expect(expired.status == 401)
            #expect(expired.json["error", "code"]?.string == "key_expired", "\(expired.body)")
            // An expired key cannot sign in to the web pages either.
            let thirdKey = try #require(third.json["api_key"]?.string)
            #expect(try await api.request(.get, "/v1/batches", key: thirdKey).status == 200)

            // Only hashes are kept; the audit holds the keys' last four characters, never more.
            let stored = try await InProcessEsteira.sql(runtime, "SELECT key_hash FROM api_keys ORDER BY created_at")
            #expect(!stored.contains(newKey) && !stored.contains(thirdKey))
            let audit = try await InProcessEsteira.sql(runtime, "SELECT action || ' ' || COALESCE(before_value, '') || ' ' || COALESCE(after_value, '') FROM audit_log")
            #expect(audit.components(separatedBy: "client.key_issue").count - 1 == 2, "\(audit)")
            #expect(audit.contains("…" + String(newKey.suffix(4))))
            #expect(!audit.contains(String(newKey.dropFirst(4).prefix(12))) && !audit.contains(String(thirdKey.dropFirst(4).prefix(12))))

            // A key of another client cannot be rotated nor revoked through this client's keys.
            let other = try await InProcessEsteira.client(runtime, name: "B", document: "11444777000161")
            let otherID = try #require(try await api.request(.get, "/v1/keys", key: other.key).json["items"]?.elements?.first?["id"]?.string)
            #expect(try await api.request(.delete, "/v1/keys/\(otherID)", key: thirdKey).status == 404)
            #expect(try await api.request(.post, "/v1/keys", key: thirdKey, body: #"{"name": "x", "rotate": "\#(otherID)"}"#).status == 422)
            #expect(try await api.request(.get, "/v1/batches", key: other.key).status == 200)
        }
    }

    @Test("the overlap as the store computes it, on a clock the test sets: the old key works until the overlap ends, never past its own expiry",
          arguments: TestDatabase.dialects)
    func overlapOnAClock(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let clients = ClientStore(db: db), keys = KeyStore(db: db)
            let (client, oldSecret) = try await clients.create(name: "A", document: "11222333000181", subBatchSize: 10, traceID: "t")
            let oldID = try #require(try await clients.authenticate(apiKey: oldSecret)?.1.keyID)
            // 2031-03-04T05:06:07Z, any fixed moment: the hours below are counted from it by hand.
            let t0 = Date(timeIntervalSince1970: 1_930_446_367)
            let (_, newSecret) = try #require(try await keys.issue(owner: .client, ownerID: client.id, name: "novo", rotating: oldID,
                                                                   overlap: 24 * 3600, by: .cli(user: "test"), now: t0))
            // 24 hours later, less a second, the old key still opens; at 24 hours, it no longer does.
            #expect(try await clients.authenticate(apiKey: oldSecret, now: t0.addingTimeInterval(86_399))?.0.id == client.id)
            #expect(try await clients.authenticate(apiKey: oldSecret, now: t0.addingTimeInterval(86_400)) == nil)
            #expect(try await clients.authenticate(apiKey: newSecret, now: t0.addingTimeInterval(86_400 * 365))?.0.id == client.id)

            // A key that expires in 2 hours, rotated with 24 hours of overlap, still ends in 2 hours.
            let (short, shortSecret) = try #require(try await keys.issue(owner: .client, ownerID: client.id, name: "curta",
                                                                         expiresAt: t0.addingTimeInterval(7200), by: .cli(user: "test"), now: t0))
            _ = try #require(try await keys.issue(owner: .client, ownerID: client.id, name: "sucessora", rotating: short.id,
                                                  overlap: 24 * 3600, by: .cli(user: "test"), now: t0))
            #expect(try await keys.list(owner: .client, ownerID: client.id).first { $0.id == short.id }?.expiresAt == t0.addingTimeInterval(7200))
            #expect(try await clients.authenticate(apiKey: shortSecret, now: t0.addingTimeInterval(7201)) == nil)

            // The last-used time is noted, then not again within a minute.
            let used = t0.addingTimeInterval(100)
            try await keys.touch(keyID: oldID, now: used)
            try await keys.touch(keyID: oldID, now: used.addingTimeInterval(30))
            #expect(try await keys.list(owner: .client, ownerID: client.id).first { $0.id == oldID }?.lastUsedAt == used)
            try await keys.touch(keyID: oldID, now: used.addingTimeInterval(61))
            #expect(try await keys.list(owner: .client, ownerID: client.id).first { $0.id == oldID }?.lastUsedAt == used.addingTimeInterval(61))
        }
    }

    @Test("admins manage a client's and an operator's keys; revoking the key a console session began with ends the session",
          arguments: InProcessEsteira.dialects)
    func adminKeysAndSessions(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let operators = OperatorStore(db: runtime.db)
            let (admin, adminKey) = try await operators.create(name: "Ana Admin", role: .admin)
            let (nina, ninaKey) = try await operators.create(name: "Nina", role: .operator)
            let client = try await InProcessEsteira.client(runtime)

            let made = try await api.request(.post, "/v1/admin/clients/\(client.id)/keys", key: adminKey, body: #"{"name": "integração"}"#)
            #expect(made.status == 201)
            let integration = try #require(made.json["api_key"]?.string)
            #expect(try await api.request(.get, "/v1/batches", key: integration).status == 200)
            #expect(try await api.request(.get, "/v1/batches", key: client.key).status == 200)
            let listed = try await api.request(.get, "/v1/admin/clients/\(client.id)/keys", key: adminKey).json["items"]?.elements ?? []
            #expect(Set(listed.compactMap { $0["name"]?.string }) == ["principal", "integração"])
            let integrationID = try #require(made.json["key", "id"]?.string)
            #expect(try await api.request(.delete, "/v1/admin/clients/\(client.id)/keys/\(integrationID)", key: adminKey).status == 204)
            #expect(try await api.request(.get, "/v1/batches", key: integration).status == 401)
            #expect(try await api.request(.get, "/v1/batches", key: client.key).status == 200)
            // An operator (not an admin) may not.
            #expect(try await api.request(.post, "/v1/admin/clients/\(client.id)/keys", key: ninaKey, body: #"{"name": "x"}"#).status == 403)

            // Nina gets a second key and signs in to the console with it; revoking that key ends
            // that session at once, and her first key still works.
            let second = try await api.request(.post, "/v1/admin/operators/\(nina.id)/keys", key: adminKey, body: #"{"name": "notebook"}"#)
            let secondKey = try #require(second.json["api_key"]?.string)
            var console = try await ConsoleSession(api)
            #expect(try await console.signIn(secondKey).status == 303)
            #expect(try await console.get("/ops/lotes").status == 200)
            let secondID = try #require(second.json["key", "id"]?.string)
            #expect(try await api.request(.delete, "/v1/admin/operators/\(nina.id)/keys/\(secondID)", key: adminKey).status == 204)
            #expect(try await console.get("/ops/lotes").status == 303)
            #expect(try await api.request(.get, "/v1/admin/operators/\(nina.id)/keys", key: ninaKey).status == 200)

            // In the console, an admin issues a named key replacing the client's principal (24 hours
            // of overlap) and sets its quotas; the page lists both keys, the old one with its end.
            var adminConsole = try await ConsoleSession(api)
            #expect(try await adminConsole.signIn(adminKey).status == 303)
            let principalID = try #require(listed.first { $0["name"]?.string == "principal" }?["id"]?.string)
            let page = try await adminConsole.post("/ops/clientes/\(client.id)/chaves", [("nome", "ERP 2027"), ("dias", "365"), ("substitui", principalID)])
            #expect(page.status == 200)
            let shown = try #require(page.body.range(of: #"est_[0-9a-f]{40}"#, options: .regularExpression).map { String(page.body[$0]) })
            #expect(try await api.request(.get, "/v1/batches", key: shown).status == 200)
            #expect(try await api.request(.get, "/v1/batches", key: client.key).status == 200)
            let principal = try await KeyStore(db: runtime.db).list(owner: .client, ownerID: client.id).first { $0.id == principalID }
            let end = try #require(principal?.expiresAt)
            #expect(end > Date().addingTimeInterval(23 * 3600) && end <= Date().addingTimeInterval(24 * 3600))
            let clientPage = try await adminConsole.get("/ops/clientes/\(client.id)")
            #expect(clientPage.body.contains("ERP 2027") && clientPage.body.contains("principal"))
            #expect(try await adminConsole.post("/ops/clientes/\(client.id)/cotas", [("requisicoes", "7"), ("linhas", "")]).status == 303)
            #expect(try await ClientStore(db: runtime.db).get(id: client.id)?.requestsPerSecond == 7)

            // The audit: issued and revoked by the admin, the sign-in by Nina.
            let actions = try await InProcessEsteira.sql(runtime, "SELECT operator_name || ' ' || action || ' ' || target FROM audit_log ORDER BY id")
            #expect(actions.contains("Ana Admin client.key_issue client:\(client.id)"))
            #expect(actions.contains("Ana Admin client.key_revoke client:\(client.id)"))
            #expect(actions.contains("Ana Admin operator.key_issue operator:\(nina.id)"))
            #expect(actions.contains("Ana Admin operator.key_revoke operator:\(nina.id)"))
            #expect(actions.contains("Nina signin.ok"))
            _ = admin
        }
    }

    @Test("wrong keys from one address: the first five at once, then slower, then 429 with Retry-After on every door, a right key included; the lockout is audited",
          arguments: InProcessEsteira.dialects)
    func wrongKeysThrottled(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect, environment: ["ESTEIRA_SIGNIN_MAX_FAILURES": "8"]) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let wrong = "est_" + String(repeating: "0", count: 40)
            // Failures 1 to 5: no pause. Failures 6, 7, 8: 0.25 s, 0.5 s, 1 s before the answer
            // (the policy's first pause, doubled each time); only the lower bound is checked.
            for n in 1...8 {
                let started = ContinuousClock.now
                let r = try await api.request(.get, "/v1/batches", key: wrong)
                #expect(r.status == 401)
                if n >= 6 {
                    #expect(ContinuousClock.now - started >= .milliseconds(250 << (n - 6)), "failure \(n)")
                }
            }
            // The ninth attempt is refused before its key is looked at, a right key too.
            let refused = try await api.request(.get, "/v1/batches", key: client.key)
            #expect(refused.status == 429)
            #expect(refused.json["error", "code"]?.string == "too_many_failures")
            let after = try #require(refused.header("Retry-After").flatMap(Int.init))
            #expect(after > 880 && after <= 900, "the 15-minute window less the seconds the failures took")
            // The operators' API and both sign-in pages are the same door for this address.
            #expect(try await api.request(.get, "/v1/admin/blacklist/52998224725", key: "op_x").status == 429)
            var console = try await ConsoleSession(api)
            let page = try await console.signIn("op_qualquer")
            #expect(page.status == 429)
            #expect(page.header("Retry-After") != nil)
            #expect(page.body.contains("Muitas tentativas"))
            let audit = try await InProcessEsteira.sql(runtime, "SELECT action || ' ' || channel FROM audit_log ORDER BY id")
            #expect(audit.contains("signin.locked api"), "\(audit)")
        }
    }
}
