import Foundation
import KeelData

/// Seeded columns of personal data, each labelled with its kind, and decoys that look like personal data but
/// are not (product codes that pass the Luhn check, order numbers written like phone numbers, city names):
/// the labelled set the detector is measured on.
public struct PersonalDataColumns {
    public struct Labelled {
        public var values: [String]
        /// Nil for a decoy.
        public var kind: PersonalData.Kind?
        public var decoy: String?
    }

    public var rows: Int
    private var generator: SeededGenerator

    public init(rows: Int = 50, seed: UInt64) {
        self.rows = rows
        generator = SeededGenerator(seed: seed)
    }

    static let given = ["James", "Maria", "Wei", "Fatima", "Olivia", "Carlos", "Priya", "Hans", "Sophie", "Ahmed", "Emma", "Luca", "Grace", "Noah"]
    static let family = ["Smith", "Garcia", "Chen", "Khan", "Müller", "Rossi", "Dubois", "Okafor", "Nguyen", "O'Brien", "Kowalski", "Silva"]
    static let streets = ["High Street", "Acacia Avenue", "Park Road", "Elm St", "Mill Lane", "Oak Drive", "King's Way", "Station Rd"]
    static let cities = ["San Jose", "Santa Clara", "New York", "Los Angeles", "Port Elizabeth", "Fort Worth", "Salt Lake City", "Saint Paul",
                         "Victoria", "Charlotte", "Jackson", "Austin", "Florence", "Milton Keynes", "Grace Bay", "Alice Springs"]

    private mutating func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(generator.next(below: 10))) }) }
    private mutating func pick<T>(_ values: [T]) -> T { values[generator.next(below: values.count)] }

    /// Appends the Luhn check digit to `body`.
    public static func luhn(_ body: String) -> String {
        let digits = body.compactMap { $0.wholeNumberValue }
        var sum = 0
        for (i, d) in digits.reversed().enumerated() { sum += i % 2 == 0 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d }
        return body + String((10 - sum % 10) % 10)
    }

    /// One value of a direct `kind` (`directKinds`); quasi-identifiers are not generated and give "".
    public mutating func value(_ kind: PersonalData.Kind) -> String {
        switch kind {
        case .email: "\(pick(Self.given).lowercased()).\(pick(Self.family).lowercased().filter(\.isLetter))\(generator.next(below: 100))@\(pick(["example.com", "mail.co.uk", "corp.de", "uni.edu"]))"
        case .phone: pick(["+44 20 \(digits(4)) \(digits(4))", "(\(digits(3))) \(digits(3))-\(digits(4))", "+1-\(digits(3))-\(digits(3))-\(digits(4))", "0\(digits(3)) \(digits(3)) \(digits(3))"])
        case .personName: "\(pick(Self.given)) \(pick(Self.family))"
        case .postalAddress: "\(1 + generator.next(below: 300)) \(pick(Self.streets)), \(pick(["Leeds", "Boston", "Lyon", "Bristol"]))"
        case .ssn: "\(String(format: "%03d", 1 + generator.next(below: 665)))-\(String(format: "%02d", 1 + generator.next(below: 98)))-\(String(format: "%04d", 1 + generator.next(below: 9998)))"
        case .nationalInsurance: "\(pick(["AB", "CE", "JG", "KL", "PR", "TW"])) \(digits(2)) \(digits(2)) \(digits(2)) \(pick(["A", "B", "C", "D"]))"
        case .iban: iban()
        case .creditCard: Self.luhn(creditCardBody())
        case .ipAddress: "\(generator.next(below: 223) + 1).\(generator.next(below: 256)).\(generator.next(below: 256)).\(generator.next(below: 256))"
        case .freeText: "Customer called about the invoice, please reply to \(value(.email)) before \(generator.next(below: 28) + 1) May"
        default: ""
        }
    }

    private mutating func creditCardBody() -> String {
        let prefix = pick(["4", "51", "37", "6011"])
        let length = prefix == "37" ? 15 : 16
        return prefix + digits(length - 1 - prefix.count)
    }

    private mutating func iban() -> String {
        let bban = "\(pick(["NWBK", "BARC", "MIDL"]))\(digits(14))"
        // Check digits so that BBAN + "GB" + check ≡ 1 (mod 97).
        let numeric = (bban + "GB00").map { $0.isLetter ? String(Int($0.asciiValue! - 55)) : String($0) }.joined()
        var remainder = 0
        for c in numeric { remainder = (remainder * 10 + c.wholeNumberValue!) % 97 }
        return "GB\(String(format: "%02d", 98 - remainder))\(bban)"
    }

    /// One decoy value: a look-alike that is not personal data.
    public mutating func decoy(_ name: String) -> String {
        switch name {
        case "imei": Self.luhn("35" + digits(12))
        case "order-number": "ORD-\(digits(4))-\(digits(6))"
        case "bare-number": digits(10)
        case "city": pick(Self.cities)
        case "product-code": Self.luhn("8" + digits(10))
        default: "\(name)-\(generator.next(below: 1000))"
        }
    }

    public static let decoys = ["imei", "order-number", "bare-number", "city", "product-code"]
    public static let directKinds: [PersonalData.Kind] = [.email, .phone, .personName, .postalAddress, .ssn, .nationalInsurance, .iban, .creditCard,
                                                          .ipAddress, .freeText]

    /// `count` columns of each direct kind and `count` of each decoy, in a seeded order.
    public mutating func labelled(count: Int) -> [Labelled] {
        var columns: [Labelled] = []
        for kind in Self.directKinds {
            for _ in 0..<count { columns.append(Labelled(values: (0..<rows).map { _ in value(kind) }, kind: kind, decoy: nil)) }
        }
        for name in Self.decoys {
            for _ in 0..<count { columns.append(Labelled(values: (0..<rows).map { _ in decoy(name) }, kind: nil, decoy: name)) }
        }
        return columns
    }
}
