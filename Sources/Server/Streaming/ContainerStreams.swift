import CRIAPI
import CSupport
import Dispatch
import PodNetwork
import Runtime
import Streaming
import Support

#if canImport(Glibc)
import Glibc
#endif

/// The container side of the streaming server: exec runs `runc exec` with
/// pipes or a terminal, attach joins conmon's attach socket, port-forward
/// dials localhost inside the pod's network namespace.
struct ContainerStreams: StreamingRuntime {
  let daemon: DaemonContext

  // MARK: - exec

  func exec(_ request: ExecRequest, io: StreamingIO) async throws -> Int32 {
    let owner = try daemon.runningContainer(request.containerID)
    let session = try owner.runtime.startExec(
      id: owner.id, command: request.command, tty: request.tty, stdin: io.stdin != nil)
    return await withTaskCancellationHandler {
      // The client's stdin and resizes end when the command does.
      let inputs = Task {
        await withTaskGroup(of: Void.self) { group in
          if let input = session.stdin {
            if let stdin = io.stdin {
              group.addTask { await DescriptorIO.copy(from: stdin, to: input) { close(input) } }
            } else {
              close(input)
            }
          }
          if session.terminal != nil {
            group.addTask {
              for await size in io.resize { session.resize(width: size.width, height: size.height) }
            }
          }
        }
      }
      await withTaskGroup(of: Void.self) { outputs in
        for (fd, writer) in [(session.stdout, io.stdout), (session.stderr, io.stderr)] {
          guard let fd else { continue }
          if let writer {
            outputs.addTask { await DescriptorIO.copy(from: fd, to: writer) }
          } else {
            close(fd)
          }
        }
      }
      let code = await session.wait()
      inputs.cancel()
      await inputs.value
      if let terminal = session.terminal { close(terminal) }
      return code
    } onCancel: {
      session.kill()
    }
  }

  // MARK: - attach

  func attach(_ request: AttachRequest, io: StreamingIO) async throws {
    let owner = try daemon.runningContainer(request.containerID)
    let fd: Int32
    do {
      fd = try UnixSocket.connect(owner.layout.attachSocket, type: Int32(SOCK_SEQPACKET.rawValue))
    } catch {
      throw CRIError.internal("attach to container \(owner.id): cannot connect to conmon's attach socket: \(error)")
    }
    let socket = OwnedSocket(fd)
    let stdinOnce = owner.record.configMessage.stdinOnce
    await withTaskCancellationHandler {
      let inputs = Task {
        await withTaskGroup(of: Void.self) { group in
          if let stdin = io.stdin {
            group.addTask {
              await DescriptorIO.copy(from: stdin, to: fd) {
                // conmon closes the container's stdin when the attach
                // socket's write side closes, which stdin_once asks for.
                if stdinOnce { socket.shutdown(Int32(SHUT_WR)) }
              }
            }
          }
          group.addTask {
            for await size in io.resize { try? owner.runtime.control(owner.layout, .resize(width: size.width, height: size.height)) }
          }
        }
      }
      // conmon frames each packet with the pipe it came from: 2 stdout, 3 stderr.
      // The loop runs until the reader thread is done with the socket (a
      // client that went away shuts the socket down to get there).
      // A read of a SOCK_SEQPACKET socket returns one whole packet.
      var packets = DescriptorIO.chunks(of: fd, bufferSize: 8193, closing: false).makeAsyncIterator()
      var clientGone = false
      while let packet = await packets.next() {
        guard !clientGone, packet.count > 1 else { continue }
        let writer = packet[0] == 3 ? io.stderr ?? io.stdout : io.stdout
        do {
          try await writer?.write(Array(packet[1...]))
        } catch {
          clientGone = true
          socket.shutdown()
        }
      }
      inputs.cancel()
      await inputs.value
      // Nothing reads or writes the socket any more.
      socket.close()
    } onCancel: {
      socket.shutdown()
    }
  }

  // MARK: - port-forward

  func portForward(podSandboxID: String, port: UInt16, stream: PortForwardStream) async throws {
    let pod = try daemon.readyPod(podSandboxID)
    // A host-network pod's ports are the host's own.
    let namespace = pod.namespaces.network ?? "/proc/self/ns/net"
    let fd = crio_connect_in_network_namespace(namespace, port)
    guard fd >= 0 else {
      throw CRIError.internal(
        "failed to connect to localhost:\(port) inside namespace of pod \(pod.id): \(SystemError("connect").reason)")
    }
    let socket = OwnedSocket(fd)
    let reader = dup(fd)
    await withTaskCancellationHandler {
      let inbound = Task {
        await DescriptorIO.copy(from: stream.inbound, to: fd) { socket.shutdown(Int32(SHUT_WR)) }
      }
      await DescriptorIO.copy(from: reader, to: stream.outbound)
      inbound.cancel()
      await inbound.value
      socket.close()
    } onCancel: {
      socket.shutdown()
    }
  }
}
