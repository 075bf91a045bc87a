import Config
import ContainerSecurity
import OCI
import Support

/// The mounts crio.conf adds to containers: `default_mounts_file`, `timezone`
/// and `image_volumes = "bind"`.
enum ConfiguredMounts {
  /// What CreateContainer binds besides the CRI's mounts. `bundle` holds the
  /// directories made for bound image volumes, so they go with the container.
  static func forContainer(
    _ runtime: RuntimeConfig, imageVolumes: String, volumes: [String], bundle: String, readOnlyRoot: Bool
  ) throws(CRIError) -> [Spec.Mount] {
    var mounts = try DefaultMount.read(file: runtime.defaultMountsFile).map { mount in
      Spec.Mount(destination: mount.destination, type: "bind", source: mount.source, options: ["rbind", "ro", "nodev", "nosuid"])
    }
    if let zone = try ContainerTimezone.zoneFile(runtime.timezone) {
      mounts.append(Spec.Mount(
        destination: "/etc/localtime", type: "bind", source: zone,
        options: [readOnlyRoot ? "ro" : "rw", "bind", "nodev", "nosuid", "noexec"]))
    }
    if imageVolumes == "bind" {
      for (index, volume) in volumes.sorted().enumerated() {
        let destination: String
        do {
          destination = try UntrustedValues.volumePath(volume)
        } catch {
          throw .invalidArgument("the image declares volume \(Quoting.doubleQuoted(volume)), which cannot be bound: \(error)")
        }
        // As CRI-O's "bind": an empty directory of the container's own, not the image's content.
        let source = bundle + "/volumes/\(index)"
        do {
          try Files.makeDirectories(source, mode: 0o755)
        } catch {
          throw .internal("making the directory for image volume \(volume): \(error)")
        }
        mounts.append(Spec.Mount(destination: destination, type: "bind", source: source, options: ["rbind", "rw"]))
      }
    }
    return mounts
  }
}

/// One `default_mounts_file` line, `/SRC:/DST`: the host's SRC on DST in every container.
struct DefaultMount: Sendable, Equatable {
  var source: String
  var destination: String

  /// The file's mounts whose source exists (containers/common skips the others, so
  /// one file serves nodes with and without e.g. subscription secrets). Blank lines
  /// and `#` comments are skipped; a malformed line is reported, not guessed at.
  static func read(file: String) throws(CRIError) -> [DefaultMount] {
    guard !file.isEmpty, Files.kind(of: file) != .missing else { return [] }
    let text: String
    do {
      text = try Files.read(file)
    } catch {
      throw .failedPrecondition("default_mounts_file \(file): \(error)")
    }
    return try parse(text, file: file).filter { Files.kind(of: $0.source) != .missing }
  }

  static func parse(_ text: String, file: String) throws(CRIError) -> [DefaultMount] {
    var mounts: [DefaultMount] = []
    for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.drop { $0 == " " || $0 == "\t" }
      if line.isEmpty || line.hasPrefix("#") { continue }
      let parts = line.split(separator: ":", omittingEmptySubsequences: false).map { String($0.trimmingWhitespace()) }
      guard parts.count == 2, parts.allSatisfy({ $0.hasPrefix("/") && !$0.split(separator: "/").contains("..") }) else {
        throw .failedPrecondition(
          "default_mounts_file \(file) line \(number + 1): expected \"/SRC:/DST\", got \(Quoting.doubleQuoted(String(line)))")
      }
      mounts.append(DefaultMount(source: parts[0], destination: parts[1]))
    }
    return mounts
  }
}

/// `timezone`: the zone file bound on a container's /etc/localtime.
enum ContainerTimezone {
  static let zoneDirectory = "/usr/share/zoneinfo"

  /// The host file for `timezone`: nil for "" (the image's own), the host's
  /// /etc/localtime for "Local" (any case, as containers/common), else the IANA
  /// zone's file, which must exist.
  static func zoneFile(_ timezone: String) throws(CRIError) -> String? {
    if timezone.isEmpty { return nil }
    let path: String
    if timezone.lowercased() == "local" {
      path = "/etc/localtime"
    } else {
      guard !timezone.hasPrefix("/"), !timezone.split(separator: "/").contains(".."), !timezone.contains("\0") else {
        throw .failedPrecondition("timezone \(Quoting.doubleQuoted(timezone)) is not a zone name such as \"Europe/Berlin\"")
      }
      path = zoneDirectory + "/" + timezone
    }
    guard Files.kind(of: path) == .file else {
      throw .failedPrecondition("timezone \(Quoting.doubleQuoted(timezone)): \(path) is not a time zone file on this host")
    }
    return path
  }
}
