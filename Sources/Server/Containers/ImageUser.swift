#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The user a container runs as, resolved against the image's own
/// `/etc/passwd` and `/etc/group` (runc's `GetExecUser` rules, which CRI-O
/// uses):
///
/// - `""`: uid 0; gid and supplementary groups from root's passwd entry if any, else 0.
/// - `"1000"`: uid 1000; gid from the passwd entry with uid 1000 if any, else 0.
/// - `"name"`: the passwd entry called `name`, which must exist.
/// - `"user:group"`: either part a name or a number; a group name must exist in
///   `/etc/group`, a number need not.
/// - Supplementary groups: the `/etc/group` entries listing the matched user's
///   name, only when no group was given (as runc does).
///
/// The files are looked up with every path component resolved inside the
/// rootfs (as `filepath-securejoin` does): `..` stops at the rootfs and an
/// absolute symlink target starts again at the rootfs, so a hostile image can
/// never make the daemon read a host file. Only regular files are read.
enum ImageUser {
  struct PasswdEntry: Equatable {
    var name: String
    var uid: UInt32
    var gid: UInt32
  }

  struct GroupEntry: Equatable {
    var name: String
    var gid: UInt32
    var members: [String]
  }

  /// The largest passwd or group file read (the daemon reads it whole).
  static let maximumFileSize = 16 << 20

  static func resolve(_ user: String, rootfs: String) throws(CRIError) -> (uid: UInt32, gid: UInt32, additionalGids: [UInt32]) {
    if user.utf8.contains(0) { throw .invalidArgument("user \(String(reflecting: user)) contains a NUL byte") }
    let userPart: Substring
    let groupPart: Substring?
    if let colon = user.firstIndex(of: ":") {
      userPart = user[..<colon]
      groupPart = user[user.index(after: colon)...]
    } else {
      userPart = Substring(user)
      groupPart = nil
    }
    let groupArgument = groupPart.map(String.init) ?? ""

    let userNumber = try numericID(userPart, what: "user")
    let passwd = try readPasswd(rootfs: rootfs)
    let matched: PasswdEntry?
    if userPart.isEmpty {
      matched = passwd.first { $0.uid == 0 }
    } else if let userNumber {
      matched = passwd.first { $0.uid == userNumber }
    } else {
      matched = passwd.first { $0.name == userPart }
    }

    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var additional: [UInt32] = []
    if let matched {
      uid = matched.uid
      gid = matched.gid
    } else if let userNumber {
      uid = userNumber
    } else if !userPart.isEmpty {
      throw .invalidArgument("user \(String(reflecting: String(userPart))) not found in the image's /etc/passwd")
    }

    if !groupArgument.isEmpty || matched != nil {
      let groups = try readGroup(rootfs: rootfs)
      if !groupArgument.isEmpty {
        let groupNumber = try numericID(Substring(groupArgument), what: "group")
        let found: GroupEntry?
        if let groupNumber {
          found = groups.first { $0.gid == groupNumber }
        } else {
          found = groups.first { $0.name == groupArgument }
        }
        if let found {
          gid = found.gid
        } else if let groupNumber {
          gid = groupNumber
        } else {
          throw .invalidArgument("group \(String(reflecting: groupArgument)) not found in the image's /etc/group")
        }
      } else if let name = matched?.name {
        for group in groups where group.members.contains(name) && !additional.contains(group.gid) {
          additional.append(group.gid)
        }
      }
    }
    return (uid, gid, additional)
  }

