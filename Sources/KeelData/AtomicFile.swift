#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that readers see the old content or the new, never a half-written file: the bytes go to
/// a temporary file in the same folder, are flushed to disk, and the temporary file is renamed over the target.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let writer = try AtomicFileWriter(path: path)
        try writer.append(bytes)
        try writer.commit()
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }
}

/// A file written piece by piece (batch scoring of large inputs) that appears at its path only on `commit()`,
/// complete and flushed; dropped without a commit, it leaves nothing behind.
public final class AtomicFileWriter {
    public let path: String
    private let temporary: String
    private var descriptor: Int32
    private var pending: [UInt8] = []

    public init(path: String) throws {
        self.path = path
        // Temporary names need only be unique, not reproducible, so the system generator is right here.
        temporary = "\(path).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw DataError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        pending.reserveCapacity(1 << 20)
    }

    deinit {
        if descriptor >= 0 {
            close(descriptor)
            unlink(temporary)
        }
    }

    public func append(_ bytes: [UInt8]) throws {
        pending += bytes
        if pending.count >= 1 << 20 { try flush() }
    }

    public func append(_ text: String) throws {
        try append(Array(text.utf8))
    }

    /// Flushes, syncs and renames the file into place.
    public func commit() throws {
        try flush()
        guard fsync(descriptor) == 0 else { throw failure() }
        let closed = close(descriptor)
        descriptor = -1
        guard closed == 0 else { throw failure() }
        guard rename(temporary, path) == 0 else { throw failure() }
    }

    private func flush() throws {
        var written = 0
        while written < pending.count {
            let result = pending.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, pending.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                throw failure()
            }
            written += result
        }
        pending.removeAll(keepingCapacity: true)
    }

    private func failure() -> DataError {
        let reason = String(cString: strerror(errno))
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporary)
        return DataError.cannotOpen(file: path, reason: reason)
    }
}
