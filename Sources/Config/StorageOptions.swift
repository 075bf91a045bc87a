/// `storage_option` entries as containers/storage spells them for the overlay
/// driver. Honoured: `overlay.mountopt` (mount flags and overlayfs options for
/// every container's root) and `overlay.skip_mount_home` (this daemon never
/// makes its storage a private mount, so either value holds). Anything else
/// is refused at load: accepting it silently would leave the node not as
/// configured.
public struct StorageOptions: Sendable, Equatable {
  /// Mount flags (`nodev`, `nosuid`, `noexec`) for the container's overlay.
  public var mountFlags: [String] = []
  /// overlayfs options added to the mount's data (`metacopy=on`, …).
  public var overlayOptions: [String] = []

  static let flags: Set<String> = ["nodev", "nosuid", "noexec"]
  /// overlayfs options whose values are free of commas and paths.
  static let overlayNames: Set<String> = ["metacopy", "redirect_dir", "index", "xino", "volatile", "userxattr"]

  public init() {}

  /// Parses every entry; throws the reason for the first one refused.
  public init(parsing entries: [String]) throws(StorageOptionError) {
    for entry in entries {
      let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
      let name = parts[0].hasPrefix("overlay2.") ? "overlay." + parts[0].dropFirst("overlay2.".count) : parts[0]
      let value = parts.count == 2 ? parts[1] : nil
      switch name {
      case "overlay.mountopt":
        for option in (value ?? "").split(separator: ",").map(String.init) {
          if Self.flags.contains(option) {
            mountFlags.append(option)
          } else if Self.overlayNames.contains(String(option.prefix { $0 != "=" })),
            option.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "=" || $0 == "_" })
          {
            overlayOptions.append(option)
          } else {
            throw StorageOptionError(entry: entry, reason: "mount option \(TOMLText.quoted(option)) is not one of nodev, nosuid, noexec or overlayfs' \(Self.overlayNames.sorted().joined(separator: ", "))")
          }
        }
      case "overlay.skip_mount_home":
        guard value == "true" || value == "false" else {
          throw StorageOptionError(entry: entry, reason: "expected true or false")
        }
      default:
        throw StorageOptionError(entry: entry, reason: "only overlay.mountopt and overlay.skip_mount_home are supported by this daemon")
      }
    }
  }
}

public struct StorageOptionError: Error, Sendable, Equatable {
  public let entry: String
  public let reason: String
}
