/// Value checks for personal data, one per kind, on UTF-8 bytes without regular expressions. Each is strict
/// enough that look-alikes fail: a product code that passes the Luhn check but has no card issuer's prefix or
/// length, an order number with letters or without a phone's grouping, a city that is not first name + name.
enum PersonalDataPatterns {
    static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 97 && (b | 0x20) <= 122 }
    static func isUpper(_ b: UInt8) -> Bool { b >= 65 && b <= 90 }

    /// local@domain.tld: a non-empty local part without spaces, a dotted domain, letters in the last label.
    static func isEmail(_ s: Substring.UTF8View) -> Bool {
        guard let at = s.firstIndex(of: UInt8(ascii: "@")), at != s.startIndex else { return false }
        let local = s[..<at], domain = s[s.index(after: at)...]
        guard !local.contains(UInt8(ascii: " ")), !domain.contains(UInt8(ascii: "@")), !domain.contains(UInt8(ascii: " ")) else { return false }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }), let tld = labels.last else { return false }
        return tld.count >= 2 && tld.allSatisfy(isLetter)
    }

    /// A phone number as people write one: 7 to 15 digits, an optional leading `+`, grouped by spaces,
    /// dashes, dots or parentheses. A bare run of digits is not enough (order numbers are written that way).
    static func isPhone(_ s: Substring.UTF8View) -> Bool {
        var digits = 0, separators = 0, plus = false
        for (i, b) in s.enumerated() {
            if isDigit(b) { digits += 1 } else if b == UInt8(ascii: "+") && i == 0 { plus = true } else if b == 32 || b == 45 || b == 46 || b == 40 || b == 41 {
                separators += 1
            } else { return false }
        }
        return (7...15).contains(digits) && (plus || separators >= 2) && !isDateShaped(s)
    }

    /// 2020-01-15, 15-01-2020, 01.15.2020: three groups of digits, 4-2-2 or 2-2-4, one separator.
    static func isDateShaped(_ s: Substring.UTF8View) -> Bool {
        for separator in [UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/")] {
            let groups = s.split(separator: separator, omittingEmptySubsequences: false)
            guard groups.count == 3, groups.allSatisfy({ $0.allSatisfy(isDigit) }) else { continue }
            let lengths = groups.map(\.count)
            if lengths == [4, 2, 2] || lengths == [2, 2, 4] || lengths == [1, 2, 4] || lengths == [2, 1, 4] || lengths == [1, 1, 4] { return true }
        }
        return false
    }

    /// AAA-GG-SSSS with the Social Security Administration's rules: no area 000, 666 or 900–999, no group 00,
    /// no serial 0000.
    static func isSSN(_ s: Substring.UTF8View) -> Bool {
        let b = Array(s)
        guard b.count == 11, b[3] == 45, b[6] == 45 else { return false }
        let parts = [b[0..<3], b[4..<6], b[7..<11]]
        guard parts.allSatisfy({ $0.allSatisfy(isDigit) }) else { return false }
        let area = Int(String(decoding: parts[0], as: UTF8.self))!
        return area != 0 && area != 666 && area < 900 && String(decoding: parts[1], as: UTF8.self) != "00"
            && String(decoding: parts[2], as: UTF8.self) != "0000"
    }

    /// Two letters (not D, F, I, Q, U or V; the second not O), six digits, a suffix A–D; spaces allowed.
    static func isNationalInsurance(_ s: Substring.UTF8View) -> Bool {
        let b = s.filter { $0 != 32 }
        guard b.count == 9 else { return false }
        let forbidden = Set("DFIQUV".utf8)
        let p0 = b[0] & ~0x20, p1 = b[1] & ~0x20, suffix = b[8] & ~0x20
        return isLetter(b[0]) && isLetter(b[1]) && !forbidden.contains(p0) && !forbidden.contains(p1) && p1 != UInt8(ascii: "O")
            && b[2..<8].allSatisfy(isDigit) && (65...68).contains(suffix)
    }

    /// A country code, two check digits and 11 to 30 letters or digits, with the ISO 13616 mod-97 check.
    static func isIBAN(_ s: Substring.UTF8View) -> Bool {
        let b = s.filter { $0 != 32 }.map { isLetter($0) ? $0 & ~0x20 : $0 }
        guard (15...34).contains(b.count), isUpper(b[0]), isUpper(b[1]), isDigit(b[2]), isDigit(b[3]),
              b.allSatisfy({ isDigit($0) || isUpper($0) }) else { return false }
        var remainder = 0
        for c in b[4...] + b[..<4] {
            if isDigit(c) { remainder = (remainder * 10 + Int(c - 48)) % 97 } else { remainder = (remainder * 100 + Int(c - 55)) % 97 }
        }
        return remainder == 1
    }

    /// 13 to 19 digits (spaces or dashes between groups) with a card issuer's prefix and length, passing the
    /// Luhn check: Visa, Mastercard, American Express, Discover, JCB, Diners Club.
    static func isCreditCard(_ s: Substring.UTF8View) -> Bool {
        var digits: [Int] = []
        for b in s {
            if isDigit(b) { digits.append(Int(b - 48)) } else if b != 32 && b != 45 { return false }
        }
        let n = digits.count
        guard (13...19).contains(n) else { return false }
        func prefix(_ k: Int) -> Int { digits.prefix(k).reduce(0) { $0 * 10 + $1 } }
        let issued = (digits[0] == 4 && [13, 16, 19].contains(n))
            || ((51...55).contains(prefix(2)) || (2221...2720).contains(prefix(4))) && n == 16
            || [34, 37].contains(prefix(2)) && n == 15
            || (prefix(4) == 6011 || prefix(2) == 65 || (644...649).contains(prefix(3))) && (16...19).contains(n)
            || (3528...3589).contains(prefix(4)) && (16...19).contains(n)
            || ((300...305).contains(prefix(3)) || [36, 38].contains(prefix(2))) && n == 14
        guard issued else { return false }
        var sum = 0
        for (i, d) in digits.reversed().enumerated() { sum += i % 2 == 1 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d }
        return sum % 10 == 0
    }

    /// Dotted IPv4 (four numbers 0–255) or IPv6 (hex groups with colons).
    static func isIPAddress(_ s: Substring.UTF8View) -> Bool {
        let v4 = s.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if v4.count == 4 {
            return v4.allSatisfy { $0.count >= 1 && $0.count <= 3 && $0.allSatisfy(isDigit) && Int(String(decoding: $0, as: UTF8.self))! <= 255 }
        }
        let v6 = s.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard (3...8).contains(v6.count), s.contains(UInt8(ascii: ":")) else { return false }
        let hex = { (b: UInt8) in isDigit(b) || ((b | 0x20) >= 97 && (b | 0x20) <= 102) }
        // A time (08:15:00) has three groups of decimal digits: an address has a hex letter, `::` or six groups.
        let shaped = v6.count >= 6 || v6.contains { $0.isEmpty } || s.contains { (b: UInt8) in (b | 0x20) >= 97 && (b | 0x20) <= 102 }
        return shaped && v6.allSatisfy { $0.count <= 4 && $0.allSatisfy(hex) } && v6.filter { !$0.isEmpty }.count >= 2
    }

    /// A house number, at least one name word, and a street type ending the street (the part before the
    /// first comma, a compass point allowed after it): "12 Acacia Avenue", "221B Baker Street, London",
    /// "1600 Pennsylvania Avenue NW". Not "1200 sq ft", "4 dr sedan" or "22 city / 30 hwy".
    static func isPostalAddress(_ s: Substring) -> Bool {
        guard let street = s.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first else { return false }
        var words = street.split(separator: " ").map { $0.lowercased().trimmingDot }
        if let last = words.last, ["n", "s", "e", "w", "ne", "nw", "se", "sw"].contains(last) { words.removeLast() }
        guard words.count >= 3, words[0].first?.isNumber == true, let type = words.last, streetTypes.contains(type) else { return false }
        return words.dropFirst().dropLast().allSatisfy { word in word.first?.isLetter == true && word.allSatisfy { $0.isLetter || $0 == "'" || $0 == "-" } }
    }

    /// One to four words, each capitalised and made of letters (apostrophes, hyphens, dots allowed):
    /// "Smith", "O'Brien", "Ana Lopez"; not "chevrolet chevelle malibu" or "SKU 1123".
    static func readsLikeName(_ s: Substring) -> Bool {
        let words = s.split(whereSeparator: { $0 == " " || $0 == "," })
        return (1...4).contains(words.count) && words.allSatisfy { w in
            w.first?.isUppercase == true && w.allSatisfy { $0.isLetter || "'.-".contains($0) }
        }
    }

    /// Two to five capitalised words, one of them a common first name, none a place's leading word
    /// ("Maria Lopez", "Braund, Mr. Owen Harris"; not "San Jose").
    static func isPersonName(_ s: Substring) -> Bool {
        let words = s.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        guard (2...6).contains(words.count), !placePrefixes.contains(words[0].lowercased()) else { return false }
        guard words.allSatisfy({ w in w.first.map { $0.isUppercase || $0 == "(" || $0 == "\"" } ?? false && w.allSatisfy { $0.isLetter || "'.-()\"".contains($0) } }) else { return false }
        return words.contains { word in
            let bare = word.trimming("().\"").lowercased()
            return firstNames.contains(bare) || titles.contains(bare)
        }
    }

    /// A UK postcode ("SW1A 1AA", "M1 1AE") or a Canadian one ("K1A 0B1").
    static func isPostcode(_ s: Substring.UTF8View) -> Bool {
        let b = Array(s)
        guard let space = b.firstIndex(of: 32), b.count - space - 1 == 3 else { return false }
        let outward = b[..<space], inward = b[(space + 1)...]
        let uk = (2...4).contains(outward.count) && isUpper(outward.first!) && outward.allSatisfy { isUpper($0) || isDigit($0) }
            && outward.contains(where: isDigit) && isDigit(inward.first!) && inward.dropFirst().allSatisfy(isUpper)
        let canada = outward.count == 3 && isUpper(b[0]) && isDigit(b[1]) && isUpper(b[2]) && isDigit(b[4]) && isUpper(b[5]) && isDigit(b[6])
        return uk || canada
    }

    static let streetTypes: Set<String> = ["street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr", "boulevard", "blvd",
                                           "way", "court", "ct", "place", "pl", "terrace", "close", "crescent", "square", "highway",
                                           "hwy", "parkway", "pkwy", "circle", "cir", "strasse", "straße"]
    /// Forms of address that only precede a person's name.
    static let titles: Set<String> = ["mr", "mrs", "ms", "miss", "mx", "dr", "master", "rev", "sir", "lady", "mme", "mlle", "madame",
                                      "monsieur", "herr", "frau", "señor", "señora", "sra", "sr", "prof"]
    static let placePrefixes: Set<String> = ["san", "santa", "santo", "são", "saint", "st", "st.", "fort", "port", "mount", "mt", "lake", "new",
                                             "north", "south", "east", "west", "el", "la", "las", "los", "le", "les", "bad", "cape", "glen"]
    /// Common given names across English, Spanish, French, German, Italian, Portuguese and Indian usage.
    static let firstNames: Set<String> = Set("""
        james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark donald steven paul \
        andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry \
        justin scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry \
        douglas zachary peter kyle noah ethan jeremy walter christian keith roger terry austin sean gerald carl harold dylan arthur lawrence \
        jordan jesse bryan billy bruce gabriel joe logan alan juan albert willie elijah wayne randy vincent mason roy ralph bobby russell \
        bradley philip eugene mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty sandra margaret \
        ashley kimberly emily donna michelle carol amanda melissa deborah stephanie dorothy rebecca sharon laura cynthia amy kathleen angela \
        shirley brenda emma anna pamela nicole samantha katherine christine helen debra rachel carolyn janet maria catherine heather diane \
        olivia julie joyce victoria ruth virginia lauren kelly christina joan evelyn judith andrea hannah megan cheryl jacqueline martha \
        madison teresa gloria sara janice ann kathryn abigail sophia frances jean alice judy isabella julia grace amber denise danielle \
        marilyn beverly charlotte natalie theresa diana brittany doris kayla alexis lori marie owen harris florence oliver harry william \
        mohammed muhammad ahmed ali omar fatima aisha priya rahul amit anil sunil ravi raj deepak pooja neha anjali vijay arjun \
        carlos luis miguel antonio francisco javier manuel pedro alejandro diego pablo sergio jorge fernando ana carmen lucia rosa \
        pierre jean-pierre jacques louis michel philippe nicolas sophie camille chloe claire isabelle nathalie marc alain \
        hans klaus jürgen stefan andreas wolfgang markus thomas sabine petra ursula monika giuseppe giovanni marco luca paolo francesca \
        giulia chiara alessandro matteo joão paulo rafael tiago bruno gustavo mariana beatriz fernanda wei li ming yan hui jun hiroshi yuki
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
}

extension String {
    fileprivate var trimmingDot: String { hasSuffix(".") ? String(dropLast()) : self }

    fileprivate func trimming(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
