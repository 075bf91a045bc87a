import OCI

/// The seam between the daemon and one way of running containers, chosen
/// per runtime handler (CRI-O's `RuntimeImpl`): conmon + runc is one
/// implementation, a fake in the Server's unit tests another. Every path
/// comes from the container's `ContainerLayout`; exits are recorded in its
/// exit file, which the daemon's exit monitor watches.
public protocol ContainerRuntime: Sendable {
  /// The paths of container `id` whose bundle is `bundle`.
  func layout(id: String, bundle: String) -> ContainerLayout
  /// Creates the container from its bundle; its process waits for `start`.
  /// On failure nothing is left in the runtime.
  func create(_ request: CreateRequest) async throws(RuntimeError) -> ContainerProcess
  func start(id: String) async throws(RuntimeError)
  /// Sends `signal` to the container's init process.
  func kill(id: String, signal: Int32) async throws(RuntimeError)
  /// Removes the runtime's state (with `force`, kills a running container
  /// first); a container the runtime does not know is fine with `force`.
  func delete(id: String, force: Bool) async throws(RuntimeError)
  func state(id: String) async throws(RuntimeError) -> RuntimeState
  /// The IDs the runtime holds state for (start-up reconciliation).
  func containerIDs() -> [String]
  /// Runs `command` in the running container and collects its output.
  func execSync(id: String, command: [String], timeout: Duration) async throws(RuntimeError) -> ExecResult
  /// Starts `command` in the running container for a streaming session.
  func startExec(id: String, command: [String], tty: Bool, stdin: Bool) throws(RuntimeError) -> ExecSession
  /// Changes the container's cgroup limits.
  func update(id: String, resources: Spec.Resources) async throws(RuntimeError)
  /// Freezes every process of the container (its cgroup's freezer).
  func pause(id: String) async throws(RuntimeError)
  /// Thaws a paused container.
  func resume(id: String) async throws(RuntimeError)
  /// Asks the container's monitor to resize its terminal or reopen its log.
  func control(_ layout: ContainerLayout, _ request: ConmonControl.Request) throws(RuntimeError)
  /// Creates and starts a container no monitor watches (a pod's init).
  func runUnmonitored(id: String, bundle: OCIBundle) async throws(RuntimeError) -> Int32
  /// Starts what the runtime runs once per pod, before any of its
  /// containers (the pod monitor of runtime_type "pod").
  func startPod(_ pod: PodRuntimeContext) async throws(RuntimeError)
  /// Ends it, once the pod's containers have stopped.
  func stopPod(_ pod: PodRuntimeContext) async
  /// After a daemon restart, for a ready pod: finds its monitor again, or,
  /// when it died, kills its containers and records their exits as lost
  /// with it, before the daemon reads their exits.
  func recoverPod(_ pod: PodRuntimeContext) async
}

/// conmon runs one monitor per container: nothing per pod.
extension ContainerRuntime {
  public func startPod(_ pod: PodRuntimeContext) async throws(RuntimeError) {}
  public func stopPod(_ pod: PodRuntimeContext) async {}
  public func recoverPod(_ pod: PodRuntimeContext) async {}
}

/// What a runtime knows of a pod.
public struct PodRuntimeContext: Sendable, Hashable {
  public var id: String
  /// The pod's run directory (the pod monitor's socket goes there).
  public var directory: String
  /// The cgroup a pod monitor is moved into (`monitor_cgroup`), nil for the daemon's.
  public var monitorCgroup: String?

  public init(id: String, directory: String, monitorCgroup: String? = nil) {
    self.id = id
    self.directory = directory
    self.monitorCgroup = monitorCgroup
  }
}

/// What `ContainerRuntime.create` needs.
public struct CreateRequest: Sendable {
  public var layout: ContainerLayout
  /// The reserved name (conmon's `-n`).
  public var name: String
  public var logPath: String
  public var terminal: Bool
  public var stdin: Bool
  public var stdinOnce: Bool
  /// The cgroup the monitor is moved into before it starts the container
  /// (`monitor_cgroup`), inside each hierarchy; nil leaves it in the daemon's.
  public var monitorCgroup: String? = nil
  /// The container's pod: the pod monitor (runtime_type "pod") listens in
  /// its run directory. conmon needs none.
  public var pod: PodRuntimeContext? = nil

  public init(layout: ContainerLayout, name: String, logPath: String, terminal: Bool = false, stdin: Bool = false, stdinOnce: Bool = false) {
    self.layout = layout
    self.name = name
    self.logPath = logPath
    self.terminal = terminal
    self.stdin = stdin
    self.stdinOnce = stdinOnce
  }
}
