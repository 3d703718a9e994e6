/// A SHA-256 over a frame's canonical typed content: column names, kinds and values in column order.
///
/// Spelling does not matter (quoting, CRLF or LF, `1.50` or `1.5`, a byte order mark, gzip or not), only
/// the typed values and the column order, so a model records exactly which data it was trained on.
/// Numbers hash as IEEE bits with every NaN made one NaN and -0 made 0; strings hash as level texts
/// (length-prefixed) plus one code per row.
extension Frame {
    public var fingerprint: String {
        var hasher = SHA256Hasher()
        hasher.update("keel-frame-v1")
        hasher.update(integer: UInt64(columnCount))
        hasher.update(integer: UInt64(rowCount))
        for column in columns {
            hashText(column.name, into: &hasher)
            hashText(column.kind.rawValue, into: &hasher)
            switch column.values {
            case .numeric(let values), .datetime(let values):
                let canonical = values.map { $0.isNaN ? Double.nan.bitPattern : ($0 == 0 ? 0 : $0.bitPattern.littleEndian) }
                canonical.withUnsafeBytes { hasher.update($0) }
            case .categorical(let strings), .text(let strings):
                hasher.update(integer: UInt64(strings.levels.count))
                for level in strings.levels { hashText(level, into: &hasher) }
                strings.codes.map(\.littleEndian).withUnsafeBytes { hasher.update($0) }
            case .boolean(let bytes):
                bytes.withUnsafeBytes { hasher.update($0) }
            }
        }
        return SHA256Hasher.hex(hasher.finalize())
    }

    private func hashText(_ text: String, into hasher: inout SHA256Hasher) {
        let bytes = Array(text.utf8)
        hasher.update(integer: UInt64(bytes.count))
        hasher.update(bytes)
    }
}
