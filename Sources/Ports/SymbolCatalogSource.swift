public import Domain

/// The symbol and sector catalogue: symbols, GICS sectors with their ETFs, and universes.
public protocol SymbolCatalogSource: Sendable {
    /// The whole catalogue as a value; throws when the backing store cannot be read.
    func catalog() async throws -> Catalog
}
