import CZlib
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file in chunks, decompressing gzip transparently (zlib passes plain files through), so a
/// `.csv.gz` streams exactly like a `.csv` and neither is ever held whole in memory. Compressed input is
/// inflated on a second thread, a few chunks ahead of the parser, so decompression and parsing overlap.
final class ByteSource {
    private let handle: GzipHandle
    private let readAhead: ReadAhead?
    let path: String

    init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw DataError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) != S_IFDIR else { throw DataError.cannotOpen(file: path, reason: "it is a directory") }
        guard let raw = gzopen(path, "rb") else {
            throw DataError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        gzbuffer(raw, 1 << 18)
        handle = GzipHandle(raw: raw, path: path)
        self.path = path
        readAhead = gzdirect(raw) == 0 ? ReadAhead(handle: handle) : nil
    }

    deinit { readAhead?.cancel() }

    /// Whether zlib inflates the file (only then does it read ahead on a second thread).
    var isCompressed: Bool { readAhead != nil }

    /// Fills as much of `buffer` as it can; returns 0 at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let readAhead { return try readAhead.read(into: buffer) }
        return try handle.read(into: buffer)
    }
}

/// A zlib file handle, closed when the last user lets go of it.
final class GzipHandle: @unchecked Sendable {
    private let raw: gzFile
    let path: String

    init(raw: gzFile, path: String) {
        self.raw = raw
        self.path = path
    }

    deinit { gzclose(raw) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let count = gzread(raw, base, UInt32(min(buffer.count, Int(Int32.max))))
        if count < 0 {
            var code: Int32 = 0
            let message = gzerror(raw, &code).map { String(cString: $0) } ?? "read error"
            throw DataError.cannotOpen(file: path, reason: message)
        }
        return Int(count)
    }
}

/// A bounded ring of chunks filled by a producer thread. Semaphores order every hand-over, so the producer's
/// writes to a slot happen before the consumer reads it and vice versa.
final class ReadAhead: @unchecked Sendable {
    private static let slotCount = 4
    private static let chunkSize = 1 << 20

    private let chunks: [UnsafeMutableRawBufferPointer]
    private var filled = [Int](repeating: 0, count: ReadAhead.slotCount)
    private var failure: (any Error)?
    /// Starts at 0 and is signalled once per slot: libdispatch traps when a semaphore is destroyed with a
    /// value below the one it was created with, which an early cancellation would otherwise cause.
    private let free = DispatchSemaphore(value: 0)
    private let ready = DispatchSemaphore(value: 0)
    private let cancellation = CancellationFlag()
    private var consumerSlot = 0
    private var consumerOffset = 0
    private var holdingSlot = false
    private var finished = false

    init(handle: GzipHandle) {
        chunks = (0..<Self.slotCount).map { _ in .allocate(byteCount: Self.chunkSize, alignment: 16) }
        for _ in 0..<Self.slotCount { free.signal() }
        DispatchQueue.global().async { [self] in produce(handle) }
    }

    deinit { for chunk in chunks { chunk.deallocate() } }

    private func produce(_ handle: GzipHandle) {
        var slot = 0
        while true {
            free.wait()
            if cancellation.isCancelled { return }
            do {
                filled[slot] = try handle.read(into: chunks[slot])
            } catch {
                failure = error
                filled[slot] = 0
            }
            let done = filled[slot] == 0
            ready.signal()
            if done { return }
            slot = (slot + 1) % Self.slotCount
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if finished { return 0 }
        if !holdingSlot {
            ready.wait()
            holdingSlot = true
            consumerOffset = 0
            if filled[consumerSlot] == 0 {
                finished = true
                if let failure { throw failure }
                return 0
            }
        }
        let available = filled[consumerSlot] - consumerOffset
        let count = min(available, buffer.count)
        buffer.baseAddress!.copyMemory(from: chunks[consumerSlot].baseAddress! + consumerOffset, byteCount: count)
        consumerOffset += count
        if consumerOffset == filled[consumerSlot] {
            holdingSlot = false
            consumerSlot = (consumerSlot + 1) % Self.slotCount
            free.signal()
        }
        return count
    }

    /// Lets a producer that waits for a free slot exit when the reader stops early (an error, say).
    func cancel() {
        cancellation.cancel()
        free.signal()
    }
}

/// A cancellation flag read by the producer thread after each wait.
final class CancellationFlag: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var cancelled = false

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    var isCancelled: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return cancelled
    }

    func cancel() {
        pthread_mutex_lock(mutex)
        cancelled = true
        pthread_mutex_unlock(mutex)
    }
}
