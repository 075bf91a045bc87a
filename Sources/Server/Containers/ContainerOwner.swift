import Runtime

/// What a container's transitions work with.
struct ContainerHandles: Sendable {
  let layout: ContainerLayout
  let runtime: any ContainerRuntime
  /// Fired by the exit monitor when conmon records the exit; a stop waits
  /// on it instead of polling.
  let exit = OneShotEvent()
}

/// A container's owner (see `Owner`).
typealias ContainerOwner = Owner<ContainerRecord, ContainerHandles>

extension Owner where Record == ContainerRecord, Handles == ContainerHandles {
  convenience init(record: ContainerRecord, layout: ContainerLayout, runtime: any ContainerRuntime) {
    self.init(record: record, handles: ContainerHandles(layout: layout, runtime: runtime))
  }

  var layout: ContainerLayout { handles.layout }
  var runtime: any ContainerRuntime { handles.runtime }
  var exit: OneShotEvent { handles.exit }
}
