import Domain
import Foundation
import Testing

@Suite(.enabled(if: Golden.isPresent, "needs ../shared/data")) struct CandlesticksMatchTALib {
    @Test(arguments: ["talib_ref_252", "talib_SPY"])
    func `every value of all 20 functions equals TA-Lib on every bar`(name: String) throws {
        let (bars, golden) =
            name == "talib_ref_252"
            ? (try Golden.talibReference(), try Golden.table("golden/talib_ref_252_candles.csv"))
            : (try Golden.bars("SPY"), try Golden.table("golden/talib_SPY_candles.csv"))
        #expect(Set(golden.header.dropFirst()) == Set(CandlestickFunction.allCases.map(\.rawValue)))
        for function in CandlestickFunction.allCases {
            let expected = try Golden.column(golden, function.rawValue).map { Int32($0) }
            let actual = Candlesticks.compute(function, bars)
            let differing = expected.indices.filter { expected[$0] != actual[$0] }
            #expect(
                differing.isEmpty,
                "\(name) \(function.rawValue): \(differing.count) bars differ, first \(differing.prefix(5).map { "\($0): \(actual[$0]) vs \(expected[$0])" })"
            )
            #expect(actual.prefix(Candlesticks.lookback(function)).allSatisfy { $0 == 0 })
        }
    }

    @Test func `the SPY counts quoted in domain.md`() throws {
        let bars = try Golden.bars("SPY")
        func count(_ function: CandlestickFunction) -> Int { Candlesticks.compute(function, bars).filter { $0 != 0 }.count }
        #expect(count(.doji) == 98)
        #expect(count(.hammer) == 9)
        #expect(count(.hangingMan) == 29)
        #expect(count(.shootingStar) == 7)
        #expect(count(.engulfing) == 50)
        #expect(count(.harami) == 58)
        #expect(count(.morningStar) == 3)
        #expect(count(.eveningStar) == 5)
    }
}
