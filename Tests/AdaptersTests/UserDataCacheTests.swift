import Domain
@testable import Postgres
import Testing

/// The cache's rules without a database: what a miss may fill, and when nothing is trusted.
@Suite struct TheUserDataCache {
    let alice = UserID("alice")
    let list = Watchlist(id: 1, userID: UserID("alice"), name: "A", symbols: [], filters: .null, createdAt: 0, updatedAt: 0)

    func missTicket(_ lookup: UserDataCache.Lookup<Watchlist>) -> UserDataCache.Ticket? {
        if case .miss(let ticket) = lookup { return ticket }
        return nil
    }

    func isHit(_ lookup: UserDataCache.Lookup<Watchlist>) -> Bool {
        if case .hit = lookup { return true }
        return false
    }

    @Test func `nothing is kept or served until the listener listens, nor after it stops`() throws {
        let cache = UserDataCache(capacity: 10)
        guard case .bypass = cache.watchlists(of: alice) else { Issue.record("served while not listening"); return }
        cache.listening(true)
        let ticket = try #require(missTicket(cache.watchlists(of: alice)))
        cache.fill(watchlists: [list], of: alice, ticket: ticket)
        #expect(isHit(cache.watchlists(of: alice)))
        cache.listening(false)
        guard case .bypass = cache.watchlists(of: alice) else { Issue.record("served after the listener stopped"); return }
        cache.listening(true)
        #expect(!isHit(cache.watchlists(of: alice)), "what was kept before the gap is gone")
    }

    @Test func `a load that raced an invalidation is answered but not kept`() throws {
        let cache = UserDataCache(capacity: 10)
        cache.listening(true)
        // Never seen before: the tombstone keeps the bump.
        let first = try #require(missTicket(cache.watchlists(of: alice)))
        cache.invalidate(alice)
        cache.fill(watchlists: [list], of: alice, ticket: first)
        #expect(!isHit(cache.watchlists(of: alice)))
        // Seen before.
        let second = try #require(missTicket(cache.watchlists(of: alice)))
        cache.fill(watchlists: [list], of: alice, ticket: second)
        #expect(isHit(cache.watchlists(of: alice)))
        cache.invalidate(payload: "alice")
        let third = try #require(missTicket(cache.watchlists(of: alice)))
        cache.invalidate(payload: "*")
        cache.fill(watchlists: [list], of: alice, ticket: third)
        #expect(!isHit(cache.watchlists(of: alice)), "'*' drops loads in flight too")
        // Another user's invalidation does not stop this one.
        let fourth = try #require(missTicket(cache.watchlists(of: alice)))
        cache.invalidate(UserID("bob"))
        cache.fill(watchlists: [list], of: alice, ticket: fourth)
        #expect(isHit(cache.watchlists(of: alice)))
        #expect(cache.counters.users == 2)
    }

    @Test func `it holds at most its capacity, and capacity 0 turns it off`() throws {
        let cache = UserDataCache(capacity: 3)
        cache.listening(true)
        for index in 0..<20 {
            let user = UserID("u\(index)")
            if let ticket = missTicket(cache.watchlists(of: user)) { cache.fill(watchlists: [], of: user, ticket: ticket) }
            #expect(cache.counters.users <= 3)
        }
        let off = UserDataCache(capacity: 0)
        off.listening(true)
        guard case .bypass = off.watchlists(of: alice) else { Issue.record("capacity 0 still caches"); return }
        #expect(!off.isEnabled)
    }
}
