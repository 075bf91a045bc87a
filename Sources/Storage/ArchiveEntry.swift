import CArchive
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the unpacker needs of one tar header, copied out of libarchive's
/// entry (which the next header overwrites). Names are bytes, as on disk.
struct ArchiveEntry {
  var path: [UInt8]
  var hardlink: [UInt8]?
  var symlink: [UInt8]?
  var type: mode_t
  var permissions: mode_t
  var uid: uid_t
  var gid: gid_t
  var deviceMajor: UInt32
  var deviceMinor: UInt32
  var size: Int64
  var accessTime: timespec
  var modificationTime: timespec
  var xattrs: [(name: [UInt8], value: [UInt8])]

  var pathText: String { String(decoding: path, as: UTF8.self) }

  init(_ entry: OpaquePointer) throws(StorageError) {
    guard let path = Self.bytes(crio_archive_entry_pathname(entry)) ?? Self.bytes(crio_archive_entry_pathname_utf8(entry)) else {
      throw .archive("entry without a path")
    }
    self.path = path
    let shown = String(decoding: path, as: UTF8.self)
    hardlink = Self.bytes(crio_archive_entry_hardlink(entry)) ?? Self.bytes(crio_archive_entry_hardlink_utf8(entry))
    symlink = Self.bytes(crio_archive_entry_symlink(entry)) ?? Self.bytes(crio_archive_entry_symlink_utf8(entry))
    type = crio_archive_entry_filetype(entry) & S_IFMT
    permissions = crio_archive_entry_perm(entry) & 0o7777
    // Negative IDs or the (uid_t)-1 "leave unchanged" marker are not owners.
    let uid = crio_archive_entry_uid(entry)
    let gid = crio_archive_entry_gid(entry)
    guard (0..<Int64(UInt32.max)).contains(uid), (0..<Int64(UInt32.max)).contains(gid) else {
      throw .archive("\(shown): owner \(uid):\(gid) out of range")
    }
    self.uid = uid_t(uid)
    self.gid = gid_t(gid)
    deviceMajor = UInt32(truncatingIfNeeded: crio_archive_entry_rdevmajor(entry))
    deviceMinor = UInt32(truncatingIfNeeded: crio_archive_entry_rdevminor(entry))
    size = crio_archive_entry_size_is_set(entry) != 0 ? crio_archive_entry_size(entry) : 0
    guard size >= 0 else { throw .archive("\(shown): negative size") }
    if crio_archive_entry_mtime_is_set(entry) != 0 {
      modificationTime = timespec(tv_sec: time_t(crio_archive_entry_mtime(entry)), tv_nsec: Int(crio_archive_entry_mtime_nsec(entry)))
    } else {
      modificationTime = timespec(tv_sec: 0, tv_nsec: utimeOmit)
    }
    if crio_archive_entry_atime_is_set(entry) != 0 {
      accessTime = timespec(tv_sec: time_t(crio_archive_entry_atime(entry)), tv_nsec: Int(crio_archive_entry_atime_nsec(entry)))
    } else {
      // Tar rarely records atime; the mtime is the reproducible choice.
      accessTime = modificationTime
    }
    xattrs = []
    if crio_archive_entry_xattr_reset(entry) > 0 {
      var name: UnsafePointer<CChar>?
      var value: UnsafeRawPointer?
      var length = 0
      while crio_archive_entry_xattr_next(entry, &name, &value, &length) == ARCHIVE_OK {
        guard let name = Self.bytes(name) else { continue }
        let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
        xattrs.append((name, bytes))
      }
    }
  }

  private static func bytes(_ text: UnsafePointer<CChar>?) -> [UInt8]? {
    guard let text else { return nil }
    return Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
  }
}

/// utimensat's "leave this time alone" (a macro Swift does not import).
let utimeOmit = (1 << 30) - 2
