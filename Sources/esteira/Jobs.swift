import ArgumentParser
import EsteiraApp
import EsteiraStore

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look at the job queue and retry dead jobs.", subcommands: [List.self, Retry.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, by state.")
        @OptionGroup var store: StoreOptions
        @Option(help: "queued, running, done or dead.") var state: String?

        func validate() throws {
            if let state, JobState(rawValue: state) == nil { throw ValidationError("--state must be queued, running, done or dead") }
        }

        func run() async throws {
            let jobs = try await Runtime.with(store) { try await JobQueue(db: $0.db).list(state: state.flatMap(JobState.init)) }
            print("id      kind       batch                                 seq    state    attempts  last error")
            for j in jobs {
                let cols = ["\(j.id)".padding(toLength: 6, withPad: " ", startingAt: 0),
                            j.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0), j.batchID,
                            "\(j.seq)".padding(toLength: 5, withPad: " ", startingAt: 0),
                            j.state.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0),
                            "\(j.attempts)/\(j.maxAttempts)".padding(toLength: 8, withPad: " ", startingAt: 0),
                            String((j.lastError ?? "").prefix(80))]
                print(cols.joined(separator: "  "))
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put a dead job back in the queue.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The job's id.") var id: Int

        func run() async throws {
            let ok = try await Runtime.with(store) { try await JobQueue(db: $0.db).retryDead(id: id, by: commandLineActor) }
            if ok { print("Job \(id) queued again.") } else { throw ValidationError("job \(id) is not dead (or does not exist)") }
        }
    }
}
