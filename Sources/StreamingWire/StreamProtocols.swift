/// Names both ends of the streaming protocols agree on (Kubernetes'
/// `k8s.io/apimachinery/pkg/util/remotecommand` and `k8s.io/api/core/v1`).
public enum StreamProtocols {
  /// `X-Stream-Protocol-Version` values for remotecommand over SPDY, and the
  /// WebSocket subprotocols (which add `base64.` variants).
  public enum RemoteCommand {
    public static let v1 = "channel.k8s.io"
    public static let v2 = "v2.channel.k8s.io"
    public static let v3 = "v3.channel.k8s.io"
    public static let v4 = "v4.channel.k8s.io"
    public static let v5 = "v5.channel.k8s.io"
    public static let base64V1 = "base64.channel.k8s.io"
    public static let base64V4 = "v4.base64.channel.k8s.io"
  }

  public enum PortForward {
    /// The one SPDY port-forward protocol.
    public static let v1 = "portforward.k8s.io"
  }

  public static let spdyUpgrade = "SPDY/3.1"
  public static let protocolVersionHeader = "X-Stream-Protocol-Version"
  public static let acceptedVersionsHeader = "X-Accepted-Stream-Protocol-Versions"
  public static let webSocketProtocolHeader = "Sec-WebSocket-Protocol"

  /// SPDY stream headers.
  public static let streamTypeHeader = "streamtype"
  public static let portHeader = "port"
  public static let requestIDHeader = "requestid"

  /// `streamType` values.
  public enum StreamType {
    public static let error = "error"
    public static let stdin = "stdin"
    public static let stdout = "stdout"
    public static let stderr = "stderr"
    public static let resize = "resize"
    public static let data = "data"
  }

  /// Channel numbers of remotecommand over WebSocket.
  public enum Channel {
    public static let stdin: UInt8 = 0
    public static let stdout: UInt8 = 1
    public static let stderr: UInt8 = 2
    public static let error: UInt8 = 3
    public static let resize: UInt8 = 4
  }
}
