import CRIAPI
import FoundationEssentials
import OCI
import PodNetwork
import Storage
import Support

#if canImport(Glibc)
import Glibc
#endif

/// CRI-O's `types.ContainerInfo`, the answer of `/containers/<id>`, field
/// for field (cAdvisor decodes it by these names): `created_time` in Unix
/// nanoseconds, `root` the container's root file system mount point,
/// `sandbox` the pod's ID. `crio status containers` reads it back.
public struct ContainerInfo: Codable, Sendable, Equatable {
  public var name: String
  public var pid: Int
  public var image: String
  public var imageRef: String
  public var createdTime: Int64
  public var labels: [String: String]
  public var annotations: [String: String]
  public var crioAnnotations: [String: String]
  public var logPath: String
  public var root: String
  public var sandbox: String
  public var ips: [String]

  enum CodingKeys: String, CodingKey {
    case name, pid, image, imageRef = "image_ref", createdTime = "created_time", labels, annotations
    case crioAnnotations = "crio_annotations", logPath = "log_path", root, sandbox, ips = "ip_addresses"
  }

  /// CRI-O writes `null` for a map or list it has none of.
  public init(from decoder: any Decoder) throws {
    let values = try decoder.container(keyedBy: CodingKeys.self)
    name = try values.decode(String.self, forKey: .name)
    pid = try values.decode(Int.self, forKey: .pid)
    image = try values.decode(String.self, forKey: .image)
    imageRef = try values.decode(String.self, forKey: .imageRef)
    createdTime = try values.decode(Int64.self, forKey: .createdTime)
    labels = try values.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    annotations = try values.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
    crioAnnotations = try values.decodeIfPresent([String: String].self, forKey: .crioAnnotations) ?? [:]
    logPath = try values.decode(String.self, forKey: .logPath)
    root = try values.decode(String.self, forKey: .root)
    sandbox = try values.decode(String.self, forKey: .sandbox)
    ips = try values.decodeIfPresent([String].self, forKey: .ips) ?? []
  }

  /// The JSON document, in CRI-O's field order.
  var json: String {
    (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  /// CRI-O's `crio-status containers` text (maps sorted, for a stable output).
  public var statusText: String {
    func lines(_ map: [String: String]) -> String {
      map.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value)\n" }.joined()
    }
    return "name: \(name)\npid: \(pid)\nimage: \(image)\nimage ref: \(imageRef)\ncreated: \(createdTime)\n"
      + "labels:\n\(lines(labels))annotations:\n\(lines(annotations))CRI-O annotations:\n\(lines(crioAnnotations))"
      + "log path: \(logPath)\nroot: \(root)\nsandbox: \(sandbox)\nips: \(ips.joined(separator: ", "))\n"
  }
}

extension ContainerInfo {
  init(container record: ContainerRecord, rootfs: String, pod: PodSandbox, images: ImageContext) {
    let config = record.configMessage
    let podConfig = pod.configMessage
    // CRI-O's ImageRef: the image's first repo digest, else its ID.
    let stored = (try? Digest(parsing: "sha256:" + record.imageID)).flatMap { try? images.records.image(id: $0) }
    let imageRef = stored?.repoDigests.first ?? record.imageID
    name = record.name
    pid = record.state == .exited ? 0 : Int(record.pid)
    // The image as the request named it, as ContainerStatus reports it.
    image = config.image.image
    self.imageRef = imageRef
    createdTime = record.createdAt
    labels = config.labels
    annotations = config.annotations
    crioAnnotations = [
      "io.kubernetes.cri-o.ContainerID": record.id,
      "io.kubernetes.cri-o.ContainerName": record.name,
      "io.kubernetes.cri-o.ContainerType": "container",
      "io.kubernetes.cri-o.Created": RFC3339.format(nanoseconds: record.createdAt),
      "io.kubernetes.cri-o.Image": record.imageID,
      "io.kubernetes.cri-o.ImageName": record.imageRef,
      "io.kubernetes.cri-o.ImageRef": imageRef,
      "io.kubernetes.cri-o.LogPath": record.logPath,
      "io.kubernetes.cri-o.MountPoint": rootfs,
      "io.kubernetes.cri-o.Name": record.name,
      "io.kubernetes.cri-o.SandboxID": record.podID,
      "io.kubernetes.cri-o.SandboxName": pod.name,
      "io.kubernetes.cri-o.Stdin": "\(config.stdin)",
      "io.kubernetes.cri-o.StdinOnce": "\(config.stdinOnce)",
      "io.kubernetes.cri-o.TTY": "\(config.tty)",
      "io.kubernetes.pod.name": podConfig.metadata.name,
      "io.kubernetes.pod.namespace": podConfig.metadata.namespace,
      "io.kubernetes.pod.uid": podConfig.metadata.uid,
      "io.kubernetes.container.name": config.metadata.name,
    ]
    logPath = record.logPath
    root = rootfs
    sandbox = record.podID
    ips = pod.network?.ips ?? []
  }

  /// A pod asked for by its ID: what CRI-O says of its infra container
  /// (its pid while the pod is ready, and its image). With no infra
  /// container (`drop_infra_ctr`), the pid is the pod's init's, or its
  /// first running container's, as CRI-O does then.
  init(pod: PodSandbox, containers: [ContainerRecord], pauseImage: String) {
    let config = pod.configMessage
    name = pod.name
    let infraPID = pod.state == .ready ? pod.infra.map { Int($0.process.pid) } ?? 0 : 0
    let initPID = infraPID > 0 ? infraPID : pod.namespaces.pidInit.map { Int($0.pid) } ?? 0
    pid = initPID > 0 ? initPID : containers.first { $0.state == .running && $0.pid > 0 }.map { Int($0.pid) } ?? 0
    image = pod.infra == nil ? "" : pauseImage
    imageRef = pod.infra?.imageID ?? ""
    createdTime = pod.createdAt
    labels = config.labels
    annotations = config.annotations
    crioAnnotations = [
      "io.kubernetes.cri-o.ContainerType": "sandbox",
      "io.kubernetes.cri-o.Created": RFC3339.format(nanoseconds: pod.createdAt),
      "io.kubernetes.cri-o.HostName": pod.hostname,
      "io.kubernetes.cri-o.Name": pod.name,
      "io.kubernetes.cri-o.SandboxID": pod.id,
      "io.kubernetes.cri-o.RuntimeHandler": pod.runtimeHandler,
      "io.kubernetes.pod.name": config.metadata.name,
      "io.kubernetes.pod.namespace": config.metadata.namespace,
      "io.kubernetes.pod.uid": config.metadata.uid,
    ]
    logPath = ""
    root = ""
    sandbox = pod.id
    ips = pod.network?.ips ?? []
  }
}

/// Go's RFC 3339 with nanoseconds (`time.RFC3339Nano`), in UTC.
enum RFC3339 {
  static func format(nanoseconds: Int64) -> String {
    var seconds = time_t(nanoseconds / 1_000_000_000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    var text = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
      + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    let fraction = nanoseconds % 1_000_000_000
    if fraction > 0 {
      var digits = String(fraction)
      digits = String(repeating: "0", count: 9 - digits.count) + digits
      while digits.last == "0" { digits.removeLast() }
      text += "." + digits
    }
    return text + "Z"
  }
}
