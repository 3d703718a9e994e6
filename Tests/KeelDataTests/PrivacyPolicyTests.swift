import Foundation
import Testing
@testable import KeelData

/// A stand-in for the keyed HMAC: reversible on purpose, so a test can see what was pseudonymised.
private struct MarkingPseudonymiser: Pseudonymiser {
    var keyCheck: String
    func pseudonym(_ text: String) -> String { "p(\(text))" }
}

@Suite struct PrivacyPolicyTests {
    static func frame() throws -> Frame {
        try Frame(columns: [
            Column(name: "email", values: .categorical(EncodedStrings(codes: [0, 1, EncodedStrings.missing], levels: ["a@x.org", "b@x.org"]))),
            Column(name: "customer", values: .categorical(EncodedStrings(codes: [0, 0, 1], levels: ["C1", "C2"]))),
            Column(name: "age", values: .numeric([37, 40, .nan])),
            Column(name: "postcode", values: .categorical(EncodedStrings(codes: [0, 1, 2], levels: ["SW1A 1AA", "SW1A 2BB", "90210"]))),
            Column(name: "born", values: .datetime([DateTimeParser.parse("1984-03-17")!, DateTimeParser.parse("1990-12-31 10:00")!, .nan])),
            Column(name: "y", values: .categorical(EncodedStrings(codes: [0, 1, 0], levels: ["yes", "no"]))),
        ])
    }

    static func schema() throws -> Schema {
        var schema = try SchemaInference.infer(try frame(), target: "y").schema
        schema.columns[0].pii = PersonalData(kind: .email, confidence: 1)
        schema.columns[2].pii = PersonalData(kind: .age, confidence: 0.9)
        return schema
    }

    /// The error `body` throws, as text; empty when it throws none.
    static func thrown(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return ""
    }

    @Test func rulesParseAndPrintTheirSpelling() throws {
        for text in ["drop", "pseudonymise", "generalise", "generalise:5", "generalise:month", "generalise:year", "keep"] {
            #expect(try PrivacyRule(parsing: text).description == text)
        }
        #expect(try PrivacyRule(parsing: "Pseudonymize") == .pseudonymise)
        #expect(try PrivacyRule(parsing: "generalize:2.5") == .generalise(.width(2.5)))
        for bad in ["blur", "generalise:0", "generalise:-3", "drop:1", "generalise:weekly"] {
            #expect(throws: DataError.self, "\(bad)") { try PrivacyRule(parsing: bad) }
        }
    }

    @Test func defaultsDropDirectIdentifiersAndKeepQuasiOnes() throws {
        var schema = try Self.schema()
        try PrivacyPolicy.resolve(&schema, declared: [:], allowed: [])
        #expect(schema.privacy?["email"] == .drop && schema.privacy?["age"] == .keep && schema.privacy?["customer"] == nil)
        #expect(schema["email"]?.role == .ignored, "a dropped column is no feature")
        var allowed = try Self.schema()
        try PrivacyPolicy.resolve(&allowed, declared: [:], allowed: ["email"])
        #expect(allowed.privacy?["email"] == .keep && allowed["email"]?.role == .feature)
    }

    @Test func declaredRulesAreCheckedAgainstTheColumns() throws {
        func resolve(_ rules: [String: String], allowed: [String] = []) throws {
            var schema = try Self.schema()
            try PrivacyPolicy.resolve(&schema, declared: try rules.mapValues { .init(try PrivacyRule(parsing: $0), source: "--privacy") }, allowed: allowed)
        }
        try resolve(["customer": "pseudonymise", "age": "generalise:5", "born": "generalise:year", "postcode": "generalise:3"])
        let failing: [([String: String], [String], String)] = [
            (["nope": "drop"], [], "'nope', which is not in the data"),
            (["email": "keep"], [], "needs --allow-pii email"),
            (["y": "drop"], [], "is the target"),
            (["age": "generalise:month"], [], "does not fit a numeric column"),
            (["born": "generalise:10"], [], "does not fit a date column"),
            (["postcode": "generalise:2.5"], [], "whole number of characters"),
            (["email": "generalise"], [], "does not fit e-mail addresses"),
            (["email": "drop"], ["email"], "say one of them"),
            ([:], ["ghost"], "--allow-pii names column 'ghost'"),
        ]
        for (rules, allowed, message) in failing {
            #expect(Self.thrown { try resolve(rules, allowed: allowed) }.contains(message), "\(rules) \(allowed)")
        }
    }

