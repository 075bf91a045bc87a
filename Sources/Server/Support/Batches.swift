import GRPCCore

extension RPCWriter {
  /// The Stream* RPCs: a list answer in messages of at most `size` items,
  /// so no single message nears the size limit.
  func writeInBatches<Item>(_ items: [Item], size: Int = 100, _ message: ([Item]) -> Element) async throws {
    for start in stride(from: 0, to: items.count, by: size) {
      try await write(message(Array(items[start..<min(start + size, items.count)])))
    }
  }
}
