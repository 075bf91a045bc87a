/// One line of /proc/<pid>/mountinfo: the fields cgroup detection and the
/// mount checks need.
public struct MountInfoEntry: Sendable, Hashable {
  /// The path inside the filesystem that is mounted (field 4).
  public var root: String
  public var mountPoint: String
  public var filesystemType: String
  public var superOptions: String

  public init(root: String, mountPoint: String, filesystemType: String, superOptions: String) {
    self.root = root
    self.mountPoint = mountPoint
    self.filesystemType = filesystemType
    self.superOptions = superOptions
  }

  /// This process's mount table (empty if it cannot be read).
  public static func current() -> [MountInfoEntry] {
    parse((try? Files.read("/proc/self/mountinfo")) ?? "")
  }

  /// Parses the mount table; malformed lines are skipped.
  public static func parse(_ text: String) -> [MountInfoEntry] {
    var entries: [MountInfoEntry] = []
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
      // id parent major:minor root mountpoint options [optional...] - type source superoptions
      guard fields.count >= 10, let separator = fields[6...].firstIndex(of: "-"),
        separator + 3 < fields.count
      else { continue }
      entries.append(
        MountInfoEntry(
          root: unescape(fields[3]), mountPoint: unescape(fields[4]), filesystemType: fields[separator + 1],
          superOptions: fields[separator + 3]))
    }
    return entries
  }

  /// Undoes the kernel's octal escapes (`\040` for a space, `\134` for a backslash).
  static func unescape(_ field: String) -> String {
    guard field.contains("\\") else { return field }
    let bytes = Array(field.utf8)
    var out: [UInt8] = []
    var index = 0
    while index < bytes.count {
      if bytes[index] == UInt8(ascii: "\\"), index + 3 < bytes.count,
        let value = UInt8(String(decoding: bytes[(index + 1)...(index + 3)], as: UTF8.self), radix: 8)
      {
        out.append(value)
        index += 4
      } else {
        out.append(bytes[index])
        index += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}
