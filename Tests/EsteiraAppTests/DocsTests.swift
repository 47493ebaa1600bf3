import EsteiraTestSupport
import Foundation
import Testing

@Suite("Docs as a map")
struct DocsTests {
    @Test("docs/architecture.md's table of modules names every target of Package.swift, and no other")
    func modulesTable() throws {
        let root = ListeningProcess.repositoryRoot(#filePath)
        let package = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let architecture = try String(contentsOf: root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        // Targets that are not tests: `.target(name:`, `.executableTarget(`, `.systemLibrary(` (a name on the next line or the same).
        let declared = try Regex(#"\.(?:target|executableTarget|systemLibrary)\(\s*name:\s*"([^"]+)""#)
        let targets = Set(package.matches(of: declared).map { String($0.output[1].substring!) }).subtracting(["EsteiraTestSupport"])
        let section = try #require(architecture.range(of: "## Modules")).upperBound
        let end = architecture[section...].range(of: "\n## ")?.lowerBound ?? architecture.endIndex
        let table = architecture[section..<end].split(separator: "\n").filter { $0.hasPrefix("| `") }
        let named = Set(table.flatMap { row in
            row.split(separator: "|", omittingEmptySubsequences: true).first!.matches(of: try! Regex("`([^`]+)`")).map { String($0.output[1].substring!) }
        })
        #expect(targets.subtracting(named).isEmpty, "in Package.swift, not in the table: \(targets.subtracting(named).sorted())")
        #expect(named.subtracting(targets).isEmpty, "in the table, not in Package.swift: \(named.subtracting(targets).sorted())")
    }

    @Test("the docs cite no file a reader of the repository does not have")
    func noOutsideCitations() throws {
        let docs = ListeningProcess.repositoryRoot(#filePath).appendingPathComponent("docs")
        for name in try FileManager.default.contentsOfDirectory(atPath: docs.path) where name.hasSuffix(".md") {
            let text = try String(contentsOf: docs.appendingPathComponent(name), encoding: .utf8)
            for outside in ["shared/", "DESIGN.md", "seeds/"] {
                #expect(!text.contains(outside), "\(name) cites \(outside)")
            }
        }
    }
}
