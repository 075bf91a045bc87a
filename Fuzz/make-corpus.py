#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/Corpus/<target>/: small valid inputs
(a crio.conf, registries.conf, policy.json, image documents, tars, SPDY and
WebSocket byte streams, CNI results...). Run from anywhere; the output is
committed, so this only needs running again to change the seeds. Inputs that
found bugs (regression-*) are committed beside the seeds, not made here."""
import gzip, io, json, os, re, struct, tarfile, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "Corpus")


def put(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


# crio.conf: every table with typical keys; a drop-in; a runtime handler.
put("fuzz-config", "crio.conf", """\
[crio]
root = "/var/lib/containers/storage"
runroot = "/run/containers/storage"
storage_driver = "overlay"
storage_option = []
log_dir = "/var/log/crio/pods"
version_file = "/var/run/crio/version"
internal_wipe = true
clean_shutdown_file = "/var/lib/crio/clean.shutdown"

[crio.api]
listen = "/var/run/crio/crio.sock"
stream_address = "127.0.0.1"
stream_port = "0"
stream_enable_tls = false
stream_idle_timeout = ""
grpc_max_send_msg_size = 83886080
grpc_max_recv_msg_size = 83886080

[crio.runtime]
default_ulimits = ["nofile=1024:2048"]
conmon = ""
conmon_cgroup = ""
conmon_env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
default_env = []
selinux = false
seccomp_profile = ""
apparmor_profile = "crio-default"
cgroup_manager = "cgroupfs"
default_capabilities = ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE", "KILL"]
default_sysctls = ["net.ipv4.ping_group_range=0 2147483647"]
allowed_devices = ["/dev/fuse"]
additional_devices = []
hooks_dir = ["/usr/share/containers/oci/hooks.d"]
pids_limit = 0
log_size_max = -1
log_level = "info"
ctr_stop_timeout = 30
drop_infra_ctr = true
namespaces_dir = "/var/run"
default_runtime = "runc"

[crio.runtime.runtimes.runc]
runtime_path = ""
runtime_type = "oci"
runtime_root = "/run/runc"
monitor_path = ""
monitor_cgroup = "system.slice"
monitor_env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
allowed_annotations = ["io.kubernetes.cri-o.Devices"]
privileged_without_host_devices = false

[crio.image]
default_transport = "docker://"
global_auth_file = ""
pause_image = "registry.k8s.io/pause:3.9"
pause_command = "/pause"
signature_policy = ""
insecure_registries = []
image_volumes = "mkdir"
max_parallel_downloads = 3
pull_progress_timeout = "1m30s"

[crio.network]
cni_default_network = ""
network_dir = "/etc/cni/net.d/"
plugin_dirs = ["/opt/cni/bin/", "/usr/lib/cni"]

[crio.metrics]
enable_metrics = false
metrics_port = 9090

[crio.tracing]
enable_tracing = false

[crio.nri]
enable_nri = false

[crio.stats]
stats_collection_period = 0
""")
put("fuzz-config", "drop-in.conf", """\
[crio.runtime]
log_level = "debug"
cgroup_manager = "systemd"
conmon_cgroup = "pod"

[crio.runtime.runtimes.crun]
runtime_path = "/usr/bin/crun"
runtime_root = "/run/crun"
allowed_annotations = ["io.kubernetes.cri-o.userns-mode"]
""")
put("fuzz-config", "unknown-and-inline.conf", """\
# comment
[crio]
unknown_key = 'literal'
[crio.api]
stream_idle_timeout = "4h0m0s"
[crio.image]
registries_conf = "/etc/containers/registries.conf"
registries_conf_dir = "/etc/containers/registries.conf.d"
""")

# registries.conf (v2): search registries, aliases, mirrors, blocking.
put("fuzz-registries", "registries.conf", """\
unqualified-search-registries = ["docker.io", "quay.io"]
short-name-mode = "enforcing"

[[registry]]
prefix = "docker.io"
location = "registry-1.docker.io"

[[registry.mirror]]
location = "mirror.example:5000"
insecure = true
pull-from-mirror = "digest-only"

[[registry]]
prefix = "*.example.com"
location = "internal.example"
blocked = false
mirror-by-digest-only = true

[[registry]]
location = "blocked.example"
blocked = true

[aliases]
"busybox" = "docker.io/library/busybox"
"app" = "quay.io/team/app"
""")
put("fuzz-registries", "v1.conf", """\
[registries.search]
registries = ["docker.io", "registry.fedoraproject.org"]

