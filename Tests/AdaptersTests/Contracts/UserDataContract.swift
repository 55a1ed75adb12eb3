import Domain
import Foundation
import Ports
import Testing

/// What every `UserDataRepository` must do. Users are fresh per call (random ids), so the suite can run against a
/// shared database.
func userDataContract(_ make: () async throws -> some UserDataRepository) async throws {
    let repository = try await make()
    let run = UUID().uuidString.prefix(8)
    let alice = UserID("alice-\(run)")
    let bob = UserID("bob-\(run)")
    let now: EpochMillis = 1_700_000_000_123

    // Create, list, get.
    let tech = try await repository.createWatchlist(
        WatchlistChange(name: "Tech", symbols: ["AAPL", "MSFT"], filters: .object([("sort_by", .string("confidence"))])), for: alice,
        at: now)
    #expect(tech.name == "Tech" && tech.symbols == ["AAPL", "MSFT"] && tech.userID == alice)
    #expect(tech.createdAt == now && tech.updatedAt == now)
    #expect(canonical(tech.filters) == canonical(.object([("sort_by", .string("confidence"))])))
    #expect(try await repository.watchlists(of: alice) == [tech])
    #expect(try await repository.watchlist(tech.id, of: alice) == tech)

    // Another user reaches nothing: every call reports the row as absent and changes nothing.
    #expect(try await repository.watchlist(tech.id, of: bob) == nil)
    #expect(try await repository.updateWatchlist(tech.id, WatchlistChange(name: "Mine"), for: bob, at: now + 1) == nil)
    #expect(try await repository.addSymbol("NVDA", toWatchlist: tech.id, of: bob, at: now + 1) == nil)
    #expect(try await repository.removeSymbol("AAPL", fromWatchlist: tech.id, of: bob, at: now + 1) == nil)
    #expect(try await repository.deleteWatchlist(tech.id, of: bob) == false)
    #expect(try await repository.watchlists(of: bob).isEmpty)
    #expect(try await repository.watchlist(tech.id, of: alice) == tech)

    // Names are unique per user, not across users.
    await #expect(throws: UserDataError.duplicateName) {
        try await repository.createWatchlist(WatchlistChange(name: "Tech", symbols: [], filters: .null), for: alice, at: now)
    }
    let bobs = try await repository.createWatchlist(WatchlistChange(name: "Tech", symbols: ["SPY"], filters: .null), for: bob, at: now)
    #expect(bobs.id != tech.id && bobs.filters == .null)

    // Partial updates change only what they name; renaming onto another list's name is a duplicate.
    let energy = try await repository.createWatchlist(WatchlistChange(name: "Energy", symbols: ["XOM"], filters: .null), for: alice, at: now)
    let renamed = try #require(try await repository.updateWatchlist(tech.id, WatchlistChange(name: "Tech 2"), for: alice, at: now + 5))
    #expect(renamed.name == "Tech 2" && renamed.symbols == tech.symbols && renamed.updatedAt == now + 5 && renamed.createdAt == now)
    let cleared = try #require(
        try await repository.updateWatchlist(tech.id, WatchlistChange(symbols: ["QQQ"], filters: .null), for: alice, at: now + 6))
    #expect(cleared.name == "Tech 2" && cleared.symbols == ["QQQ"] && cleared.filters == .null)
    await #expect(throws: UserDataError.duplicateName) {
        try await repository.updateWatchlist(energy.id, WatchlistChange(name: "Tech 2"), for: alice, at: now + 7)
    }

    // Adding appends once; removing an absent symbol changes nothing.
    let added = try #require(try await repository.addSymbol("NVDA", toWatchlist: tech.id, of: alice, at: now + 8))
    #expect(added.symbols == ["QQQ", "NVDA"] && added.updatedAt == now + 8)
    let again = try #require(try await repository.addSymbol("NVDA", toWatchlist: tech.id, of: alice, at: now + 9))
    #expect(again.symbols == ["QQQ", "NVDA"] && again.updatedAt == now + 8)
    let removed = try #require(try await repository.removeSymbol("QQQ", fromWatchlist: tech.id, of: alice, at: now + 10))
    #expect(removed.symbols == ["NVDA"] && removed.updatedAt == now + 10)
    let absent = try #require(try await repository.removeSymbol("QQQ", fromWatchlist: tech.id, of: alice, at: now + 11))
    #expect(absent.symbols == ["NVDA"] && absent.updatedAt == now + 10)

    // The symbol limit holds for additions.
    let full = (0..<UserDataRules.maxWatchlistSymbols).map { "S\($0)" }
    let big = try await repository.createWatchlist(WatchlistChange(name: "Big", symbols: full, filters: .null), for: alice, at: now)
    await #expect(throws: UserDataError.tooManySymbols) {
        try await repository.addSymbol("ONE.MORE", toWatchlist: big.id, of: alice, at: now + 1)
    }
    #expect(try await repository.watchlist(big.id, of: alice)?.symbols.count == UserDataRules.maxWatchlistSymbols)

    // Hostile and unicode text is stored and returned verbatim.
    for name in [#"'; DROP TABLE user_watchlists; --"#, "Überwachung 📈 日本株", #"a\"b\\c"#, "O'Reilly $1 %s 100%"] {
        let list = try await repository.createWatchlist(
            WatchlistChange(name: name, symbols: [], filters: .object([("note", .string(name))])), for: alice, at: now)
        let read = try #require(try await repository.watchlist(list.id, of: alice))
        #expect(read.name == name && read.filters["note"] == .string(name))
    }

    // Deleting: once true, then false; the row is gone.
    #expect(try await repository.deleteWatchlist(energy.id, of: alice))
    #expect(try await repository.deleteWatchlist(energy.id, of: alice) == false)
    #expect(try await repository.watchlist(energy.id, of: alice) == nil)
    #expect(try await repository.watchlists(of: bob) == [bobs])

    // Presets: at most one default per user; a new default demotes the old one, in either order.
    let filters = JSONValue.object([("confidence_min", .number(0.8)), ("pattern_types", .array([.string("Doji"), .string("Hammer")]))])
    let first = try await repository.createPreset(FilterPresetChange(name: "Strong", filters: filters, isDefault: true), for: alice, at: now)
    #expect(first.isDefault && canonical(first.filters) == canonical(filters) && first.createdAt == now)
    let second = try await repository.createPreset(
        FilterPresetChange(name: "Weak", filters: .object([("confidence_min", .number(0.5))]), isDefault: true), for: alice, at: now + 1)
    #expect(try await repository.presets(of: alice).map(\.isDefault) == [false, true])
    #expect(try await repository.preset(first.id, of: alice)?.updatedAt == now + 1)
    let promoted = try #require(try await repository.updatePreset(first.id, FilterPresetChange(isDefault: true), for: alice, at: now + 2))
    #expect(promoted.isDefault && promoted.name == "Strong" && canonical(promoted.filters) == canonical(filters))
    #expect(try await repository.presets(of: alice).map(\.isDefault) == [true, false])
    #expect(try await repository.preset(second.id, of: alice)?.isDefault == false)
    let bobsDefault = try await repository.createPreset(FilterPresetChange(name: "Strong", filters: filters, isDefault: true), for: bob, at: now)
    #expect(bobsDefault.isDefault)
    #expect(try await repository.preset(first.id, of: alice)?.isDefault == true)
    // Making another user's preset the default changes nothing, not even the caller's own default.
    #expect(try await repository.updatePreset(first.id, FilterPresetChange(isDefault: true), for: bob, at: now + 4) == nil)
    #expect(try await repository.preset(bobsDefault.id, of: bob)?.isDefault == true)
    await #expect(throws: UserDataError.duplicateName) {
        try await repository.createPreset(FilterPresetChange(name: "Weak", filters: .object([]), isDefault: false), for: alice, at: now)
    }
    await #expect(throws: UserDataError.duplicateName) {
        try await repository.updatePreset(second.id, FilterPresetChange(name: "Strong"), for: alice, at: now)
    }
    let refiltered = try #require(
        try await repository.updatePreset(
            second.id, FilterPresetChange(filters: .object([("rs_min", .number(1.5))]), isDefault: false), for: alice, at: now + 3))
    #expect(refiltered.filters["rs_min"] == .number(1.5) && !refiltered.isDefault && refiltered.name == "Weak")
    #expect(try await repository.preset(first.id, of: bob) == nil)
    #expect(try await repository.updatePreset(first.id, FilterPresetChange(name: "x"), for: bob, at: now) == nil)
    #expect(try await repository.deletePreset(first.id, of: bob) == false)
    #expect(try await repository.deletePreset(first.id, of: alice))
    #expect(try await repository.preset(first.id, of: alice) == nil)
    #expect(try await repository.presets(of: alice).map(\.id) == [second.id])
    try await repository.ping()
}

/// JSON with object members sorted by key at every level: PostgreSQL's jsonb does not keep member order.
func canonical(_ value: JSONValue) -> JSONValue {
    switch value {
    case .object(let members): .object(members.map { ($0.key, canonical($0.value)) }.sorted { $0.0 < $1.0 })
    case .array(let items): .array(items.map(canonical))
    default: value
    }
}
