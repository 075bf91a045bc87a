#!/usr/bin/env python3
"""A CRI client on gRPC C-core (grpcio), for the integration tests.

The Swift tests drive the daemon with grpc-swift; C-core enforces HTTP/2 and
gRPC limits differently (it drops a connection whose peer sends frames larger
than the SETTINGS_MAX_FRAME_SIZE it acknowledged), so the tests also run this
client against the daemon's socket. It needs only grpcio: messages are
encoded and decoded by hand (the protobuf wire format of the few runtime.v1
messages used here), with no generated stubs and no protoc.

Usage (one JSON object on stdout, exit 0 whenever the call got an answer):
  cri_client.py SOCKET exec-sync CONTAINER_ID TIMEOUT CMD...
  cri_client.py SOCKET list-containers
  cri_client.py SOCKET oversized-version BYTES
"""

import hashlib
import json
import sys

import grpc

RUNTIME = "/runtime.v1.RuntimeService/"
# The receive limit kubelet and crictl use; answers above it must not happen.
MAX_RECEIVE = 16 << 20


def varint(value):
    if value < 0:
        value += 1 << 64  # int64/int32 negatives are ten-byte varints
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    """A length-delimited field (strings, bytes, messages)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def varint_field(number, value):
    return varint(number << 3) + varint(value)


def read_varint(data, offset):
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, offset


def fields(data):
    """Yields (number, value) for each field of a message: ints for varints,
    memoryviews for length-delimited fields."""
    view = memoryview(data)
    offset = 0
    while offset < len(view):
        key, offset = read_varint(view, offset)
        number, kind = key >> 3, key & 7
        if kind == 0:
            value, offset = read_varint(view, offset)
        elif kind == 2:
            length, offset = read_varint(view, offset)
            value = view[offset:offset + length]
            offset += length
        elif kind == 1:
            value, offset = view[offset:offset + 8], offset + 8
        elif kind == 5:
            value, offset = view[offset:offset + 4], offset + 4
        else:
            raise ValueError("unsupported wire type %d" % kind)
        yield number, value


def summary(data):
    data = bytes(data)
    return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def exec_sync(call, container_id, timeout, command):
    request = field(1, container_id.encode()) + varint_field(3, int(timeout))
    for argument in command:
        request += field(2, argument.encode())
    response = {"stdout": summary(b""), "stderr": summary(b""), "exitCode": 0}
    for number, value in fields(call("ExecSync", request)):
        if number == 1:
            response["stdout"] = summary(value)
        elif number == 2:
            response["stderr"] = summary(value)
        elif number == 3:
            # int32 on the wire as a (possibly ten-byte) varint
            response["exitCode"] = value - (1 << 64) if value >= 1 << 63 else value
    return response


def list_containers(call):
    containers = []
    for number, value in fields(call("ListContainers", b"")):
        if number != 1:
            continue
        container = {"labels": {}}
        for inner, content in fields(value):
            if inner == 1:
                container["id"] = bytes(content).decode()
            elif inner == 8:
                entry = dict(fields(content))
                key = bytes(entry.get(1, b"")).decode()
                container["labels"][key] = summary(entry.get(2, b""))
        containers.append(container)
    return {"containers": containers}


def main(argv):
    socket, action, arguments = argv[1], argv[2], argv[3:]
    options = [
        ("grpc.max_receive_message_length", MAX_RECEIVE),
        ("grpc.max_send_message_length", -1),
    ]
    with grpc.insecure_channel("unix://" + socket, options=options) as channel:
        def call(method, request):
            return channel.unary_unary(RUNTIME + method)(request, timeout=120)

        try:
            if action == "exec-sync":
                result = exec_sync(call, arguments[0], arguments[1], arguments[2:])
            elif action == "list-containers":
                result = list_containers(call)
            elif action == "oversized-version":
                # VersionRequest.version, made as large as asked.
                call("Version", field(1, b"v" * int(arguments[0])))
                result = {}
            else:
                raise SystemExit("unknown action " + action)
            result["code"] = "OK"
        except grpc.RpcError as error:
            result = {"code": error.code().name, "details": error.details()}
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv)
