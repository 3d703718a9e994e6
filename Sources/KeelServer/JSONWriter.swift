/// Builds a JSON document into one string without intermediate objects: responses are written on the hot
/// path of every request. Commas are placed automatically.
struct JSONWriter {
    private(set) var text = ""
    private var needsComma = false

    init(capacity: Int = 256) { text.reserveCapacity(capacity) }

    private mutating func separate() {
        if needsComma { text += "," }
    }

    mutating func beginObject() {
        separate()
        text += "{"
        needsComma = false
    }

    mutating func endObject() {
        text += "}"
        needsComma = true
    }

    mutating func beginArray() {
        separate()
        text += "["
        needsComma = false
    }

    mutating func endArray() {
        text += "]"
        needsComma = true
    }

    /// An object key; the value that follows is not preceded by a comma.
    mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        text += ":"
        needsComma = false
    }

    mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }

    /// Finite numbers in their shortest round-trip form; non-finite ones (never produced here) as null.
    mutating func number(_ value: Double) {
        separate()
        if !value.isFinite {
            text += "null"
        } else if value == value.rounded(), abs(value) < 1e15 {
            text += String(Int64(value))
        } else {
            text += value.description
        }
        needsComma = true
    }

    mutating func bool(_ value: Bool) {
        separate()
        text += value ? "true" : "false"
        needsComma = true
    }

    mutating func null() {
        separate()
        text += "null"
        needsComma = true
    }

    /// Inserts already-encoded JSON (a cached fragment).
    mutating func raw(_ json: String) {
        separate()
        text += json
        needsComma = true
    }

    private mutating func appendQuoted(_ value: String) {
        text += "\""
        var plain = true
        for byte in value.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            plain = false
            break
        }
        if plain {
            text += value
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                case "\t": text += "\\t"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}
