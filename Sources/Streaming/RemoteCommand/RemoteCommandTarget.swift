/// The exec or attach a remotecommand session runs.
enum RemoteCommandTarget: Sendable {
  case exec(ExecRequest)
  case attach(AttachRequest)

  var streams: RequestedStreams {
    switch self {
    case .exec(let request): request.streams
    case .attach(let request): request.streams
    }
  }

  /// Runs the target on `runtime`. Cancellation (client gone) surfaces as
  /// whatever the runtime throws; the caller has no client to tell then.
  func run(on runtime: any StreamingRuntime, io: StreamingIO) async -> RemoteCommandOutcome {
    do {
      switch self {
      case .exec(let request): return .exited(try await runtime.exec(request, io: io))
      case .attach(let request):
        try await runtime.attach(request, io: io)
        return .exited(0)
      }
    } catch {
      return .failed("\(error)")
    }
  }
}
