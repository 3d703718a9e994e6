import CZlib
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file in chunks, decompressing gzip transparently (zlib passes plain files through), so a
/// `.csv.gz` streams exactly like a `.csv` and neither is ever held whole in memory.
final class ByteSource {
    private let handle: gzFile
    let path: String

    init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw DataError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) != S_IFDIR else { throw DataError.cannotOpen(file: path, reason: "it is a directory") }
        guard let handle = gzopen(path, "rb") else {
            throw DataError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        gzbuffer(handle, 1 << 18)
        self.handle = handle
        self.path = path
    }

    deinit { gzclose(handle) }

    /// Fills as much of `buffer` as it can; returns 0 at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let count = gzread(handle, base, UInt32(min(buffer.count, Int(Int32.max))))
        if count < 0 {
            var code: Int32 = 0
            let message = gzerror(handle, &code).map { String(cString: $0) } ?? "read error"
            throw DataError.cannotOpen(file: path, reason: message)
        }
        return Int(count)
    }
}
