public import Domain
import Foundation
public import Ports

/// The catalogue held in memory: by default the bundled S&P 500 constituents with GICS sectors, the sector SPDRs and
/// the index ETFs (see `Resources/catalog/ATTRIBUTION.md`).
public struct InMemorySymbolCatalog: SymbolCatalogSource {
    private let value: Catalog

    public init(_ catalog: Catalog) { value = catalog }

    /// The bundled catalogue.
    public init() throws {
        value = try Self.bundled()
    }

    public func catalog() async throws -> Catalog { value }

    public enum LoadError: Error, Equatable { case missingResource(String) }

    /// Reads the bundled CSV files.
    public static func bundled() throws -> Catalog {
        func text(_ name: String) throws -> String {
            guard let url = Bundle.module.url(forResource: name, withExtension: "csv", subdirectory: "Resources/catalog") else {
                throw LoadError.missingResource("catalog/\(name).csv")
            }
            return try String(contentsOf: url, encoding: .utf8)
        }
        return Catalog.standard(symbolsCSV: try text("symbols"), sectorsCSV: try text("sectors"))
    }
}
