import CSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One container the monitor holds, as conmon holds one: its stdio (pipes,
/// or the terminal's master), its CRI log, its attach socket and clients,
/// and what is needed to record its end.
final class Container {
  let id: String
  let bundle: String
  let pid: pid_t
  let terminal: Bool
  /// conmon's `--leave-stdin-open`: stdin stays open when an attach client leaves.
  let leaveStdinOpen: Bool
  var log: CRILog
  /// Read ends of the container's stdout and stderr, or the terminal's
  /// master as stdout; -1 once closed.
  var stdout: Int32
  var stderr: Int32
  /// Where attach input goes: the write end of its stdin pipe or the
  /// terminal's master; -1 when it has none (or it was closed).
  var stdin: Int32
  /// Attach input not yet taken by the container (its pipe was full).
  var pendingInput: [UInt8] = []
  /// The SEQPACKET attach socket and its clients.
  var attachListener: Int32 = -1
  var attachClients: [Int32] = []
  /// Attach clients that are gone (a send failed): the monitor stops
  /// watching and closes them.
  var goneClients: [Int32] = []
  /// `<attach dir>/<id>`, the short link to the bundle the socket is reached by.
  let attachLink: String
  let oom: OOMCounter?
  /// The wait status once the init process was reaped.
  var waitStatus: Int32?

  init(
    id: String, bundle: String, pid: pid_t, terminal: Bool, leaveStdinOpen: Bool, log: CRILog,
    stdout: Int32, stderr: Int32, stdin: Int32, attachLink: String
  ) {
    self.id = id
    self.bundle = bundle
    self.pid = pid
    self.terminal = terminal
    self.leaveStdinOpen = leaveStdinOpen
    self.log = log
    self.stdout = stdout
    self.stderr = stderr
    self.stdin = stdin
    self.attachLink = attachLink
    oom = OOMCounter(pid: pid)
  }

  /// conmon's packet tags on the attach socket: 2 stdout, 3 stderr.
  static func attachTag(_ stream: CRILog.Stream) -> UInt8 { stream == .stdout ? 2 : 3 }

  enum ReadResult { case data, wouldBlock, end }

  /// Reads what the container wrote on `fd` (conmon's 8 KiB at a time),
  /// logs it and sends it to every attach client.
  func readOutput(_ fd: Int32, _ stream: CRILog.Stream) -> ReadResult {
    var buffer = [UInt8](repeating: 0, count: 8193)
    let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + 1, 8192) }
    if got < 0 {
      // A terminal's master reads EIO once the last slave is closed.
      return errno == EINTR || errno == EAGAIN ? .wouldBlock : .end
    }
    guard got > 0 else { return .end }
    log.write(stream, buffer[1...got])
    buffer[0] = Self.attachTag(stream)
    for client in attachClients {
      // A client too slow to take a packet loses it, as with conmon, rather
      // than stalling the container and every other one of the pod.
      let sent = buffer.withUnsafeBytes { send(client, $0.baseAddress, got + 1, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
      if sent < 0 && errno != EAGAIN && errno != EINTR { goneClients.append(client) }
    }
    if !goneClients.isEmpty { attachClients.removeAll { goneClients.contains($0) } }
    return .data
  }

  /// Hands attach input to the container; what its full pipe cannot take
  /// now waits in `pendingInput`. False when stdin is gone.
  func writeInput(_ bytes: ArraySlice<UInt8>) -> Bool {
    guard stdin >= 0 else { return false }
    pendingInput += bytes
    return flushInput()
  }

  /// Writes pending input; false when stdin is gone.
  @discardableResult
  func flushInput() -> Bool {
    while !pendingInput.isEmpty {
      let written = pendingInput.withUnsafeBytes { write(stdin, $0.baseAddress, $0.count) }
      if written < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN { return true }
        closeStdin()
        return false
      }
      pendingInput.removeFirst(written)
    }
    return true
  }

  func closeStdin() {
    // The terminal's master is also stdout: only a pipe is closed.
    if stdin >= 0 && !terminal { close(stdin) }
    stdin = -1
    pendingInput = []
  }

  func resize(width: UInt16, height: UInt16) -> Bool {
    guard terminal, stdout >= 0 else { return false }
    return crio_set_window_size(stdout, height, width) == 0
  }
}
