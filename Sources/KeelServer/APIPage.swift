import Foundation

/// `GET /docs`: the OpenAPI document the server serves, rendered on the server as one readable HTML page
/// (no scripts, no external assets): each operation with its summary, who may call it, parameters, body and
/// responses with their error codes, and the row fields with their types. The same document, so the page
/// cannot say anything the API does not do.
struct APIPage {
    /// The document's named schemas: a request body's alternatives are spelled out from them.
    private let components: [String: Any]

    static func render(_ document: String) -> String {
        guard let root = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any] else {
            return page(title: "Keel API", body: "<p>The API document could not be read.</p>")
        }
        let info = root["info"] as? [String: Any] ?? [:]
        let title = info["title"] as? String ?? "Keel API"
        var body = "<h1>\(escape(title))</h1>"
        if let description = info["description"] as? String { body += "<p>\(inline(description))</p>" }
        body += "<p>The machine-readable document: <a href=\"/openapi.json\">/openapi.json</a>.</p>"
        let page = APIPage(components: (root["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:])
        body += page.operations(root["paths"] as? [String: Any] ?? [:]) + page.rowFields()
        return Self.page(title: title, body: body)
    }

    private func operations(_ paths: [String: Any]) -> String {
        var body = ""
        for path in paths.keys.sorted() {
            guard let operations = paths[path] as? [String: Any] else { continue }
            for method in ["get", "post", "put", "delete"] {
                guard let operation = operations[method] as? [String: Any] else { continue }
                body += "<section><h2><code>\(method.uppercased()) \(Self.escape(path))</code></h2>"
                for key in ["summary", "description"] {
                    if let text = operation[key] as? String { body += "<p>\(Self.inline(text))</p>" }
                }
                if let parameters = operation["parameters"] as? [[String: Any]], !parameters.isEmpty {
                    body += "<h3>Parameters</h3><ul>"
                    for parameter in parameters {
                        let name = parameter["name"] as? String ?? "?"
                        let place = parameter["in"] as? String ?? ""
                        let type = (parameter["schema"] as? [String: Any]).map(Self.typeName) ?? ""
                        let text = parameter["description"] as? String ?? ""
                        body += "<li><code>\(Self.escape(name))</code> (\(Self.escape(place)), \(Self.escape(type)))\(text.isEmpty ? "" : ": " + Self.escape(text))</li>"
                    }
                    body += "</ul>"
                }
                if let request = operation["requestBody"] as? [String: Any],
                   let content = request["content"] as? [String: Any], let json = content["application/json"] as? [String: Any],
                   let schema = json["schema"] as? [String: Any] {
                    body += "<h3>Body</h3><p><code>application/json</code>: \(Self.escape(describe(schema)))</p>"
                }
                if let responses = operation["responses"] as? [String: Any] {
                    body += "<h3>Responses</h3><table><tr><th>status</th><th>meaning</th><th>body</th></tr>"
                    for status in responses.keys.sorted() {
                        let response = responses[status] as? [String: Any] ?? [:]
                        let text = response["description"] as? String ?? ""
                        let content = (response["content"] as? [String: Any]) ?? [:]
                        let shape = content.keys.sorted().map { type in
                            "\(type): " + (((content[type] as? [String: Any])?["schema"] as? [String: Any]).map(describe) ?? "")
                        }.joined(separator: "; ")
                        body += "<tr><td>\(Self.escape(status))</td><td>\(Self.escape(text))</td><td>\(Self.escape(shape))</td></tr>"
                    }
                    body += "</table>"
                }
                body += "</section>"
            }
        }
        return body
    }

    /// A table of each model's row fields.
    private func rowFields() -> String {
        var body = ""
        for name in components.keys.sorted() where name == "Row" || name.hasSuffix(".Row") {
            guard let row = components[name] as? [String: Any], let properties = row["properties"] as? [String: Any] else { continue }
            let model = name == "Row" ? "" : " of " + String(name.dropLast(4))
            let required = Set(row["required"] as? [String] ?? [])
            body += "<section><h2>Row fields\(Self.escape(model))</h2><p>Any other field is refused (422 unknown_field).</p>"
                + "<table><tr><th>field</th><th>type</th><th>required</th><th>notes</th></tr>"
            for field in properties.keys.sorted(by: NaturalSort.less) {
                let property = properties[field] as? [String: Any] ?? [:]
                body += "<tr><td><code>\(Self.escape(field))</code></td><td>\(Self.escape(Self.typeName(property)))</td>"
                    + "<td>\(required.contains(field) ? "yes" : "no")</td><td>\(Self.escape(property["description"] as? String ?? ""))</td></tr>"
            }
            body += "</table></section>"
        }
        return body
    }

    private func describe(_ schema: [String: Any]) -> String {
        if let ref = schema["$ref"] as? String {
            let name = ref.components(separatedBy: "/").last ?? ref
            // A body's alternatives ("Row or an object with rows") are spelled out; named objects keep their name.
            if let target = components[name] as? [String: Any], target["oneOf"] != nil || target["anyOf"] != nil { return describe(target) }
            return name
        }
        if let parts = schema["allOf"] as? [[String: Any]], let first = parts.first { return describe(first) }
        if let options = (schema["oneOf"] ?? schema["anyOf"]) as? [[String: Any]] { return options.map(describe).joined(separator: " or ") }
        if let items = schema["items"] as? [String: Any] {
            let bounds = [(schema["minItems"] as? Int).map { "at least \($0)" }, (schema["maxItems"] as? Int).map { "at most \($0)" }].compactMap { $0 }
            return "an array of " + describe(items) + (bounds.isEmpty ? "" : " (\(bounds.joined(separator: ", ")))")
        }
        if let properties = schema["properties"] as? [String: Any] {
            if properties.isEmpty { return "an empty object" }
            return "an object with " + properties.keys.sorted().map { key in
                (properties[key] as? [String: Any]).map { "\(key) (\(describe($0)))" } ?? key
            }.joined(separator: ", ")
        }
        return Self.typeName(schema)
    }

    private static func typeName(_ schema: [String: Any]) -> String {
        if let ref = schema["$ref"] as? String { return ref.components(separatedBy: "/").last ?? ref }
        var name = (schema["type"] as? String) ?? (schema["type"] as? [String])?.joined(separator: " or ") ?? "any"
        if let values = schema["enum"] as? [Any] { name += " (one of " + values.map { "\($0)" }.joined(separator: ", ") + ")" }
        if let low = schema["minimum"], let high = schema["maximum"] { name += " from \(low) to \(high)" }
        if let value = schema["default"] { name += ", default \(value)" }
        if let length = schema["maxLength"] as? Int { name += ", strings of at most \(length) characters" }
        if let value = schema["const"] { name = "\(value)" }
        return name
    }

    private static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
        h2{font-size:1.1rem;margin-top:2rem;border-top:1px solid #ddd;padding-top:1rem}h3{font-size:.95rem;margin-bottom:.2rem}
        code{background:#f3f3f3;padding:0 .2rem}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
        </style></head><body>
        \(body)
        </body></html>
        """
    }

    /// `text` escaped, with its `code spans` (the only markdown the document's descriptions use) as code.
    static func inline(_ text: String) -> String {
        escape(text).split(separator: "`", omittingEmptySubsequences: false).enumerated().map { index, part in
            index % 2 == 1 ? "<code>\(part)</code>" : String(part)
        }.joined()
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// Field names in the order a person reads them: `x2` before `x10`.
enum NaturalSort {
    static func less(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: [.numeric, .caseInsensitive]) == .orderedAscending
    }
}
