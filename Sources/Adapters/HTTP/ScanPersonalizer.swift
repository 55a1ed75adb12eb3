public import Domain
public import Hummingbird
public import Ports

/// Resolves the caller's own scan inputs: `preset=<id>` (a saved filter preset, whose filters come first so that the
/// request's own parameters override them name by name) and `universe=<watchlist id>`. Both need an authenticated
/// user; another user's id is reported exactly like a missing one.
public struct ScanPersonalizer: Sendable {
    public typealias Parameters = [(name: String, value: String)]
    let resolve: @Sendable (Request, Parameters) async throws -> (parameters: Parameters, universes: [String: [String]])

    public init<Repository: UserDataRepository>(repository: Repository, authenticator: UserAuthenticator) {
        resolve = { request, original in
            let user = try await authenticator.user(for: request)
            var parameters = original.filter { $0.name != "preset" }
            do {
                if let raw = original.last(where: { $0.name == "preset" })?.value {
                    guard let id = Int64(raw) else {
                        throw APIError.badParameter("preset", "preset must be the id of one of your filter presets; got '\(raw)'")
                    }
                    guard let preset = try await repository.preset(id, of: user) else {
                        throw APIError.badParameter("preset", "preset: you have no filter preset \(id)")
                    }
                    let given = Set(parameters.map(\.name))
                    parameters = preset.scanParameters.filter { !given.contains($0.name) } + parameters
                }
                var universes: [String: [String]] = [:]
                if let raw = parameters.last(where: { $0.name == "universe" })?.value, let id = Int64(raw) {
                    guard let list = try await repository.watchlist(id, of: user) else {
                        throw APIError.badParameter("universe", "universe: you have no watchlist \(id)")
                    }
                    universes[raw] = list.symbols
                }
                return (parameters, universes)
            } catch let error as UserDataError {
                throw APIError.userData(error, kind: "filter preset", name: nil)
            }
        }
    }

    /// Whether the request names a preset or a watchlist (a numeric universe), so it needs resolving.
    static func needed(_ parameters: Parameters) -> Bool {
        parameters.contains { $0.name == "preset" || ($0.name == "universe" && Int64($0.value) != nil) }
    }
}
