#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Support
import Testing

/// `readdir` records are packed by their real length, so the last one of a
/// buffer can end a few bytes before an unmapped page. A name must be read in
/// place; copying the whole `struct dirent` (280 bytes) there crashed the
/// daemon's start-up once, walking cgroups in CI.
@Suite struct DirectoryEntryTests {
  @Test func aRecordEndingAtAnUnmappedPageIsReadInPlace() throws {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let mapping = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
    #expect(mapping != MAP_FAILED)
    defer { munmap(mapping, 2 * page) }
    #expect(mprotect(mapping + page, page, PROT_NONE) == 0)
    // A record for "pod" whose name's terminating zero is the page's last byte.
    let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
    let name: [UInt8] = Array("pod".utf8) + [0]
    let recordStart = page - nameOffset - name.count
    let record = mapping + recordStart
    for (index, byte) in name.enumerated() { record.storeBytes(of: byte, toByteOffset: nameOffset + index, as: UInt8.self) }
    let entry = record.bindMemory(to: dirent.self, capacity: 1)
    #expect(Files.entryName(entry) == Array("pod".utf8))
  }

  @Test func listingNamesEveryEntryButDotAndDotDot() throws {
    let directory = try Files.makeTemporaryDirectory(prefix: "entries-")
    defer { Files.removeTree(directory) }
    let names = (0..<300).map { String(repeating: "n", count: 1 + $0 % 200) + "\($0)" }
    for name in names { try Files.write(directory + "/" + name, "") }
    #expect(Set(try Files.list(directory)) == Set(names))
  }
}
