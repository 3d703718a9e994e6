/// Stored Parquet values (plain layout, little-endian) to Keel's `Double`s: numbers as they are, decimals
/// unscaled / 10^scale, dates and timestamps as seconds since 1970-01-01 UTC. One loop per stored type.
///
/// Timestamps split into whole seconds and the fraction before converting, so a whole-second value is exact
/// (the same `Double` a CSV file's `2024-01-31 12:00:00` reads as).
enum NumberConversion {
    static func convert(_ data: UnsafeRawBufferPointer, count: Int, numeric: NumericConversion, width: Int,
                        into out: UnsafeMutablePointer<Double>) {
        precondition(width * count <= data.count)
        switch numeric {
        case .int32(let unsigned):
            if unsigned {
                for i in 0..<count { out[i] = Double(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            } else {
                for i in 0..<count { out[i] = Double(Int32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            }
        case .int64(let unsigned):
            if unsigned {
                for i in 0..<count { out[i] = Double(UInt64(littleEndian: data.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))) }
            } else {
                for i in 0..<count { out[i] = Double(Int64(littleEndian: data.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            }
        case .float:
            for i in 0..<count {
                out[i] = Double(Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
            }
        case .double:
            for i in 0..<count {
                out[i] = Double(bitPattern: UInt64(littleEndian: data.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
            }
        case .float16:
            for i in 0..<count { out[i] = half(UInt16(littleEndian: data.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .decimal32(let scale):
            for i in 0..<count { out[i] = scaled(Double(Int32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))), scale) }
        case .decimal64(let scale):
            for i in 0..<count { out[i] = scaled(Double(Int64(littleEndian: data.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))), scale) }
        case .decimalBytes:
            for i in 0..<count { out[i] = decimal(UnsafeRawBufferPointer(rebasing: data[width * i..<width * (i + 1)]), numeric: numeric) }
        case .date32:
            for i in 0..<count { out[i] = Double(Int64(Int32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) * 86_400) }
        case .ticks32(let perSecond):
            for i in 0..<count { out[i] = ticks(Int64(Int32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))), perSecond) }
        case .ticks64(let perSecond):
            for i in 0..<count { out[i] = ticks(Int64(littleEndian: data.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)), perSecond) }
        case .int96:
            for i in 0..<count {
                let nanos = Int64(littleEndian: data.loadUnaligned(fromByteOffset: 12 * i, as: Int64.self))
                let julianDay = Int64(Int32(littleEndian: data.loadUnaligned(fromByteOffset: 12 * i + 8, as: Int32.self)))
                // Julian day 2440588 is 1970-01-01.
                let whole = (julianDay - 2_440_588) &* 86_400 &+ nanos / 1_000_000_000
                out[i] = Double(whole) + Double(nanos % 1_000_000_000) / 1e9
            }
        }
    }

    /// A big-endian two's-complement unscaled decimal (FIXED_LEN_BYTE_ARRAY or BYTE_ARRAY) as a `Double`.
    static func decimal(_ bytes: UnsafeRawBufferPointer, numeric: NumericConversion) -> Double {
        guard case .decimalBytes(let scale) = numeric, !bytes.isEmpty else { return .nan }
        if bytes.count <= 8 {
            var value = Int64(Int8(bitPattern: bytes[0]))
            for i in 1..<bytes.count { value = value << 8 | Int64(bytes[i]) }
            return scaled(Double(value), scale)
        }
        var value = Double(Int8(bitPattern: bytes[0]))
        for i in 1..<bytes.count { value = value * 256 + Double(bytes[i]) }
        return scaled(value, scale)
    }

    private static let powers: [Double] = (0...22).map { p in (0..<p).reduce(1.0) { r, _ in r * 10 } }

    /// `unscaled` / 10^scale: one correctly rounded division, so `1234` at scale 2 is the `Double` "12.34" parses to.
    @inline(__always)
    static func scaled(_ unscaled: Double, _ scale: Int) -> Double {
        if scale == 0 { return unscaled }
        if scale > 0, scale <= 22 { return unscaled / powers[scale] }
        if scale < 0, scale >= -22 { return unscaled * powers[-scale] }
        var result = unscaled
        if scale > 0 { for _ in 0..<scale { result /= 10 } } else { for _ in 0..<(-scale) { result *= 10 } }
        return result
    }

    @inline(__always)
    static func ticks(_ value: Int64, _ perSecond: Int64) -> Double {
        var whole = value / perSecond
        var fraction = value % perSecond
        if fraction < 0 {
            whole -= 1
            fraction += perSecond
        }
        return fraction == 0 ? Double(whole) : Double(whole) + Double(fraction) / Double(perSecond)
    }

    /// An IEEE half-precision float.
    static func half(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int(bits >> 10 & 0x1F)
        let mantissa = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * mantissa * 0x1p-24
        case 31: return mantissa == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mantissa / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