[registries.insecure]
registries = ["localhost:5000"]

[registries.block]
registries = ["bad.example"]
""")

# policy.json: the default, a strict one with scopes, every requirement type.
put("fuzz-policy", "default.json", '{"default":[{"type":"insecureAcceptAnything"}]}\n')
put("fuzz-policy", "scoped.json", json.dumps({
    "default": [{"type": "reject"}],
    "transports": {
        "docker": {
            "docker.io": [{"type": "insecureAcceptAnything"}],
            "quay.io/team": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/etc/pki/key.gpg"}],
            "localhost:5000/a/b": [{"type": "insecureAcceptAnything"}],
            "registry.example/ns/image@sha256:" + "0" * 64: [{"type": "reject"}],
        },
        "docker-daemon": {"": [{"type": "insecureAcceptAnything"}]},
    },
}, indent=2))
put("fuzz-policy", "sigstore.json", json.dumps({
    "default": [{"type": "sigstoreSigned", "keyPath": "/k.pub", "signedIdentity": {"type": "matchRepository"}}],
}))

# Registry text: 0 + a WWW-Authenticate header, 1 + an image reference.
put("fuzz-registry-text", "bearer", b"\x00" + b'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')
put("fuzz-registry-text", "basic-and-bearer", b"\x00" + b'Basic realm="Registry Realm", Bearer realm="https://r.example/t",error="insufficient_scope", Negotiate')
put("fuzz-registry-text", "reference", b"\x01" + b"docker.io/library/busybox:1.36")
put("fuzz-registry-text", "reference-digest", b"\x01" + b"localhost:5000/a/b@sha256:" + b"0" * 64)
put("fuzz-registry-text", "reference-short", b"\x01" + b"busybox")

# Image documents, as registries serve them.
def digest(n):
    return "sha256:" + ("%064x" % n)

manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(1), "size": 1469},
    "layers": [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(2), "size": 2818370},
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": digest(3), "size": 120,
         "annotations": {"org.opencontainers.image.title": "x"}},
    ],
    "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
}
put("fuzz-oci", "manifest.json", json.dumps(manifest))
docker = dict(manifest, mediaType="application/vnd.docker.distribution.manifest.v2+json")
docker["config"] = dict(manifest["config"], mediaType="application/vnd.docker.container.image.v1+json")
put("fuzz-oci", "docker-manifest.json", json.dumps(docker, indent=3))
put("fuzz-oci", "index.json", json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(4), "size": 528,
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(5), "size": 528,
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(6), "size": 528,
         "platform": {"architecture": "arm", "os": "linux", "variant": "v7", "os.version": "1", "os.features": ["a"]}},
    ],
}))
put("fuzz-oci", "config.json", json.dumps({
    "created": "2024-01-01T00:00:00Z",
    "author": "someone",
    "architecture": "amd64",
    "os": "linux",
    "config": {
        "User": "1000:1000", "ExposedPorts": {"80/tcp": {}}, "Env": ["PATH=/usr/bin:/bin"],
        "Entrypoint": ["/entry"], "Cmd": ["sh"], "Volumes": {"/data": {}}, "WorkingDir": "/",
        "Labels": {"a": "b"}, "StopSignal": "SIGTERM",
    },
    "rootfs": {"type": "layers", "diff_ids": [digest(7), digest(8)]},
    "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD", "empty_layer": False}],
}))
put("fuzz-oci", "schema1.json", '{"schemaVersion":1,"name":"a/b","tag":"latest","fsLayers":[]}')

# Layers: the first byte is the mode (0: as is, 1: wrap in gzip).
def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for kind, name, extra in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            info.uid = info.gid = 0
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "file":
                info.size, info.mode = len(extra), 0o644
                tar.addfile(info, io.BytesIO(extra))
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, extra
                tar.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, extra
                tar.addfile(info)
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
                tar.addfile(info)
            elif kind == "chr":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
                tar.addfile(info)
    data = out.getvalue().rstrip(b"\0")
    # Keep the two zero blocks that end an archive, not tarfile's 10 KiB record padding.
    return data + b"\0" * ((-len(data)) % 512 + 1024)

layer = tar_bytes([
    ("dir", "./", None), ("dir", "etc/", None), ("file", "etc/hostname", b"box\n"),
    ("symlink", "etc/localtime", "/usr/share/zoneinfo/UTC"), ("hardlink", "etc/alias", "etc/hostname"),
    ("dir", "bin/", None), ("file", "bin/sh", b"#!fake\n"), ("fifo", "run-fifo", None), ("chr", "dev-null", None),
])
put("fuzz-unpack", "layer.tar", b"\x00" + layer)
put("fuzz-unpack", "layer-wrapped-gzip", b"\x01" + layer)
put("fuzz-unpack", "layer.tar.gz", b"\x00" + gzip.compress(layer, mtime=0))
put("fuzz-unpack", "whiteouts.tar", b"\x00" + tar_bytes([
    ("dir", "etc/", None), ("file", "etc/.wh.hostname", b""), ("file", "etc/.wh..wh..opq", b""),
    ("dir", "var/", None), ("file", "var/.wh..wh.plnk", b""),
]))
put("fuzz-unpack", "escapes.tar", b"\x00" + tar_bytes([
    ("symlink", "up", ".."), ("file", "up/escaped", b"x"), ("file", "../dotdot", b"x"),
    ("symlink", "abs", "/tmp"), ("file", "abs/escaped", b"x"), ("hardlink", "link", "../sentinel"),
]))
put("fuzz-unpack", "gnu.tar", b"\x00" + tar_bytes([("file", "a" * 120 + "/long-name", b"long")], tarfile.GNU_FORMAT))

# SPDY/3.1: mode 0 is a client's connection (0xFF ends a read, so frames
# are laid out with no 0xFF bytes of their own where possible); 1 a bare
# header block; 2 a header block the target deflates into a SYN_STREAM.
def spdy_dictionary():
    source = open(os.path.join(ROOT, "Sources/StreamingWire/SPDY/SPDYHeaderDictionary.swift")).read()
    words_text = source[source.index("lengthPrefixedWords = ["):source.index("]", source.index("lengthPrefixedWords = ["))]
    words = re.findall(r'"([^"]*)"', words_text)
    trailer_text = source[source.index("trailer ="):]
    trailer = "".join(re.findall(r'"([^"]*)"', trailer_text))
    out = b""
    for word in words:
        out += struct.pack(">I", len(word)) + word.encode()
    out += trailer.encode()
    assert len(out) == 1423, len(out)
    return out

DICT = spdy_dictionary()

def header_block(pairs):
    out = struct.pack(">I", len(pairs))
    for name, value in pairs:
        out += struct.pack(">I", len(name)) + name.encode() + struct.pack(">I", len(value)) + value.encode()
    return out

def control(kind, flags, payload):
    return struct.pack(">HHI", 0x8003, kind, (flags << 24) | len(payload)) + payload

def data(stream, flags, payload):
    return struct.pack(">II", stream, (flags << 24) | len(payload)) + payload

deflate = zlib.compressobj(zdict=DICT)
def compressed(pairs):
    return deflate.compress(header_block(pairs)) + deflate.flush(zlib.Z_SYNC_FLUSH)

exec_headers = [("streamtype", "stdin"), ("port", ""), ("requestid", "0")]
connection = (
    control(4, 0, struct.pack(">I", 1) + struct.pack(">II", 0x00000007, 65536))  # SETTINGS
    + control(1, 0, struct.pack(">IIBB", 1, 0, 0, 0) + compressed([("streamtype", "error")]))  # SYN_STREAM
    + control(1, 0, struct.pack(">IIBB", 3, 0, 0, 0) + compressed(exec_headers))
    + control(1, 0, struct.pack(">IIBB", 5, 0, 0, 0) + compressed([("streamtype", "resize")]))
    + data(3, 0, b"echo hi\n") + data(5, 0, b'{"Width":80,"Height":24}\n') + data(3, 1, b"")
    + control(6, 0, struct.pack(">I", 1))  # PING
    + control(9, 0, struct.pack(">II", 3, 4096))  # WINDOW_UPDATE
    + control(8, 0, struct.pack(">I", 3) + compressed([("x", "y")]))  # HEADERS
    + control(3, 0, struct.pack(">II", 5, 5))  # RST_STREAM
    + control(7, 0, struct.pack(">II", 0, 0))  # GOAWAY
)
put("fuzz-spdy", "connection", b"\x00" + connection)
half = len(connection) // 2
put("fuzz-spdy", "connection-two-reads", b"\x00" + connection[:half] + b"\xff" + connection[half:])
put("fuzz-spdy", "header-block", b"\x01" + header_block([("streamtype", "data"), ("port", "8080"), ("requestid", "1")]))
put("fuzz-spdy", "header-block-deflated", b"\x02" + header_block(exec_headers))

# WebSocket: mode byte (bit 0 base64, bit 1 v5, bit 2 resize stream), then
# client frames (masked, as clients must send them).
def ws_frame(opcode, payload, fin=True, mask=b"\x01\x02\x03\x04"):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked

put("fuzz-websocket", "binary-v4", b"\x00" + ws_frame(2, b"\x00echo hi\n") + ws_frame(2, b"\x04" + b'{"Width":100,"Height":30}')
    + ws_frame(9, b"ping") + ws_frame(8, b"\x03\xe8"))
put("fuzz-websocket", "v5-close-signal", b"\x02" + ws_frame(2, b"\x00data") + ws_frame(2, b"\xff\x00") + ws_frame(8, b""))
put("fuzz-websocket", "base64-fragmented", b"\x01" + ws_frame(1, b"0aGVs", fin=False) + ws_frame(0, b"bG8=")
    + ws_frame(1, b"4eyJXaWR0aCI6MTAsIkhlaWdodCI6NX0="))
put("fuzz-websocket", "resize-stream", b"\x04" + b'{"Width":80,"Height":24}\n{"width":1,"height":2,"x":"}"}\xff{"Width":3')

# Channel messages.
put("fuzz-channels", "binary", b"\x01hello")
put("fuzz-channels", "base64", b"0aGVsbG8gd29ybGQ=")
put("fuzz-channels", "base64-url", b"2aGVsbG8_d29ybGQ-")
put("fuzz-channels", "close-signal", b"\xff\x00")

# CNI: mode byte 0 result, 1 cache file, 2 network config list.
result = {
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "cni0", "mac": "aa:bb:cc:dd:ee:ff"}, {"name": "eth0", "mac": "11:22:33:44:55:66", "sandbox": "/var/run/netns/x", "mtu": 1500}],
    "ips": [{"address": "10.85.0.4/16", "gateway": "10.85.0.1", "interface": 1}, {"address": "fd00:85::4/64", "interface": 1}],
    "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0", "gw": "fd00:85::1"}],
    "dns": {"nameservers": ["10.96.0.10"], "domain": "cluster.local", "search": ["svc.cluster.local"], "options": ["ndots:5"]},
}
put("fuzz-cni", "result", b"\x00" + json.dumps(result).encode())
put("fuzz-cni", "result-0.4", b"\x00" + b'{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"/n"}],"ips":[{"version":"4","interface":0,"address":"10.85.0.9/16","gateway":"10.85.0.1"}],"dns":{}}')
conflist = {"cniVersion": "1.0.0", "name": "crio", "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": True, "hairpinMode": True,
     "ipam": {"type": "host-local", "routes": [{"dst": "0.0.0.0/0"}], "ranges": [[{"subnet": "10.85.0.0/16"}]]}},
    {"type": "portmap", "capabilities": {"portMappings": True}},
]}
import base64
put("fuzz-cni", "cache", b"\x01" + json.dumps({
    "kind": "cniCacheV1", "containerId": "f00d", "config": base64.b64encode(json.dumps(conflist).encode()).decode(),
    "ifName": "eth0", "networkName": "crio", "netns": "/var/run/netns/x",
    "cniArgs": [["IgnoreUnknown", "1"], ["K8S_POD_NAMESPACE", "default"]],
    "capabilityArgs": {"portMappings": [{"hostPort": 80, "containerPort": 8080, "protocol": "tcp", "hostIP": ""}]},
    "result": result,
}).encode())
put("fuzz-cni", "cache-object-config", b"\x01" + json.dumps({
    "kind": "cniCacheV1", "containerId": "c", "config": conflist, "ifName": "eth0", "networkName": "crio", "result": None,
}).encode())
put("fuzz-cni", "conflist", b"\x02" + json.dumps(conflist, indent=2).encode())

# The daemon's socket: inspection requests and the HTTP/2 preface.
put("fuzz-http1", "info", b"GET /info HTTP/1.1\r\nHost: localhost\r\nUser-Agent: crio\r\n\r\n")
put("fuzz-http1", "container-split", b"GET /containers/abc?x=1 HTTP/1.0\r\n\xffAccept: */*\r\n\r\n")
put("fuzz-http1", "http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
put("fuzz-http1", "preface-split", b"PRI * HT\xffTP/2.0\r\n\r\nSM\r\n\r\n")
