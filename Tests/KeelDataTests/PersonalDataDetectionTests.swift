import Foundation
@testable import KeelData
import KeelSynthetic
import KeelTestSupport
import Testing

/// Personal data found by values and by names: every generated kind is recalled, no decoy (a Luhn-valid
/// product code or IMEI, an order number, a bare number, a city) is taken for a direct identifier, and a
/// name alone makes a direct identifier only of a column with many values.
@Suite struct PersonalDataDetectionTests {
    static func column(_ name: String, _ values: [String]) -> Column {
        var levels: [String] = [], index: [String: UInt32] = [:]
        let codes = values.map { value -> UInt32 in
            if let code = index[value] { return code }
            index[value] = UInt32(levels.count)
            levels.append(value)
            return UInt32(levels.count - 1)
        }
        return Column(name: name, values: .categorical(EncodedStrings(codes: codes, levels: levels)))
    }

    @Test func everyKindIsRecalledAndNoDecoyIsTakenForADirectIdentifier() {
        var generator = PersonalDataColumns(rows: 40, seed: 11)
        let labelled = generator.labelled(count: 20)
        var recalled: [PersonalData.Kind: Int] = [:], falseAlarms: [String] = []
        for (i, entry) in labelled.enumerated() {
            let found = PersonalDataDetector.detect(Self.column("col_\(i)", entry.values))
            if let kind = entry.kind {
                if found?.kind == kind { recalled[kind, default: 0] += 1 }
            } else if let found, found.identifierClass == .direct {
                falseAlarms.append("\(entry.decoy!) taken for \(found.kind.rawValue): \(entry.values.prefix(3))")
            }
        }
        for kind in PersonalDataColumns.directKinds {
            #expect(recalled[kind, default: 0] == 20, "\(kind.rawValue): \(recalled[kind, default: 0]) of 20 recalled")
        }
        #expect(falseAlarms.isEmpty, "\(falseAlarms.prefix(5))")
    }

    @Test func patternsRefuseTheirLookAlikes() {
        #expect(PersonalDataPatterns.isCreditCard("4111 1111 1111 1111"[...].utf8))
        #expect(!PersonalDataPatterns.isCreditCard("4111 1111 1111 1112"[...].utf8), "fails the Luhn check")
        #expect(!PersonalDataPatterns.isCreditCard(Substring(PersonalDataColumns.luhn("35" + "123456789012")).utf8), "an IMEI: Luhn-valid, no issuer")
        #expect(PersonalDataPatterns.isIBAN("GB82 WEST 1234 5698 7654 32"[...].utf8))
        #expect(!PersonalDataPatterns.isIBAN("GB83 WEST 1234 5698 7654 32"[...].utf8), "wrong check digits")
        #expect(PersonalDataPatterns.isSSN("123-45-6789"[...].utf8) && !PersonalDataPatterns.isSSN("666-45-6789"[...].utf8) && !PersonalDataPatterns.isSSN("123-00-6789"[...].utf8))
        #expect(PersonalDataPatterns.isNationalInsurance("AB 12 34 56 C"[...].utf8) && !PersonalDataPatterns.isNationalInsurance("DA 12 34 56 C"[...].utf8))
        #expect(PersonalDataPatterns.isPhone("+44 20 7946 0958"[...].utf8) && !PersonalDataPatterns.isPhone("5551234567"[...].utf8) && !PersonalDataPatterns.isPhone("ORD-2024-001234"[...].utf8))
        #expect(PersonalDataPatterns.isIPAddress("192.168.0.1"[...].utf8) && PersonalDataPatterns.isIPAddress("2001:db8::1"[...].utf8) && !PersonalDataPatterns.isIPAddress("1.2.3.400"[...].utf8))
        #expect(PersonalDataPatterns.isPersonName("Braund, Mr. Owen Harris") && !PersonalDataPatterns.isPersonName("San Jose"))
        #expect(PersonalDataPatterns.isPostcode("SW1A 1AA"[...].utf8) && !PersonalDataPatterns.isPostcode("AB 1234"[...].utf8))
        // Ordinary values that look like personal data to a looser check.
        #expect(!PersonalDataPatterns.isIPAddress("08:15:00"[...].utf8) && !PersonalDataPatterns.isIPAddress("1:02:33"[...].utf8))
        #expect(!PersonalDataPatterns.isPhone("2020-01-15"[...].utf8) && !PersonalDataPatterns.isPhone("15-01-2020"[...].utf8))
        for text in ["1200 sq ft", "4 dr sedan", "22 city / 30 hwy", "3 way split", "1 stop via DXB"] {
            #expect(!PersonalDataPatterns.isPostalAddress(text[...]), "\(text)")
        }
        #expect(PersonalDataPatterns.isPostalAddress("1600 Pennsylvania Avenue NW, Washington") && PersonalDataPatterns.isPostalAddress("221B Baker Street"))
    }

