import Foundation

/// `GET /docs`: the OpenAPI document the server serves, rendered on the server as one readable HTML page
/// (no scripts, no external assets): each operation with its summary, parameters, body and responses, and
/// the row fields with their types. The same document, so the page cannot say anything the API does not do.
enum APIPage {
    static func render(_ document: String) -> String {
        guard let root = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any] else {
            return page(title: "Keel API", body: "<p>The API document could not be read.</p>")
        }
        let info = root["info"] as? [String: Any] ?? [:]
        let title = info["title"] as? String ?? "Keel API"
        var body = "<h1>\(escape(title))</h1>"
        if let description = info["description"] as? String { body += "<p>\(escape(description))</p>" }
        body += "<p>The machine-readable document: <a href=\"/openapi.json\">/openapi.json</a>.</p>"
        let paths = root["paths"] as? [String: Any] ?? [:]
        for path in paths.keys.sorted() {
            guard let operations = paths[path] as? [String: Any] else { continue }
            for method in ["get", "post", "put", "delete"] {
                guard let operation = operations[method] as? [String: Any] else { continue }
                body += "<section><h2><code>\(method.uppercased()) \(escape(path))</code></h2>"
                if let summary = operation["summary"] as? String { body += "<p>\(escape(summary))</p>" }
                if let parameters = operation["parameters"] as? [[String: Any]], !parameters.isEmpty {
                    body += "<h3>Parameters</h3><ul>"
                    for parameter in parameters {
                        let name = parameter["name"] as? String ?? "?"
                        let place = parameter["in"] as? String ?? ""
                        let type = (parameter["schema"] as? [String: Any]).map(typeName) ?? ""
                        let text = parameter["description"] as? String ?? ""
                        body += "<li><code>\(escape(name))</code> (\(escape(place)), \(escape(type)))\(text.isEmpty ? "" : ": " + escape(text))</li>"
                    }
                    body += "</ul>"
                }
                if let request = operation["requestBody"] as? [String: Any],
                   let content = request["content"] as? [String: Any], let json = content["application/json"] as? [String: Any],
                   let schema = json["schema"] as? [String: Any] {
                    body += "<h3>Body</h3><p><code>application/json</code>: \(escape(describe(schema)))</p>"
                }
                if let responses = operation["responses"] as? [String: Any] {
                    body += "<h3>Responses</h3><table><tr><th>status</th><th>meaning</th></tr>"
                    for status in responses.keys.sorted() {
                        let text = (responses[status] as? [String: Any])?["description"] as? String ?? ""
                        body += "<tr><td>\(escape(status))</td><td>\(escape(text))</td></tr>"
                    }
                    body += "</table>"
                }
                body += "</section>"
            }
        }
        let schemas = (root["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        if let row = schemas["Row"] as? [String: Any], let properties = row["properties"] as? [String: Any] {
            let required = Set(row["required"] as? [String] ?? [])
            body += "<section><h2>Row fields</h2><table><tr><th>field</th><th>type</th><th>required</th><th>notes</th></tr>"
            for name in properties.keys.sorted(by: NaturalSort.less) {
                let property = properties[name] as? [String: Any] ?? [:]
                body += "<tr><td><code>\(escape(name))</code></td><td>\(escape(typeName(property)))</td><td>\(required.contains(name) ? "yes" : "no")</td>"
                    + "<td>\(escape(property["description"] as? String ?? ""))</td></tr>"
            }
            body += "</table></section>"
        }
        return page(title: title, body: body)
    }

    private static func describe(_ schema: [String: Any]) -> String {
        if let ref = schema["$ref"] as? String { return ref.components(separatedBy: "/").last ?? ref }
        if let options = schema["oneOf"] as? [[String: Any]] { return options.map(describe).joined(separator: " or ") }
        if let properties = schema["properties"] as? [String: Any] {
            return "an object with " + properties.keys.sorted().joined(separator: ", ")
        }
        return typeName(schema)
    }

    private static func typeName(_ schema: [String: Any]) -> String {
        if let ref = schema["$ref"] as? String { return ref.components(separatedBy: "/").last ?? ref }
        var name = (schema["type"] as? String) ?? (schema["type"] as? [String])?.joined(separator: " or ") ?? "any"
        if let values = schema["enum"] as? [Any] { name += " (one of " + values.map { "\($0)" }.joined(separator: ", ") + ")" }
        if let format = schema["format"] as? String { name += " (\(format))" }
        if schema["nullable"] as? Bool == true { name += " or null" }
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
