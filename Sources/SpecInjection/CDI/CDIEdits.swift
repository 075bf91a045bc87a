import ContainerSecurity
import OCI

extension CDIContainerEdits {
  /// `other`'s edits after these (the CDI library's ContainerEdits.Append).
  public func appending(_ other: CDIContainerEdits) -> CDIContainerEdits {
    CDIContainerEdits(
      env: env + other.env, deviceNodes: deviceNodes + other.deviceNodes, hooks: hooks + other.hooks,
      mounts: mounts + other.mounts)
  }

  /// Applies the edits to a container's OCI spec as the CDI library does
  /// (ContainerEdits.Apply): environment entries replace ones of the same
  /// name or are appended; device nodes take their type and numbers from
  /// the host node when the spec leaves them out, replace a device at the
  /// same path and get a cgroup rule; mounts replace one at the same
  /// destination, and then all mounts are ordered parents first; hooks are
  /// appended to their stage.
  public func apply(to spec: inout Spec) throws(CDIError) {
    if !env.isEmpty {
      var process = spec.process ?? Spec.Process()
      var environment = process.env ?? []
      for entry in env {
        let name = entry.prefix { $0 != "=" }
        if let index = environment.firstIndex(where: { $0.prefix { $0 != "=" } == name }) {
          environment[index] = entry
        } else {
          environment.append(entry)
        }
      }
      process.env = environment
      spec.process = process
    }

    if !deviceNodes.isEmpty {
      var linux = spec.linux ?? Spec.Linux()
      var devices = linux.devices ?? []
      var resources = linux.resources ?? Spec.Resources()
      var rules = resources.devices ?? []
      for node in deviceNodes {
        var device = try Self.filled(node)
        let user = spec.process?.user
        if device.uid == nil, let uid = user?.uid, uid > 0 { device.uid = uid }
        if device.gid == nil, let gid = user?.gid, gid > 0 { device.gid = gid }
        devices.removeAll { $0.path == device.path }
        devices.append(device)
        if device.type == "b" || device.type == "c" {
          rules.append(Spec.DeviceCgroup(
            allow: true, type: device.type, major: device.major, minor: device.minor,
            access: node.permissions.isEmpty ? "rwm" : node.permissions))
        }
      }
      linux.devices = devices
      resources.devices = rules
      linux.resources = resources
      spec.linux = linux
    }

    if !mounts.isEmpty {
      var result = spec.mounts ?? []
      for mount in mounts {
        result.removeAll { $0.destination == mount.containerPath }
        result.append(Spec.Mount(
          destination: mount.containerPath, type: mount.type.isEmpty ? nil : mount.type, source: mount.hostPath,
          options: mount.options.isEmpty ? nil : mount.options))
      }
      spec.mounts = Self.parentsFirst(result)
    }

    if !hooks.isEmpty {
      var all = spec.hooks ?? Spec.Hooks()
      for hook in hooks {
        // The spec was checked when read: every name is a stage.
        guard let stage = Spec.Hooks.Stage(rawValue: hook.hookName) else { continue }
        all[stage] = (all[stage] ?? []) + [Spec.Hook(
          path: hook.path, args: hook.args.isEmpty ? nil : hook.args, env: hook.env.isEmpty ? nil : hook.env,
          timeout: hook.timeout)]
      }
      spec.hooks = all
    }
  }

  /// The runtime-spec device of a node, with what the spec leaves out taken
  /// from the host node (the CDI library's fillMissingInfo).
  static func filled(_ node: DeviceNode) throws(CDIError) -> Spec.Device {
    let hostPath = node.hostPath.isEmpty ? node.path : node.hostPath
    var type = node.type
    var (major, minor) = (node.major, node.minor)
    if type.isEmpty || (major == 0 && type != "p") {
      let host: Spec.Device
      do {
        host = try HostDevices.device(atHostPath: hostPath).device
      } catch {
        throw .hostDevice(hostPath, reason: error.description)
      }
      if type.isEmpty {
        type = host.type
      } else if type != host.type {
        throw .hostDevice(hostPath, reason: "the spec says type \(type) for \(node.path), the host node is of type \(host.type)")
      }
      if major == 0 && type != "p" {
        (major, minor) = (host.major ?? 0, host.minor ?? 0)
      }
    }
    return Spec.Device(
      type: type, path: node.path, major: major, minor: minor, fileMode: node.fileMode, uid: node.uid, gid: node.gid)
  }

  /// Mounts by the depth of their destination, then by destination (the
  /// CDI library's orderedMounts), so a mount never hides one below it.
  static func parentsFirst(_ mounts: [Spec.Mount]) -> [Spec.Mount] {
    func depth(_ path: String) -> Int {
      var parts: [Substring] = []
      for part in path.split(separator: "/") where part != "." {
        if part == ".." { _ = parts.popLast() } else { parts.append(part) }
      }
      return path.hasPrefix("/") ? max(parts.count, 1) : max(parts.count - 1, 0)
    }
    return mounts.enumerated().sorted { lhs, rhs in
      let (left, right) = (depth(lhs.element.destination), depth(rhs.element.destination))
      if left != right { return left < right }
      if lhs.element.destination != rhs.element.destination { return lhs.element.destination < rhs.element.destination }
      return lhs.offset < rhs.offset
    }.map(\.element)
  }
}
