#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that readers see the old content or the new, never a half-written file: the bytes go to
/// a temporary file in the same folder, are flushed to disk, and the temporary file is renamed over the target.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        // Temporary names need only be unique, not reproducible, so the system generator is right here.
        let temporary = "\(path).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw DataError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(descriptor)
                unlink(temporary)
                throw DataError.cannotOpen(file: path, reason: reason)
            }
            written += result
        }
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw DataError.cannotOpen(file: path, reason: reason)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw DataError.cannotOpen(file: path, reason: reason)
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }
}
