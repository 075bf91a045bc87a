#!/usr/bin/env bash
# Regenerates Sources/CRIAPI from Protos/runtime/v1/api.proto.
#
# Run by hand after changing the .proto; the normal build never runs protoc.
# It builds the two protoc plugins from the local package copies (about 1.5
# minutes each, once; kept in $PLUGIN_CACHE) and needs Debian's
# protobuf-compiler (protoc 3.21).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${PLUGIN_CACHE:-/tmp/crio-protoc-plugins}
swift_protobuf_version=1.39.0
grpc_protobuf_version=2.4.1

command -v protoc >/dev/null || apt-get install -y -q protobuf-compiler

if [ ! -x "$cache/bin/protoc-gen-grpc-swift-2" ] || [ ! -x "$cache/bin/protoc-gen-swift" ]; then
  rm -rf "$cache/src" && mkdir -p "$cache/bin"
  git clone -q --depth 1 --branch "$grpc_protobuf_version" \
    https://github.com/grpc/grpc-swift-protobuf "$cache/src"
  # grpc-swift-protobuf depends on swift-protobuf; pin the version we generate with.
  (cd "$cache/src" &&
    swift package resolve &&
    swift package resolve swift-protobuf --version "$swift_protobuf_version" &&
    swift build -c release --product protoc-gen-grpc-swift-2 &&
    swift build -c release --product protoc-gen-swift)
  cp "$cache/src/.build/release/protoc-gen-grpc-swift-2" "$cache/src/.build/release/protoc-gen-swift" "$cache/bin/"
fi

out="$root/Sources/CRIAPI"
rm -f "$out"/*.pb.swift "$out"/*.grpc.swift
protoc -I "$root/Protos" \
  --plugin=protoc-gen-swift="$cache/bin/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift="$cache/bin/protoc-gen-grpc-swift-2" \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath \
  --swift_out="$out" \
  --grpc-swift_opt=Visibility=Public --grpc-swift_opt=FileNaming=DropPath \
  --grpc-swift_opt=Client=true --grpc-swift_opt=Server=true \
  --grpc-swift_out="$out" \
  "$root/Protos/runtime/v1/api.proto"

# The copy must stay wire-identical to the published API: compare descriptors
# (no source info, so comments do not count) when the reference is at hand.
reference="$root/../shared/reference/cri-api/api.proto"
if [ -f "$reference" ]; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/runtime/v1"
  sed 's/ \[debug_redact = true\]//' "$reference" > "$tmp/runtime/v1/api.proto"
  protoc -I "$tmp" --descriptor_set_out="$tmp/reference.pb" "$tmp/runtime/v1/api.proto"
  protoc -I "$root/Protos" --descriptor_set_out="$tmp/ours.pb" "$root/Protos/runtime/v1/api.proto"
  cmp -s "$tmp/reference.pb" "$tmp/ours.pb" || { echo "api.proto differs from the published CRI on the wire" >&2; exit 1; }
  rm -rf "$tmp"
  echo "api.proto matches the published CRI descriptor"
fi
ls -l "$out"
