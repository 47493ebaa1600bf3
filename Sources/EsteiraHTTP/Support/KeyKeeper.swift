import EsteiraCore
import EsteiraStore
import Foundation

/// What every door that takes a key shares: the guard against guessing, the expiry check, the
/// note of when a key was last used, and the audit of sign-ins.
struct KeyKeeper: Sendable {
    let guardian: SignInGuard
    let store: KeyStore
    let audit: AuditLog

    /// 401 `key_expired` for a key past its expiry: its holder had it rightly, and is told why.
    /// A live key's use is noted.
    func checkExpiry(_ match: KeyMatch, now: Date = Date()) throws {
        if match.expired(at: now), let expiry = match.expiresAt {
            throw APIError(.unauthorized, code: "key_expired",
                           message: "Esta chave de API expirou em \(Timestamp.iso(expiry)). Use outra chave válida ou peça uma nova.")
        }
        if KeyStore.due(match, now: now) {
            // Not awaited: the answer does not wait on a write that at most once a minute per
            // key notes when it was used; a failure here is only a stale last-used time.
            let store = self.store
            Task { try? await store.touch(keyID: match.keyID, now: now) }
        }
    }

    /// A wrong key from `address`: counted, its answer paused; the lockout, when this failure
    /// starts one, in the audit.
    func failed(_ address: String, channel: String) async {
        if await guardian.failed(address) {
            try? await audit.record(AuditActor(operatorID: nil, name: "unknown", channel: channel), action: "signin.locked",
                                    target: "address:\(address)", before: nil, after: nil)
        }
    }

    /// A wrong key on a sign-in page (`/app`, `/ops`): counted as on any door, and each one in
    /// the audit with the address (the guard bounds how many an address may write).
    func signInFailed(_ address: String, channel: String) async throws {
        await failed(address, channel: channel)
        try await audit.record(AuditActor(operatorID: nil, name: "unknown", channel: channel), action: "signin.failed",
                               target: "address:\(address)", before: nil, after: nil)
    }

    /// A sign-in on a page, with the key's last four characters.
    func signedIn(_ actor: AuditActor, address: String, key: String) async throws {
        try await audit.record(actor, action: "signin.ok", target: "address:\(address)", before: nil,
                               after: AuditLog.values(["key": "…" + String(key.suffix(4))]))
    }
}
