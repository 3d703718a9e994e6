import Foundation

/// What inference found a column to hold when it holds personal data: the kind, whether it identifies a
/// person alone (`direct`) or in combination with others (`quasi`), and how sure the evidence makes it.
///
/// Detection is evidence, not proof: a column it misses may still hold personal data, and the confidence
/// says how much of the column's values (and its name) looked like this kind.
public struct PersonalData: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case email
        case phone
        case personName = "person_name"
        case postalAddress = "postal_address"
        case ssn = "us_ssn"
        case nationalInsurance = "uk_national_insurance"
        case iban
        case creditCard = "credit_card"
        case ipAddress = "ip_address"
        case freeText = "free_text"
        case dateOfBirth = "date_of_birth"
        case age
        case postcode
        case sex
        case occupation
        case nationality
        case ethnicity
        case maritalStatus = "marital_status"

        /// Identifies a person alone, or only together with other columns.
        public var identifierClass: IdentifierClass {
            switch self {
            case .email, .phone, .personName, .postalAddress, .ssn, .nationalInsurance, .iban, .creditCard, .ipAddress, .freeText: .direct
            case .dateOfBirth, .age, .postcode, .sex, .occupation, .nationality, .ethnicity, .maritalStatus: .quasi
            }
        }

        /// As a person reads it.
        public var description: String {
            switch self {
            case .email: "e-mail addresses"
            case .phone: "phone numbers"
            case .personName: "personal names"
            case .postalAddress: "postal addresses"
            case .ssn: "US social security numbers"
            case .nationalInsurance: "UK National Insurance numbers"
            case .iban: "bank account numbers (IBAN)"
            case .creditCard: "payment card numbers"
            case .ipAddress: "IP addresses"
            case .freeText: "free text containing personal data"
            case .dateOfBirth: "dates of birth"
            case .age: "ages"
            case .postcode: "postcodes"
            case .sex: "sex or gender"
            case .occupation: "occupations"
            case .nationality: "nationalities"
            case .ethnicity: "ethnicity"
            case .maritalStatus: "marital status"
            }
        }
    }

    public enum IdentifierClass: String, Codable, Sendable {
        case direct, quasi
    }

    public var kind: Kind
    public var identifierClass: IdentifierClass
    /// 0 to 1: the share of sampled values that matched the kind, weighed with what the column's name says.
    public var confidence: Double

    public init(kind: Kind, confidence: Double) {
        self.kind = kind
        identifierClass = kind.identifierClass
        self.confidence = confidence
    }

    enum CodingKeys: String, CodingKey {
        case kind
        case identifierClass = "class"
        case confidence
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: ["kind", "class", "confidence"])
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        identifierClass = try container.decodeIfPresent(IdentifierClass.self, forKey: .identifierClass) ?? kind.identifierClass
        confidence = try container.decodeIfPresent(Double.self, forKey: .confidence) ?? 1
    }

    /// "e-mail addresses (direct identifier, confidence 0.98)".
    public var summary: String {
        "\(kind.description) (\(identifierClass == .direct ? "direct identifier" : "quasi-identifier"), confidence \(String(format: "%.2f", confidence)))"
    }
}