    @Test func theGuardDropsPseudonymisesAndGeneralises() throws {
        var schema = try Self.schema()
        let declared: [String: PrivacyPolicy.Declared] = [
            "customer": .init(.pseudonymise, source: "test"), "age": .init(.generalise(nil), source: "test"),
            "postcode": .init(.generalise(nil), source: "test"), "born": .init(.generalise(nil), source: "test"),
        ]
        try PrivacyPolicy.resolve(&schema, declared: declared, allowed: [])
        let privacy = try PrivacyGuard(schema: schema, pseudonymiser: MarkingPseudonymiser(keyCheck: "k1"), keySource: "--pii-key-file")
        let out = try privacy.apply(try Self.frame())
        #expect(out.columnNames == ["customer", "age", "postcode", "born", "y"])
        #expect((0..<3).map { out["customer"]!.displayValue(at: $0) } == ["p(C1)", "p(C1)", "p(C2)"], "equal values stay equal")
        #expect((0..<3).map { out["age"]!.displayValue(at: $0) } == ["30", "40", nil])
        #expect((0..<3).map { out["postcode"]!.displayValue(at: $0) } == ["SW1A", "SW1A", "902"])
        #expect((0..<3).map { out["born"]!.displayValue(at: $0) } == ["1984-03-01", "1990-12-01", nil])
        // Request values: the same operations on spelled values.
        #expect(privacy.value("1984-03-17", .month) == "1984-03-01" && privacy.value("37", .band(10)) == "30" && privacy.value("not a date", .month) == "not a date")
        #expect(privacy.value(42.0, .band(5)).number == 40 && privacy.value(7.0, .pseudonymise).text == "p(7)")
    }

    /// A few distinct whole-number ages are read as categories; generalising them still bands them.
    @Test func wholeNumberCodesAreBandedNotCutToAPrefix() throws {
        let ages = Column(name: "age", values: .categorical(EncodedStrings(codes: [0, 1, 2, 0], levels: ["37", "41", "58"])))
        var column = ColumnSchema(name: "age", kind: .categorical, role: .feature, nullable: false, flags: [.integerCodes])
        column.pii = PersonalData(kind: .age, confidence: 0.9)
        var schema = Schema(columns: [column])
        schema.privacy = ["age": .generalise(.width(5))]
        let privacy = try PrivacyGuard(schema: schema, pseudonymiser: nil, keySource: "--pii-key-file")
        let out = try privacy.apply(try Frame(columns: [ages]))
        #expect((0..<4).map { out["age"]!.displayValue(at: $0) } == ["35", "40", "55", "35"])
        // Absurd dates are left for the input contract, never a crash.
        #expect(PrivacyGuard.truncate(1e300, toYear: false) == 1e300 && PrivacyGuard.band(1e308, 1e-300) == 1e308)
    }

    @Test func aPseudonymisingSchemaNeedsItsKey() throws {
        var schema = try Self.schema()
        try PrivacyPolicy.resolve(&schema, declared: ["customer": .init(.pseudonymise, source: "test")], allowed: [])
        #expect(Self.thrown { _ = try PrivacyGuard(schema: schema, pseudonymiser: nil, keySource: "--pii-key-file FILE") }.contains("needs the key: give --pii-key-file FILE"))
        schema.pseudonymKeyCheck = "k1"
        _ = try PrivacyGuard(schema: schema, pseudonymiser: MarkingPseudonymiser(keyCheck: "k1"), keySource: "--pii-key-file FILE")
        #expect(Self.thrown { _ = try PrivacyGuard(schema: schema, pseudonymiser: MarkingPseudonymiser(keyCheck: "k2"), keySource: "--pii-key-file FILE") }.contains("is not the key"))
    }

    @Test func theSchemaKeepsItsRulesThroughJSON() throws {
        var schema = try Self.schema()
        try PrivacyPolicy.resolve(&schema, declared: ["age": .init(.generalise(.width(5)), source: "test")], allowed: [])
        schema.pseudonymKeyCheck = "abc"
        let decoded = try JSONDecoder().decode(Schema.self, from: try JSONEncoder().encode(schema))
        #expect(decoded == schema && decoded.privacy?["age"] == .generalise(.width(5)))
        let bad = #"{"columns": [], "privacy": {"age": "blur"}}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Schema.self, from: Data(bad.utf8)) }
    }
}
