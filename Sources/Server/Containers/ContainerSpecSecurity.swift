import CRIAPI
import ContainerSecurity
import OCI

/// The confinement half of a container's spec: seccomp, AppArmor, SELinux
/// and devices, from the CRI security context, the daemon's configuration
/// and what the host offers.
extension ContainerSpecBuilder {
  /// What kubelet asked for: the structured profile when set, else the
  /// deprecated path field; neither means the runtime default or nothing,
  /// as `seccomp_use_default_when_empty` says.
  static func seccompRequest(
    _ security: Runtime_V1_LinuxContainerSecurityContext, defaultWhenEmpty: Bool = true
  ) throws(CRIError) -> SeccompProfiles.Request {
    do {
      if security.hasSeccomp {
        switch security.seccomp.profileType {
        case .runtimeDefault: return .runtimeDefault
        case .unconfined: return .unconfined
        case .localhost: return try SeccompProfiles.Request(parsing: "localhost/" + security.seccomp.localhostRef)
        case .UNRECOGNIZED(let value): throw CRIError.invalidArgument("linux.security_context.seccomp: unknown profile type \(value)")
        }
      }
      if security.seccompProfilePath.isEmpty { return defaultWhenEmpty ? .runtimeDefault : .unconfined }
      return try SeccompProfiles.Request(parsing: security.seccompProfilePath)
    } catch let error as CRIError {
      throw error
    } catch {
      throw .invalidArgument("linux.security_context.seccomp: \(error)")
    }
  }

  /// `linux.seccomp`: none for privileged or unconfined containers; the
  /// runtime default is the built-in profile or `seccomp_profile`'s file.
  static func seccomp(_ inputs: ContainerSpecInputs, capabilities: [String]) throws(CRIError) -> Spec.Seccomp? {
    let security = inputs.config.linux.securityContext
    guard !security.privileged else { return nil }
    do {
      let request = try seccompRequest(security, defaultWhenEmpty: inputs.seccompDefaultWhenEmpty)
      if request == .runtimeDefault, !inputs.defaultSeccompProfile.isEmpty {
        return try SeccompProfiles.load(path: inputs.defaultSeccompProfile, capabilities: capabilities)
      }
      return try SeccompProfiles.profile(for: request, capabilities: capabilities)
    } catch let error as CRIError {
      throw error
    } catch {
      throw .invalidArgument("linux.security_context.seccomp: \(error)")
    }
  }

  /// `process.apparmorProfile` and `process.selinuxLabel`, or a clear
  /// error when the host cannot apply what was asked.
  static func securityModules(
    _ security: Runtime_V1_LinuxContainerSecurityContext, host: ContainerSpecHost
  ) throws(CRIError) -> (appArmor: String?, selinux: String?) {
    do {
      let request: AppArmorRequest
      if security.hasApparmor {
        switch security.apparmor.profileType {
        case .runtimeDefault: request = .runtimeDefault
        case .unconfined: request = .unconfined
        case .localhost: request = try .localhost(name: security.apparmor.localhostRef)
        case .UNRECOGNIZED(let value): throw LSMError.invalidAppArmorProfile("profile type \(value)")
        }
      } else {
        request = try AppArmorRequest(parsing: security.apparmorProfile)
      }
      let appArmor = security.privileged ? nil : try host.securityModules.appArmorProfile(for: request)
      let options = security.selinuxOptions
      let selinux = try host.securityModules.selinuxLabel(
        SELinuxOptions(user: options.user, role: options.role, type: options.type, level: options.level))
      return (appArmor, selinux)
    } catch {
      throw .invalidArgument("linux.security_context: \(error)")
    }
  }

  /// Device nodes and their cgroup rules: the CRI's `devices`, the
  /// configured `additional_devices`, and for privileged containers every
  /// device of the host.
  static func devices(_ inputs: ContainerSpecInputs) throws(CRIError) -> [ContainerDevice] {
    var result: [ContainerDevice] = []
    do {
      result += try HostDevices.additionalDevices(inputs.additionalDevices)
      if let annotation = inputs.annotationDevices {
        result += try HostDevices.annotationDevices(
          annotation, allowed: HostDevices.parseAllowedDevices(inputs.allowedDevices))
      }
      let security = inputs.config.linux.securityContext
      for device in inputs.config.devices {
        var resolved = try HostDevices.resolve(
          hostPath: device.hostPath, containerPath: device.containerPath, permissions: device.permissions)
        if inputs.deviceOwnershipFromSecurityContext {
          // CRI-O gives the node to a non-root run-as user and group; root's stay the host's.
          for index in resolved.indices {
            if security.hasRunAsUser, security.runAsUser.value > 0, let uid = UInt32(exactly: security.runAsUser.value) {
              resolved[index].device.uid = uid
            }
            if security.hasRunAsGroup, security.runAsGroup.value > 0, let gid = UInt32(exactly: security.runAsGroup.value) {
              resolved[index].device.gid = gid
            }
          }
        }
        result += resolved
      }
    } catch {
      throw .invalidArgument("devices: \(error)")
    }
    return result
  }
}
