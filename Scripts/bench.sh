#!/usr/bin/env bash
# Prints the benchmark figures (release build): `foundation` (daemon cold
# start, idle RSS, Version round-trip latency), `pull` (a 50 MB, 5-layer
# image from a loopback registry, beside skopeo + umoci), `lifecycle`
# (pod and container RPC latencies beside bare runc, RSS and
# ListContainerStats with 100 running containers), `network` (RunPodSandbox
# with and without a CNI bridge), `streaming` (ExecSync vs Exec round
# trips, port-forward throughput), `execsync-memory` (the daemon's RSS
# after 16 MiB ExecSync answers), `supervision` (read RPCs with 100
# running containers, exit-to-event delay, Version under pulls and pod
# starts), `metrics` (Version with metrics off and on, and a scrape's
# time), `footprint` (the binary built and stripped, cold start, RSS and PSS
# idle and after a pod lifecycle, beside issue 16's starting figures) or
# `soak` (1,000 pod + 2-container cycles on a CNI bridge, then a
# leak check and the daemon's descriptors and RSS; `--cycles N`). Figures
# only; nothing passes or fails. `pod-monitor`: runtime_type "pod" beside
# conmon (Create+Start, ExecSync, 10 pods x 10 containers: start-up time and
# PSS of the daemon and its monitors).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh --bench
# The daemon as install.sh and package.sh build it.
"$(Scripts/release-build.sh crio crio-monitor crio-bench)/crio-bench" "$@"
