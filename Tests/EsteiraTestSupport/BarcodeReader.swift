import Foundation

/// Reads barcodes and QR codes drawn as SVG with real tools from Debian: `rsvg-convert`
/// (librsvg2-bin) rasterizes, `zbarimg` (zbar-tools) decodes. scripts/test installs both.
public enum BarcodeReader {
    /// What ZBar reads in the drawing (one code per line when there are several).
    public static func decode(svg: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-zbar-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let svgPath = dir.appendingPathComponent("code.svg").path, pngPath = dir.appendingPathComponent("code.png").path
        try svg.write(toFile: svgPath, atomically: true, encoding: .utf8)
        _ = try run("/usr/bin/rsvg-convert", ["-b", "white", "-o", pngPath, svgPath])
        return try run("/usr/bin/zbarimg", ["--raw", "-q", pngPath]).trimmingCharacters(in: .newlines)
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            throw NSError(domain: "tools", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(tool) is missing: apt-get install librsvg2-bin zbar-tools"])
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NSError(domain: "tools", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "\(tool) \(arguments) failed"])
        }
        return String(decoding: data, as: UTF8.self)
    }
}
