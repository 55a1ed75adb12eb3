public import Domain
public import Foundation
public import Ports

/// Bar files `<SYMBOL>.csv` in a directory, read on demand: `detect --bars DIR`, or the bundled demo set
/// (`Resources/bars`, see its ATTRIBUTION.md) that the embedded default detects over.
public struct BarFiles: BarSeriesSource {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// The bundled demo set: 60 large caps across all sectors, the index ETFs and the sector ETFs.
    public static func bundledDemo() throws -> BarFiles {
        guard let url = Bundle.module.url(forResource: "bars", withExtension: nil, subdirectory: "Resources") else {
            throw InMemorySymbolCatalog.LoadError.missingResource("bars")
        }
        return BarFiles(directory: url)
    }

    public enum ReadError: Error, Equatable, CustomStringConvertible {
        case missing(symbol: String, directory: String)
        case malformed(file: String, reason: String)

        public var description: String {
            switch self {
            case .missing(let symbol, let directory): "no bar file for \(symbol) in \(directory)"
            case .malformed(let file, let reason): "\(file): \(reason)"
            }
        }
    }

    public func symbols() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".csv") }.map { String($0.dropLast(4)) }.sorted()
    }

    public func series(for symbol: String) throws -> BarSeries {
        let url = directory.appendingPathComponent("\(symbol).csv")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ReadError.missing(symbol: symbol, directory: directory.path)
        }
        do {
            return try BarSeries.parseCSV(symbol: symbol, text: String(decoding: data, as: UTF8.self))
        } catch {
            throw ReadError.malformed(file: url.lastPathComponent, reason: error.description)
        }
    }
}
