import ArgumentParser
import EsteiraApp
import Foundation

struct SettingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "Print every setting with the value in effect and where it came from (secrets masked); exit 64 if one does not read.")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print the README's table of settings instead (one row per variable).")
    var markdown = false

    func run() async throws {
        if markdown {
            print(SettingsReport.markdownTable(), terminator: "")
            return
        }
        let values = SettingsValues(environment: ProcessInfo.processInfo.environment, overrides: store.overrides)
        print(SettingsReport.effective(values), terminator: "")
        do {
            _ = try EsteiraSettings.load(values)
        } catch let error as SettingError {
            FileHandle.standardError.write(Data("esteira: \(error.description)\n".utf8))
            throw ExitCode(64)
        }
    }
}
