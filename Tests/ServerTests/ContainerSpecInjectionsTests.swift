import CRIAPI
import Testing

@testable import Server

/// Which CDI devices a CreateContainer request names.
@Suite struct ContainerSpecInjectionsTests {
  @Test func theRequestsDevicesComeFirstThenTheAnnotationsByKeyEachOnce() {
    var config = Runtime_V1_ContainerConfig()
    config.cdiDevices = [.with { $0.name = "b.com/x=1" }, .with { $0.name = "a.com/x=1" }]
    config.annotations = [
      "cdi.k8s.io/z": "c.com/x=1", "cdi.k8s.io/a": "a.com/x=1,d.com/x=1", "other/annotation": "e.com/x=1",
    ]
    #expect(ContainerSpecInjections.cdiDeviceNames(config) == ["b.com/x=1", "a.com/x=1", "d.com/x=1", "c.com/x=1"])
  }

  @Test func anEmptyEntryOfAnAnnotationIsKeptToBeRefused() {
    var config = Runtime_V1_ContainerConfig()
    config.annotations = ["cdi.k8s.io/a": "a.com/x=1,"]
    #expect(ContainerSpecInjections.cdiDeviceNames(config) == ["a.com/x=1", ""])
  }

  @Test func noDevicesNoNames() {
    #expect(ContainerSpecInjections.cdiDeviceNames(Runtime_V1_ContainerConfig()).isEmpty)
  }
}
