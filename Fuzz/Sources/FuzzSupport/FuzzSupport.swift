import CLibFuzzer

/// A target's test function as libFuzzer calls it.
public typealias FuzzTest = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Runs libFuzzer's driver on `test`: what each target's entry function does.
///
/// SwiftPM links an executable with `main` bound to `<module>_main` (the
/// function it has the compiler emit for top-level code), so with
/// -parse-as-library the libFuzzer main() is never used: each target defines
/// `<module>_main` with @_cdecl and calls this, which is what libFuzzer's
/// main() does.
public func runFuzzer(
  _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ test: FuzzTest
) -> CInt {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv, test)
}

/// An input split into chunks at each 0xFF byte (dropped), so the fuzzer
/// decides where the network's reads end; at most `limit` chunks, the rest
/// in the last.
public func chunks(_ bytes: [UInt8], limit: Int = 64) -> [[UInt8]] {
  var result: [[UInt8]] = []
  var current: [UInt8] = []
  for byte in bytes {
    if byte == 0xFF, result.count < limit - 1 {
      result.append(current)
      current = []
    } else {
      current.append(byte)
    }
  }
  result.append(current)
  return result
}

/// `bytes` as a gzip member whose deflate stream is stored blocks, so an
/// input the fuzzer mutated as plain bytes reaches a parser through a gzip
/// decompressor intact.
public func gzipStored(_ bytes: [UInt8]) -> [UInt8] {
  var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
  var offset = 0
  repeat {
    let count = min(0xFFFF, bytes.count - offset)
    let final: UInt8 = offset + count == bytes.count ? 1 : 0
    out.append(final)
    out += littleEndian(UInt16(count)) + littleEndian(~UInt16(count))
    out += bytes[offset..<offset + count]
    offset += count
  } while offset < bytes.count
  out += littleEndian(crc32(bytes)) + littleEndian(UInt32(truncatingIfNeeded: bytes.count))
  return out
}

private func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
  (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

private let crcTable: [UInt32] = (0..<256).map { index in
  var crc = UInt32(index)
  for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
  return crc
}

func crc32(_ bytes: [UInt8]) -> UInt32 {
  var crc: UInt32 = 0xFFFF_FFFF
  for byte in bytes { crc = crcTable[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8) }
  return ~crc
}

/// The input as an array.
public func input(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
  Array(UnsafeBufferPointer(start: data, count: size))
}

/// Stops the run with a message libFuzzer reports as a crash, keeping the input.
public func violated(_ what: String) -> Never {
  fatalError("fuzz invariant violated: \(what)")
}
