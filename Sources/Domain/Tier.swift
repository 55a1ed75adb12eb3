/// The time frame a pattern was detected on.
public enum Tier: UInt8, CaseIterable, Sendable, Hashable, Comparable {
    case daily, intraday, combo, hourly, weekly, monthly, dailyIntraday

    /// The wire name, as producers send it and the API returns it (`daily_intraday`).
    public var name: String {
        switch self {
        case .daily: "daily"
        case .intraday: "intraday"
        case .combo: "combo"
        case .hourly: "hourly"
        case .weekly: "weekly"
        case .monthly: "monthly"
        case .dailyIntraday: "daily_intraday"
        }
    }

    /// The tier for a wire name (`daily`, `daily_intraday`), case-insensitive; nil for anything else.
    public init?(name: String) {
        let lowered = name.lowercased()
        guard let tier = Tier.allCases.first(where: { $0.name == lowered }) else { return nil }
        self = tier
    }

    /// The tier a producer `timeframe` denotes (`1m`, `5min`, `1h`, `1d`, `1w`, `1mo`, or a tier word).
    public init?(timeframe: String) {
        let lowered = timeframe.lowercased()
        if let tier = Tier(name: lowered) {
            self = tier
            return
        }
        switch lowered {
        case "1m", "2m", "3m", "5m", "10m", "15m", "30m", "1min", "5min", "15min", "30min", "minute", "tick", "realtime":
            self = .intraday
        case "1h", "60m", "60min", "2h", "4h", "hour", "1hour":
            self = .hourly
        case "1d", "d", "day", "1day":
            self = .daily
        case "1w", "w", "week", "1wk":
            self = .weekly
        case "1mo", "1mth", "month", "mo":
            self = .monthly
        default:
            return nil
        }
    }

    public static func < (lhs: Tier, rhs: Tier) -> Bool { lhs.rawValue < rhs.rawValue }
}
