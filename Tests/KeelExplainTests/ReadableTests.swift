import KeelExplain
import Testing

/// Numbers and category orders as a stakeholder reads them.
@Suite struct ReadableTests {
    @Test func numbersInSentencesArePlain() {
        #expect(Readable.number(7.7e-05) == "0.000077")
        #expect(Readable.number(0.0087) == "0.0087")
        #expect(Readable.number(-0.4374) == "-0.44")
        #expect(Readable.number(3.8236) == "3.82")
        #expect(Readable.number(2447.6) == "2,448")
        #expect(Readable.number(53_940) == "53,940")
        #expect(Readable.number(1e-9) == "0")
        #expect(Readable.signed(0.074) == "+0.074" && Readable.signed(-1.26) == "-1.26")
        #expect(Readable.count(53_940) == "53,940")
        // Never scientific notation, whatever the magnitude.
        var x = 1e-7
        while x < 1e13 {
            for value in [x, -x, x * 3.7] {
                let text = Readable.number(value) + Readable.tick(value)
                #expect(!text.contains("e") && !text.contains("E"), "\(value) → \(text)")
            }
            x *= 7.3
        }
    }

    @Test func probabilitiesArePercentagesThatNeverOverclaim() {
        #expect(Readable.percent(0.9999) == "more than 99.9%")
        #expect(Readable.percent(1) == "100%")
        #expect(Readable.percent(0.121) == "12.1%")
        #expect(Readable.percent(0.0001) == "less than 0.1%")
        #expect(Readable.percent(0) == "0%")
        #expect(Readable.tickPercent(0.99999) == ">99.9%")
        #expect(Readable.points(0.063) == "6.3 percentage points")
        #expect(Readable.points(0.19) == "19 percentage points")
        #expect(Readable.points(0.0002) == "less than 0.1 percentage points")
    }

    @Test func categoriesFollowTheirNaturalOrder() {
        #expect(NaturalOrder.sorted(["4", "1", "3", "2"]) == ["1", "2", "3", "4"])
        #expect(NaturalOrder.sorted(["10", "9", "missing", "1.5"]) == ["1.5", "9", "10", "missing"])
        #expect(NaturalOrder.sorted(["true", "false"]) == ["false", "true"])
        #expect(NaturalOrder.sorted(["Yes", "No"]) == ["No", "Yes"])
        #expect(NaturalOrder.sorted(["month-to-month", "two year", "One year"]) == ["month-to-month", "One year", "two year"])
    }
}
