import ArgumentParser
import EsteiraApp
import EsteiraCore
import EsteiraPipeline
import Foundation

/// `esteira purge`: what is past its retention period, removed now (workers also do it once a
/// day), or with --dry-run only counted. Either way the run is recorded with its counts.
struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Remove what is past its retention period (docs/security.md); --dry-run prints what would go and removes nothing.")

    @OptionGroup var store: StoreOptions
    @Flag(help: "Count what would be removed; remove nothing.") var dryRun = false
    @Flag(help: "Print the counts as JSON.") var json = false

    func run() async throws {
        let dryRun = self.dryRun
        let counts = try await Runtime.with(store) { runtime in
            try await Purge(db: runtime.db, blobs: runtime.blobs, retention: runtime.settings.privacy.retention)
                .run(dryRun: dryRun, logger: runtime.logger)
        }
        if json {
            print(Purge.text(counts))
            return
        }
        print(dryRun ? "Would remove (nothing removed):" : "Removed:")
        for kind in Retention.Kind.allCases {
            print("  \(kind.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \(counts[kind] ?? 0)")
        }
    }
}