  /// A uid or gid written as decimal digits: nil when `text` is not all digits
  /// (so it is a name); an error when it is a number beyond 32 bits.
  static func numericID(_ text: Substring, what: String) throws(CRIError) -> UInt32? {
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
      if text.hasPrefix("-"), text.dropFirst().utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), text.count > 1 {
        throw .invalidArgument("\(what) id \(text) is negative")
      }
      return nil
    }
    guard let value = UInt32(text) else {
      throw .invalidArgument("\(what) id \(text) is out of range (0...4294967295)")
    }
    return value
  }

  // MARK: - Files

  static func readPasswd(rootfs: String) throws(CRIError) -> [PasswdEntry] {
    guard let text = try readInRoot(rootfs: rootfs, path: "/etc/passwd") else { return [] }
    return parsePasswd(text)
  }

  static func readGroup(rootfs: String) throws(CRIError) -> [GroupEntry] {
    guard let text = try readInRoot(rootfs: rootfs, path: "/etc/group") else { return [] }
    return parseGroup(text)
  }

  /// `name:password:uid:gid:gecos:home:shell`; lines that don't parse are skipped.
  static func parsePasswd(_ text: String) -> [PasswdEntry] {
    var entries: [PasswdEntry] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      let trimmed = line.drop { $0 == " " || $0 == "\t" }
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      let fields = line.split(separator: ":", omittingEmptySubsequences: false)
      guard fields.count >= 4, !fields[0].isEmpty,
        let uid = UInt32(fields[2]), let gid = UInt32(fields[3])
      else { continue }
      entries.append(PasswdEntry(name: String(fields[0]), uid: uid, gid: gid))
    }
    return entries
  }

  /// `name:password:gid:member,member`; lines that don't parse are skipped.
  static func parseGroup(_ text: String) -> [GroupEntry] {
    var entries: [GroupEntry] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      let trimmed = line.drop { $0 == " " || $0 == "\t" }
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      let fields = line.split(separator: ":", omittingEmptySubsequences: false)
      guard fields.count >= 3, !fields[0].isEmpty, let gid = UInt32(fields[2]) else { continue }
      let members =
        fields.count >= 4
        ? fields[3].split(separator: ",").map { String($0.trimmingSpaces()) }.filter { !$0.isEmpty } : []
      entries.append(GroupEntry(name: String(fields[0]), gid: gid, members: members))
    }
    return entries
  }

  /// The contents of `path` inside `rootfs`, resolved without ever leaving
  /// it; nil when it does not exist there. Anything other than a regular file
  /// at the end is an error.
  static func readInRoot(rootfs: String, path: String) throws(CRIError) -> String? {
    let rootFD = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard rootFD >= 0 else {
      throw .internal("cannot open the container rootfs \(rootfs): \(String(cString: strerror(errno)))")
    }
    // Directory fds from the root down to the current directory; the first is the root.
    var stack: [Int32] = [rootFD]
    defer { for fd in stack { close(fd) } }

    var pending: [Substring] = path.split(separator: "/").reversed()
    var symlinks = 0
    while let component = pending.popLast() {
      if component == "." { continue }
      if component == ".." {
        if stack.count > 1 { close(stack.removeLast()) }
        continue
      }
      let name = String(component)
      var info = stat()
      guard fstatat(stack.last!, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw .internal("cannot look up \(path) in the container rootfs: \(String(cString: strerror(errno)))")
      }
      switch info.st_mode & S_IFMT {
      case S_IFLNK:
        symlinks += 1
        guard symlinks <= 40 else { throw .invalidArgument("too many symlinks resolving \(path) in the image") }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlinkat(stack.last!, name, &buffer, Int(PATH_MAX))
        guard length >= 0 else {
          throw .internal("cannot read the symlink \(name) in the container rootfs: \(String(cString: strerror(errno)))")
        }
        let target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if target.hasPrefix("/") {
          // Absolute targets are rooted at the rootfs.
          while stack.count > 1 { close(stack.removeLast()) }
        }
        pending.append(contentsOf: target.split(separator: "/").reversed())
      case S_IFDIR:
        let fd = openat(stack.last!, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
          throw .internal("cannot open \(name) in the container rootfs: \(String(cString: strerror(errno)))")
        }
        stack.append(fd)
      case S_IFREG:
        guard pending.isEmpty else { return nil }  // a file used as a directory
        let fd = openat(stack.last!, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
          throw .internal("cannot open \(path) in the container rootfs: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var opened = stat()
        guard fstat(fd, &opened) == 0, opened.st_mode & S_IFMT == S_IFREG else {
          throw .invalidArgument("\(path) in the image is not a regular file")
        }
        guard Int(opened.st_size) <= maximumFileSize else {
          throw .invalidArgument("\(path) in the image is larger than \(maximumFileSize) bytes")
        }
        return try readAll(fd, path: path)
      default:
        if pending.isEmpty { throw .invalidArgument("\(path) in the image is not a regular file") }
        return nil
      }
    }
    // The path named a directory.
    throw .invalidArgument("\(path) in the image is not a regular file")
  }

  private static func readAll(_ fd: Int32, path: String) throws(CRIError) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw .internal("cannot read \(path) in the container rootfs: \(String(cString: strerror(errno)))")
      }
      if count == 0 { break }
      bytes.append(contentsOf: chunk[0..<count])
      guard bytes.count <= maximumFileSize else {
        throw .invalidArgument("\(path) in the image is larger than \(maximumFileSize) bytes")
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

extension Substring {
  fileprivate func trimmingSpaces() -> Substring {
    var result = self
    while let first = result.first, first == " " || first == "\t" || first == "\r" { result.removeFirst() }
    while let last = result.last, last == " " || last == "\t" || last == "\r" { result.removeLast() }
    return result
  }
}
