/// The fields of the current record, in manually managed buffers: the tokenizer's inner loop appends to
/// them for every field, and plain arrays would pay uniqueness checks and reference counting each time.
struct FieldList {
    private(set) var start = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    private(set) var length = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    private(set) var flags = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    private var capacity = 64
    var count = 0

    mutating func append(_ offset: Int, _ fieldLength: Int, _ fieldFlags: UInt8) {
        if count == capacity { grow() }
        start[count] = offset
        length[count] = fieldLength
        flags[count] = fieldFlags
        count &+= 1
    }

    private mutating func grow() {
        let newCapacity = capacity * 2
        let (newStart, newLength, newFlags) = (
            UnsafeMutablePointer<Int>.allocate(capacity: newCapacity), UnsafeMutablePointer<Int>.allocate(capacity: newCapacity),
            UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity))
        newStart.update(from: start, count: count)
        newLength.update(from: length, count: count)
        newFlags.update(from: flags, count: count)
        deallocate()
        (start, length, flags, capacity) = (newStart, newLength, newFlags, newCapacity)
    }

    func deallocate() {
        start.deallocate()
        length.deallocate()
        flags.deallocate()
    }
}
