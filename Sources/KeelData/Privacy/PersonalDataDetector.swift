/// Finds columns holding personal data, by their name and by a sample of their values (the first 200
/// distinct ones). A column whose values match a kind's pattern in most of the sample is that kind, more
/// surely when its name says so too; a name alone (a phone number stored as a number, an `age` column) is
/// weaker evidence, and says so in its confidence.
public enum PersonalDataDetector {
    static let sampleSize = 200
    /// The share of sampled values that must match a pattern for the column to be of its kind.
    static let majority = 0.6
    /// The share of free-text values that must contain an identifier for the column to count as holding them.
    static let textShare = 0.05
    /// The confidence of a finding from the column's name alone.
    static let nameOnly = 0.5

    public static func detect(_ column: Column) -> PersonalData? {
        let hint = hint(column.name)
        switch column.values {
        case .categorical(let strings), .text(let strings):
            let sample = strings.levels.prefix(sampleSize).map { $0.trimmed }.filter { !$0.isEmpty }
            if let found = byValues(sample, hint: hint) { return found }
            if let text = freeText(sample) { return text }
            // A name alone makes a direct identifier only of a column with many values: `telephone` holding
            // yes and no says whether there is a phone, not which.
            if hint?.identifierClass == .direct, !manyValues(strings.levels.count, rows: strings.codes.count) { return nil }
            // A column named `name` holds people's names only if its values read like them ("Smith",
            // "Ana Lopez"), not car models or product names.
            if hint == .personName, Double(sample.filter(PersonalDataPatterns.readsLikeName).count) < majority * Double(sample.count) { return nil }
        case .numeric(let values):
            if hint == .age {
                let present = values.filter { !$0.isNaN }
                let plausible = !present.isEmpty && present.allSatisfy { $0 >= 0 && $0 <= 120 }
                return PersonalData(kind: .age, confidence: plausible ? 0.9 : 0.6)
            }
            // Card numbers without separators are read as numbers; below 2^53 (every 13- to 16-digit card
            // but the rare 16-digit ones above 9007…) the number keeps every digit, so the card check runs.
            let distinct = Set(values.prefix(10_000).filter { !$0.isNaN })
            let sample = distinct.sorted().prefix(sampleSize)
            if !sample.isEmpty, sample.allSatisfy({ $0 >= 1e12 && $0 < 9_007_199_254_740_992 && $0 == $0.rounded() }) {
                let digits = sample.map { Substring(String(Int64($0))) }
                if let found = byValues(digits, hint: hint), found.kind == .creditCard { return found }
            }
            // A number can be a phone, social security or card number, written without separators; never
            // an address, a name or an IP address, and never when it has fractions or few values.
            if let hint, hint.identifierClass == .direct {
                let numbers = [PersonalData.Kind.phone, .ssn, .creditCard].contains(hint) && sample.allSatisfy { $0 == $0.rounded() && $0 >= 1e6 }
                if !numbers || !manyValues(distinct.count, rows: min(values.count, 10_000)) { return nil }
            }
        case .datetime:
            // Dates are only ever dates of birth: `phone_activation_date` says when, not whose.
            return hint == .dateOfBirth ? PersonalData(kind: .dateOfBirth, confidence: 0.9) : nil
        case .boolean:
            // `email_verified`, `has_phone`: whether there is one, not which.
            return nil
        }
        // A name alone is weaker evidence than any match of values.
        return hint.map { PersonalData(kind: $0, confidence: Self.nameOnly) }
    }

    /// Enough distinct values to tell people apart: at least 20, and at least one row in ten.
    static func manyValues(_ distinct: Int, rows: Int) -> Bool { distinct >= 20 && distinct * 10 >= rows }

    /// The kind most of `sample` matches, if any.
    static func byValues(_ sample: [Substring], hint: PersonalData.Kind?) -> PersonalData? {
        guard !sample.isEmpty else { return nil }
        let checks: [(PersonalData.Kind, (Substring) -> Bool)] = [
            (.email, { PersonalDataPatterns.isEmail($0.utf8) }),
            (.ssn, { PersonalDataPatterns.isSSN($0.utf8) }),
            (.nationalInsurance, { PersonalDataPatterns.isNationalInsurance($0.utf8) }),
            (.iban, { PersonalDataPatterns.isIBAN($0.utf8) }),
            (.creditCard, { PersonalDataPatterns.isCreditCard($0.utf8) }),
            (.ipAddress, { PersonalDataPatterns.isIPAddress($0.utf8) }),
            (.phone, { PersonalDataPatterns.isPhone($0.utf8) }),
            (.postcode, { PersonalDataPatterns.isPostcode($0.utf8) }),
            (.postalAddress, PersonalDataPatterns.isPostalAddress),
            (.personName, PersonalDataPatterns.isPersonName),
        ]
        var best: (kind: PersonalData.Kind, share: Double)?
        for (kind, matches) in checks {
            let share = Double(sample.reduce(0) { $0 + (matches($1) ? 1 : 0) }) / Double(sample.count)
            if share >= majority, share > (best?.share ?? 0) { best = (kind, share) }
        }
        if let best { return PersonalData(kind: best.kind, confidence: 0.6 * best.share + 0.4 * (hint == best.kind ? 1 : 0.5)) }
        let sexes: Set<String> = ["m", "f", "male", "female", "man", "woman", "x", "other", "non-binary", "nonbinary", "unknown"]
        let levels = Set(sample.map { $0.lowercased() })
        if levels.count >= 2, levels.isSubset(of: sexes), hint == .sex || !levels.isDisjoint(with: ["male", "female", "man", "woman"]) {
            return PersonalData(kind: .sex, confidence: hint == .sex ? 0.95 : 0.8)
        }
        return nil
    }

