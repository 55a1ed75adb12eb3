/// Canonical pattern names and their aliases.
///
/// Canonical form is Title_Snake (`Bull_Flag`). Known aliases (`WeeklyBO`, `EngulfingBullish`, the display
/// abbreviations) map to one canonical name; any other name is canonicalised by splitting CamelCase and snake case into
/// words, so `BullFlag`, `bull_flag` and `BULL_FLAG` are the same type.
public enum PatternName {
    /// The ten TickStock chart patterns with their display abbreviations (http-api.md).
    public static let abbreviations: [String: String] = [
        "Weekly_Breakout": "WeeklyBO", "Bull_Flag": "BullFlag", "Trendline_Hold": "TrendHold", "Volume_Spike": "VolSpike",
        "Gap_Fill": "GapFill", "Momentum_Shift": "MomShift", "Support_Test": "Support", "Resistance_Break": "ResBreak",
        "Ascending_Triangle": "AscTri", "Reversal_Signal": "Reversal",
    ]

    /// Every pattern name PatternDesk knows, grouped by family; the demo producer uses all of them.
    public static let chartPatterns = [
        "Weekly_Breakout", "Bull_Flag", "Trendline_Hold", "Volume_Spike", "Gap_Fill", "Momentum_Shift", "Support_Test",
        "Resistance_Break", "Ascending_Triangle", "Reversal_Signal",
    ]
    public static let candlestickPatterns = [
        "Doji", "Dragonfly_Doji", "Gravestone_Doji", "Long_Legged_Doji", "Hammer", "Inverted_Hammer", "Hanging_Man",
        "Shooting_Star", "Bullish_Engulfing", "Bearish_Engulfing", "Harami", "Harami_Cross", "Morning_Star",
        "Morning_Doji_Star", "Evening_Star", "Evening_Doji_Star", "Piercing", "Dark_Cloud_Cover", "Three_White_Soldiers",
        "Three_Black_Crows", "Marubozu", "Spinning_Top",
    ]
    public static let volumePatterns = ["No_Demand", "No_Supply", "Stopping_Volume"]
    public static let wyckoffPatterns = [
        "Preliminary_Support", "Selling_Climax", "Automatic_Rally", "Secondary_Test", "Spring", "Upthrust_After_Distribution",
        "Sign_Of_Strength",
    ]
    public static let streamingPatterns = ["Price_Change", "Volume_Surge", "Momentum"]
    public static let all = chartPatterns + candlestickPatterns + volumePatterns + wyckoffPatterns + streamingPatterns

    /// Aliases whose word split would not reach the canonical name, keyed by their squashed form (lower case, no
    /// separators).
    private static let aliases: [String: String] = {
        var table: [String: String] = [:]
        for (canonical, abbreviation) in abbreviations { table[squash(abbreviation)] = canonical }
        let extra: [(String, String)] = [
            ("WeeklyBreakout", "Weekly_Breakout"), ("EngulfingBullish", "Bullish_Engulfing"),
            ("EngulfingBearish", "Bearish_Engulfing"), ("BullEngulfing", "Bullish_Engulfing"),
            ("BearEngulfing", "Bearish_Engulfing"), ("TrendlineHold", "Trendline_Hold"), ("VolumeSpike", "Volume_Spike"),
            ("MomentumShift", "Momentum_Shift"), ("ResistanceBreakout", "Resistance_Break"), ("AscendingTriangle", "Ascending_Triangle"),
            ("ReversalSignal", "Reversal_Signal"), ("SC", "Selling_Climax"), ("AR", "Automatic_Rally"), ("ST", "Secondary_Test"),
            ("PS", "Preliminary_Support"), ("UTAD", "Upthrust_After_Distribution"), ("SOS", "Sign_Of_Strength"),
            ("DarkCloud", "Dark_Cloud_Cover"), ("PiercingLine", "Piercing"), ("PiercingPattern", "Piercing"),
        ]
        for (alias, canonical) in extra { table[squash(alias)] = canonical }
        for canonical in all { table[squash(canonical)] = canonical }
        return table
    }()

    /// The canonical name for a raw producer name; nil when the name has no letter or digit.
    public static func canonical(_ raw: String) -> String? {
        let squashed = squash(raw)
        guard !squashed.isEmpty else { return nil }
        if let known = aliases[squashed] { return known }
        let words = splitWords(raw)
        guard !words.isEmpty else { return nil }
        return words.map { word in word.prefix(1).uppercased() + word.dropFirst().lowercased() }.joined(separator: "_")
    }

    /// The compat display name: the abbreviation for the ten chart patterns, else the first 8 characters.
    public static func display(_ canonical: String) -> String {
        if let known = displayNames[canonical] { return known }
        return shortened(canonical)
    }

    private static func shortened(_ canonical: String) -> String {
        if let short = abbreviations[canonical] { return short }
        return canonical.count > 8 ? String(canonical.prefix(8)) : canonical
    }

    /// `display` of every canonical name, computed once: the scan writes one per row.
    private static let displayNames: [String: String] = Dictionary(all.map { ($0, shortened($0)) }, uniquingKeysWith: { first, _ in first })

    static func squash(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) }))
            .lowercased()
    }

    /// Splits `EngulfingBullish`, `bull_flag`, `RSI2Cross` and `Three-White soldiers` into words.
    static func splitWords(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previous: Character?
        let characters = Array(text)
        for (offset, character) in characters.enumerated() {
            guard character.isLetter || character.isNumber else {
                if !current.isEmpty { words.append(current) }
                current = ""
                previous = nil
                continue
            }
            if let last = previous, !current.isEmpty {
                let next = offset + 1 < characters.count ? characters[offset + 1] : nil
                let lowerToUpper = last.isLowercase && character.isUppercase
                let acronymEnd = last.isUppercase && character.isUppercase && (next?.isLowercase ?? false)
                if lowerToUpper || acronymEnd {
                    words.append(current)
                    current = ""
                }
            }
            current.append(character)
            previous = character
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