    @Test func namesHintAtKindsButAloneMarkADirectIdentifierOnlyWithManyValues() {
        #expect(PersonalDataDetector.words("dateOfBirth") == ["date", "of", "birth"])
        #expect(PersonalDataDetector.hint("E-mail Address") == .email && PersonalDataDetector.hint("customer_name") == .personName)
        #expect(PersonalDataDetector.hint("product_name") == nil && PersonalDataDetector.hint("usage_hours") == nil)
        let yesNo = Self.column("telephone", (0..<100).map { $0 % 3 == 0 ? "yes" : "no" })
        #expect(PersonalDataDetector.detect(yesNo) == nil, "whether there is a phone, not which")
        let stems = ["Smith", "Garcia", "Chen", "Khan", "Rossi", "Dubois", "Okafor", "Nguyen", "Kowalski", "Silva", "Brown", "Walker"]
        let endings = ["", "son", "ley", "ford", "well", "man", "by", "ham", "wood", "worth", "ridge", "field", "more", "land", "stone", "brook", "hill"]
        let surnames = Self.column("Surname", (0..<200).map { stems[$0 % 12] + endings[$0 / 12] })
        #expect(PersonalDataDetector.detect(surnames) == PersonalData(kind: .personName, confidence: 0.5))
        // Card numbers without separators are read as numbers, which keep every digit below 2^53.
        var generator = PersonalDataColumns(rows: 40, seed: 5)
        let cards = (0..<40).map { _ in Double(generator.value(.creditCard))! }
        #expect(PersonalDataDetector.detect(Column(name: "x", values: .numeric(cards)))?.kind == .creditCard)
        let imeis = (0..<40).map { _ in Double(generator.decoy("imei"))! }
        #expect(PersonalDataDetector.detect(Column(name: "x", values: .numeric(imeis))) == nil)
        // Names that only sound personal, and kinds of column that cannot hold what the name says.
        let cars = Self.column("name", (0..<100).map { "chevrolet chevelle \($0)" })
        #expect(PersonalDataDetector.detect(cars) == nil, "car models in a column called name")
        #expect(PersonalDataDetector.detect(Column(name: "email_verified", values: .boolean((0..<50).map { UInt8($0 % 2) }))) == nil)
        #expect(PersonalDataDetector.detect(Column(name: "phone_activation_date", values: .datetime((0..<50).map { Double($0) * 86_400 }))) == nil)
        #expect(PersonalDataDetector.detect(Column(name: "IP", values: .numeric((0..<50).map { Double($0) + 0.1 }))) == nil, "innings pitched")
        #expect(PersonalDataDetector.hint("Age_of_vehicle") == nil && PersonalDataDetector.hint("customer_age") == .age)
        #expect(PersonalDataDetector.hint("MAC address") == nil && PersonalDataDetector.hint("home_address") == .postalAddress)
        let ages = Column(name: "age", values: .numeric((0..<50).map { Double(18 + $0) }))
        #expect(PersonalDataDetector.detect(ages)?.kind == .age && PersonalDataDetector.detect(ages)?.identifierClass == .quasi)
    }

    @Test func inferenceMarksTheSchemaSaysSoAndTheSchemaFileKeyRoundTrips() throws {
        var generator = PersonalDataColumns(rows: 60, seed: 3)
        let emails = (0..<60).map { _ in generator.value(.email) }
        let frame = try Frame(columns: [Self.column("contact", emails), Self.column("sex", (0..<60).map { $0 % 2 == 0 ? "female" : "male" }),
                                        Column(name: "y", values: .numeric((0..<60).map { Double($0 % 2) }))])
        let result = try SchemaInference.infer(frame, target: "y")
        #expect(result.schema["contact"]?.pii?.kind == .email && result.schema["contact"]?.pii?.identifierClass == .direct)
        #expect(result.schema["sex"]?.pii?.identifierClass == .quasi && result.schema["y"]?.pii == nil)
        let warnings = SchemaInference.personalDataWarnings(result.schema)
        // Before a policy is decided, the warning says no rule applies and how to leave the column out.
        #expect(warnings.contains { $0.hasPrefix("'contact' holds e-mail addresses (direct identifier") && $0.contains("--ignore contact") && $0.contains("no privacy rule") })
        #expect(warnings.contains { $0.hasPrefix("quasi-identifiers") && $0.contains("'sex'") })
        let json = String(decoding: try JSONEncoder().encode(result.schema["contact"]!), as: UTF8.self)
        #expect(json.contains("\"pii\":{") && json.contains("\"class\":\"direct\"") && json.contains("\"kind\":\"email\""))
        #expect(try JSONDecoder().decode(ColumnSchema.self, from: Data(json.utf8)) == result.schema["contact"]!)
        // A schema file that does not mention personal data keeps what inference found.
        var adopted = result.schema
        var declared = Schema(columns: [ColumnSchema(name: "contact", kind: .categorical, role: .ignored, nullable: false)])
        declared.target = "y"
        try adopted.adopt(declared, frame: frame)
        #expect(adopted["contact"]?.role == .ignored && adopted["contact"]?.pii?.kind == .email)
        #expect(adopted.withoutPersonalDataFindings.columns.allSatisfy { $0.pii == nil })
        let typo = json.replacingOccurrences(of: "\"class\"", with: "\"klass\"")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ColumnSchema.self, from: Data(typo.utf8)) }
    }
}