    /// Free text (values of several words) in which enough values contain an e-mail address, a phone number,
    /// a national identifier, a card number or an IP address.
    static func freeText(_ sample: [Substring]) -> PersonalData? {
        let texts = sample.filter { $0.split(separator: " ").count >= 4 }
        guard texts.count >= 2, texts.count * 2 >= sample.count else { return nil }
        let containing = texts.filter { text in
            text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" }).contains { word in
                let token = word.trimmingPunctuation
                return PersonalDataPatterns.isEmail(token.utf8) || PersonalDataPatterns.isSSN(token.utf8) || PersonalDataPatterns.isCreditCard(token.utf8)
                    || PersonalDataPatterns.isIBAN(token.utf8) || PersonalDataPatterns.isIPAddress(token.utf8)
                    || (token.contains("-") && PersonalDataPatterns.isPhone(token.utf8))
            }
        }.count
        let share = Double(containing) / Double(texts.count)
        return containing >= 2 && share >= textShare ? PersonalData(kind: .freeText, confidence: min(1, 0.5 + share)) : nil
    }

    /// The kind a column's name says it holds: its words, split at punctuation and case changes.
    public static func hint(_ name: String) -> PersonalData.Kind? {
        let words = Self.words(name)
        let joined = words.joined()
        func has(_ any: Set<String>) -> Bool { !any.isDisjoint(with: words) || any.contains(joined) }
        if joined.contains("email") || has(["mail"]) && words.count <= 2 && words.contains("e") { return .email }
        if has(["phone", "telephone", "tel", "mobile", "cellphone", "fax", "phonenumber"]) { return .phone }
        if has(["ssn", "socialsecurity", "socialsecuritynumber"]) { return .ssn }
        if has(["nino", "nationalinsurance", "nationalinsurancenumber", "ninumber"]) { return .nationalInsurance }
        if has(["iban"]) { return .iban }
        if has(["creditcard", "cardnumber", "ccnumber", "pan", "creditcardnumber"]) { return .creditCard }
        if has(["ip", "ipaddress", "ipaddr"]) { return .ipAddress }
        if has(["dob", "birthdate", "birthday", "dateofbirth", "born"]) || words.contains("birth") { return .dateOfBirth }
        if has(["firstname", "lastname", "surname", "fullname", "givenname", "forename", "middlename", "maidenname"]) { return .personName }
        if words.last == "name", words.count == 1 || persons.contains(words[words.count - 2]) { return .personName }
        if has(["address", "street", "addressline", "streetaddress"]), words.allSatisfy({ !["mac", "web", "url", "wallet", "server", "memory"].contains($0) }) {
            return .postalAddress
        }
        if has(["postcode", "postalcode", "zip", "zipcode"]) { return .postcode }
        // `age`, `customer_age`, `age_years`; not `age_of_vehicle` or `account_age`.
        if words == ["age"] || words.count == 2 && words.contains("age")
            && (persons.union(["years", "yrs", "at", "in", "current"])).contains(words.first { $0 != "age" } ?? "") {
            return .age
        }
        if has(["sex", "gender"]) { return .sex }
        if has(["occupation", "job", "jobtitle", "profession"]) { return .occupation }
        if has(["nationality", "citizenship", "nativecountry", "countryofbirth"]) { return .nationality }
        if has(["ethnicity", "ethnic", "race"]) { return .ethnicity }
        if has(["marital", "maritalstatus"]) { return .maritalStatus }
        return nil
    }

    static let persons: Set<String> = ["customer", "client", "patient", "employee", "user", "contact", "person", "passenger", "member",
                                       "applicant", "holder", "owner", "student", "account", "cardholder", "guest", "borrower", "subscriber"]

    /// "dateOfBirth" → date, of, birth; "E-mail_Address" → e, mail, address.
    static func words(_ name: String) -> [String] {
        var words: [String] = [], current = ""
        var previousLower = false
        for c in name {
            if !(c.isLetter || c.isNumber) {
                if !current.isEmpty { words.append(current) }
                current = ""; previousLower = false
                continue
            }
            if c.isUppercase, previousLower, !current.isEmpty { words.append(current); current = "" }
            current.append(Character(c.lowercased()))
            previousLower = c.isLowercase || c.isNumber
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}

extension String {
    fileprivate var trimmed: Substring {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return s
    }
}

extension Substring {
    fileprivate var trimmingPunctuation: Substring {
        var s = self
        while let f = s.first, "([<\"'".contains(f) { s = s.dropFirst() }
        while let l = s.last, ".,;:)]>\"'!?".contains(l) { s = s.dropLast() }
        return s
    }
}
