import Runtime
import Support

#if canImport(Glibc)
import Glibc
#endif

/// Turns conmon's exit files into transitions the moment they appear
/// (inotify on `container_exits_dir`, as CRI-O's monitorExits): nothing
/// polls, and reads never look at files.
struct ExitMonitor: Sendable {
  let supervisor: ContainerSupervisor
  let watch: DirectoryWatch

  /// Watches from now on; start it before recovery lists the directory, so
  /// an exit in between is seen twice rather than never.
  init(supervisor: ContainerSupervisor, directory: String) throws(SystemError) {
    self.supervisor = supervisor
    watch = try DirectoryWatch(directory)
  }

  /// Runs until cancelled.
  func run() async {
    for await name in watch.names() {
      guard let name else {
        // The kernel's queue overflowed: look at every running container.
        for owner in supervisor.index.all where owner.record.state != .exited && owner.layout.recordedExit() != nil {
          owner.exit.signal()
          Task { await supervisor.exited(owner) }
        }
        continue
      }
      if let owner = supervisor.index.owner(name) {
        // Not awaited: a transition holding this container's lock (a start
        // that is finishing) must not hold up other containers' exits.
        owner.exit.signal()
        Task { await supervisor.exited(owner) }
      } else if Recovery.isID(name) {
        // A container that is gone (or whose creation was undone): its
        // monitor wrote the file after the removal.
        unlink(watch.directory + "/" + name)
      }
    }
  }
}
