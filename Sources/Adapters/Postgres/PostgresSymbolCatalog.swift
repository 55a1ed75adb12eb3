public import Domain
public import Logging
public import Ports
import PostgresNIO

/// The catalogue in PostgreSQL (`symbols`, `sector_mapping`, `universes`, `universe_members`): read whole at start-up
/// by the app, written by `patterndesk seed`.
public struct PostgresSymbolCatalog: SymbolCatalogSource {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) { self.database = database }

    public func catalog() async throws -> Catalog {
        try await database.perform("load catalogue") { client in
            var symbols: [SymbolInfo] = []
            let symbolRows = try await client.query(
                """
                SELECT symbol, name, type, exchange, market, sector, industry, active, reference_price
                FROM symbols ORDER BY symbol
                """)
            for try await (symbol, name, type, exchange, market, sector, industry, active, price) in symbolRows.decode(
                (String, String, String, String, String, String?, String?, Bool, Double?).self)
            {
                symbols.append(
                    SymbolInfo(
                        symbol: symbol, name: name, kind: SymbolInfo.Kind(rawValue: type) ?? .stock, exchange: exchange, market: market,
                        sector: sector, industry: industry, active: active, referencePrice: price))
            }
            var sectors: [SectorInfo] = []
            for try await (sector, etf) in try await client.query(
                "SELECT sector, sector_etf FROM sector_mapping WHERE industry = '' ORDER BY sector"
            ).decode((String, String).self) {
                sectors.append(SectorInfo(name: sector, etf: etf))
            }
            var members: [String: [String]] = [:]
            for try await (key, symbol) in try await client.query(
                "SELECT universe_key, symbol FROM universe_members ORDER BY universe_key, position"
            ).decode((String, String).self) {
                members[key, default: []].append(symbol)
            }
            var universes: [Universe] = []
            for try await (key, description, category, criteria) in try await client.query(
                "SELECT key, description, category, criteria FROM universes ORDER BY key"
            ).decode((String, String, String, String).self) {
                universes.append(
                    Universe(key: key, description: description, category: category, criteria: criteria, symbols: members[key] ?? []))
            }
            return Catalog(symbols: symbols, sectors: sectors, universes: universes)
        }
    }

    /// Writes `catalog` with upserts in one transaction: running it again changes nothing. Sectors are stored once per
    /// (sector, industry) pair, with the sector's own row under the empty industry; a universe's members are replaced.
    public func seed(_ catalog: Catalog, logger: Logger) async throws {
        try await database.client.withTransaction(logger: logger) { connection in
            let symbols = catalog.symbols
            // binds, not string concatenation: one array per column, unnested server-side.
            try await connection.query(
                """
                INSERT INTO symbols (symbol, name, type, exchange, market, sector, industry, active, reference_price)
                SELECT s, n, t, e, m, NULLIF(sec, ''), NULLIF(ind, ''), a, NULLIF(p, 'NaN')
                FROM unnest(\(symbols.map(\.symbol))::text[], \(symbols.map(\.name))::text[], \(symbols.map(\.kind.rawValue))::text[],
                            \(symbols.map(\.exchange))::text[], \(symbols.map(\.market))::text[], \(symbols.map { $0.sector ?? "" })::text[],
                            \(symbols.map { $0.industry ?? "" })::text[], \(symbols.map(\.active))::boolean[],
                            \(symbols.map { $0.referencePrice ?? .nan })::double precision[])
                    AS u(s, n, t, e, m, sec, ind, a, p)
                ON CONFLICT (symbol) DO UPDATE SET
                    name = EXCLUDED.name, type = EXCLUDED.type, exchange = EXCLUDED.exchange, market = EXCLUDED.market,
                    sector = EXCLUDED.sector, industry = EXCLUDED.industry, active = EXCLUDED.active,
                    reference_price = EXCLUDED.reference_price, updated_at = now()
                """, logger: logger)
            var rows: [(sector: String, industry: String, etf: String)] = []
            for sector in catalog.sectors {
                rows.append((sector.name, "", sector.etf))
                let industries = Set(symbols.filter { $0.sector == sector.name }.compactMap(\.industry))
                rows += industries.sorted().map { (sector.name, $0, sector.etf) }
            }
            // binds, not string concatenation
            try await connection.query(
                """
                INSERT INTO sector_mapping (sector, industry, sector_etf)
                SELECT * FROM unnest(\(rows.map(\.sector))::text[], \(rows.map(\.industry))::text[], \(rows.map(\.etf))::text[])
                ON CONFLICT (sector, industry) DO UPDATE SET sector_etf = EXCLUDED.sector_etf
                """, logger: logger)
            for universe in catalog.universes {
                // binds, not string concatenation
                try await connection.query(
                    """
                    INSERT INTO universes (key, description, category, criteria)
                    VALUES (\(universe.key), \(universe.description), \(universe.category), \(universe.criteria))
                    ON CONFLICT (key) DO UPDATE SET
                        description = EXCLUDED.description, category = EXCLUDED.category, criteria = EXCLUDED.criteria
                    """, logger: logger)
                try await connection.query("DELETE FROM universe_members WHERE universe_key = \(universe.key)", logger: logger)
                try await connection.query(
                    """
                    INSERT INTO universe_members (universe_key, symbol, position)
                    SELECT \(universe.key), symbol, position::integer
                    FROM unnest(\(universe.symbols)::text[]) WITH ORDINALITY AS u(symbol, position)
                    """, logger: logger)
            }
        }
    }
}
