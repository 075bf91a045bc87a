import CRIAPI
import Foundation
import SwiftProtobuf
import Testing

/// The generated code must speak the published CRI wire format: these golden
/// encodings were worked out by hand from the field numbers in k8s.io/cri-api
/// v0.36.3, so a mistyped number in Protos/ or stale generated code fails here.
@Suite struct WireFormatTests {
  static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
  }

  @Test func podSandboxMetadataGolden() throws {
    var metadata = Runtime_V1_PodSandboxMetadata()
    metadata.name = "nginx"
    metadata.uid = "u1"
    metadata.namespace = "default"
    metadata.attempt = 3
    let bytes: [UInt8] = try metadata.serializedBytes()
    // 1:"nginx" 2:"u1" 3:"default" 4:varint 3
    #expect(Self.hex(bytes) == "0a056e67696e78" + "12027531" + "1a0764656661756c74" + "2003")
  }

  @Test func imageSpecHighFieldNumbersGolden() throws {
    var spec = Runtime_V1_ImageSpec()
    spec.image = "busybox"
    spec.userSpecifiedImage = "bb"
    spec.runtimeHandler = "runc"
    spec.imageRef = "sha"
    let bytes: [UInt8] = try spec.serializedBytes()
    // Fields 18, 19 and 20 need two-byte tags: 0x92 0x01, 0x9a 0x01, 0xa2 0x01.
    #expect(Self.hex(bytes) == "0a0762757379626f78" + "9201026262" + "9a010472756e63" + "a20103736861")
  }

  @Test func linuxResourcesVarintsGolden() throws {
    var resources = Runtime_V1_LinuxContainerResources()
    resources.cpuPeriod = 100_000
    resources.oomScoreAdj = -998
    resources.memorySwapLimitInBytes = 1 << 30
    let bytes: [UInt8] = try resources.serializedBytes()
    // int64 negatives are ten-byte varints; field 10 is tag 0x50.
    #expect(Self.hex(bytes) == "08a08d06" + "289af8ffffffffffffff01" + "508080808004")
  }

  @Test func nestedRequestGolden() throws {
    var request = Runtime_V1_RunPodSandboxRequest()
    request.config.metadata.name = "a"
    request.runtimeHandler = "runc"
    let bytes: [UInt8] = try request.serializedBytes()
    // 1:{1:{1:"a"}} 2:"runc"
    #expect(Self.hex(bytes) == "0a050a030a0161" + "120472756e63")
  }

  @Test func authConfigGolden() throws {
    var auth = Runtime_V1_AuthConfig()
    auth.username = "u"
    auth.password = "p"
    auth.serverAddress = "r"
    auth.registryToken = "t"
    let bytes: [UInt8] = try auth.serializedBytes()
    #expect(Self.hex(bytes) == "0a0175" + "120170" + "220172" + "320174")
  }

  @Test func enumValuesMatchThePublishedAPI() {
    #expect(Runtime_V1_ContainerState.containerCreated.rawValue == 0)
    #expect(Runtime_V1_ContainerState.containerRunning.rawValue == 1)
    #expect(Runtime_V1_ContainerState.containerExited.rawValue == 2)
    #expect(Runtime_V1_ContainerState.containerUnknown.rawValue == 3)
    #expect(Runtime_V1_PodSandboxState.sandboxReady.rawValue == 0)
    #expect(Runtime_V1_PodSandboxState.sandboxNotready.rawValue == 1)
    #expect(Runtime_V1_NamespaceMode.pod.rawValue == 0)
    #expect(Runtime_V1_NamespaceMode.container.rawValue == 1)
    #expect(Runtime_V1_NamespaceMode.node.rawValue == 2)
    #expect(Runtime_V1_NamespaceMode.target.rawValue == 3)
    #expect(Runtime_V1_CgroupDriver.systemd.rawValue == 0)
    #expect(Runtime_V1_CgroupDriver.cgroupfs.rawValue == 1)
    #expect(Runtime_V1_MountPropagation.propagationBidirectional.rawValue == 2)
  }

  @Test func rpcPathsMatchTheCRI() {
    #expect(Runtime_V1_RuntimeService.Method.Version.descriptor.fullyQualifiedMethod == "runtime.v1.RuntimeService/Version")
    #expect(Runtime_V1_ImageService.Method.PullImage.descriptor.fullyQualifiedMethod == "runtime.v1.ImageService/PullImage")
    #expect(Runtime_V1_RuntimeService.descriptor.fullyQualifiedService == "runtime.v1.RuntimeService")
  }

  @Test func allFortyOneRPCsAreDeclared() {
    #expect(Runtime_V1_RuntimeService.Method.descriptors.count == 35)
    #expect(Runtime_V1_ImageService.Method.descriptors.count == 6)
  }
}

@Suite struct RoundTripTests {
  @Test func containerConfigRoundTrips() throws {
    var config = Runtime_V1_ContainerConfig()
    config.metadata.name = "web"
    config.metadata.attempt = 2
    config.image.image = "docker.io/library/busybox:latest"
    config.command = ["/bin/sh", "-c"]
    config.args = ["echo hi; sleep 1"]
    config.workingDir = "/srv"
    config.envs = [Runtime_V1_KeyValue.with { $0.key = "A"; $0.value = Data("b=c".utf8) }]
    var mount = Runtime_V1_Mount()
    mount.containerPath = "/data"
    mount.hostPath = "/var/lib/data"
    mount.readonly = true
    mount.propagation = .propagationBidirectional
    config.mounts = [mount]
    config.labels = ["app": "web", "tier": "front"]
    config.annotations = ["io.kubernetes.container.hash": "abc"]
    config.logPath = "web/2.log"
    config.stdin = true
    config.tty = true
    config.linux.resources.cpuShares = 512
    config.linux.resources.unified = ["memory.high": "1G"]
    config.linux.securityContext.capabilities.addCapabilities = ["NET_ADMIN"]
    config.linux.securityContext.runAsUser.value = 1000
    config.linux.securityContext.readonlyRootfs = true

    let bytes: [UInt8] = try config.serializedBytes()
    let decoded = try Runtime_V1_ContainerConfig(serializedBytes: bytes)
    #expect(decoded == config)
    #expect(decoded.linux.securityContext.runAsUser.value == 1000)
    #expect(decoded.mounts.first?.propagation == .propagationBidirectional)
  }

  @Test func statusResponseRoundTrips() throws {
    var response = Runtime_V1_StatusResponse()
    response.status.conditions = [
      Runtime_V1_RuntimeCondition.with { $0.type = "RuntimeReady"; $0.status = true },
      Runtime_V1_RuntimeCondition.with { $0.type = "NetworkReady"; $0.reason = "NetworkPluginNotReady" },
    ]
    response.info = ["config": "{}"]
    response.runtimeHandlers = [Runtime_V1_RuntimeHandler.with { $0.name = "runc"; $0.features.userNamespaces = true }]
    let decoded = try Runtime_V1_StatusResponse(serializedBytes: try response.serializedBytes() as [UInt8])
    #expect(decoded == response)
    #expect(decoded.status.conditions[1].reason == "NetworkPluginNotReady")
  }

  @Test func unknownFieldsSurviveARoundTrip() throws {
    // A newer kubelet may send fields this copy does not know; they must not
    // be lost or break decoding. Field 99 (varint 7) appended to a request:
    let bytes: [UInt8] = [0x0a, 0x01, 0x78, 0x98, 0x06, 0x07]
    let request = try Runtime_V1_VersionRequest(serializedBytes: bytes)
    #expect(request.version == "x")
    #expect(try request.serializedBytes() as [UInt8] == bytes)
  }
}
