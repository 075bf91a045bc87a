#!/usr/bin/env bash
# Prints the benchmark figures (release build): `foundation` (daemon cold
# start, idle RSS, Version round-trip latency), `pull` (a 50 MB, 5-layer
# image from a loopback registry, beside skopeo + umoci) or `lifecycle`
# (pod and container RPC latencies beside bare runc, RSS with 100 running
# containers). Figures only; nothing here passes or fails.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh --bench
swift build -c release --static-swift-stdlib --product crio
swift build -c release --static-swift-stdlib --product crio-bench
"$(swift build -c release --static-swift-stdlib --show-bin-path)/crio-bench" "$@"
