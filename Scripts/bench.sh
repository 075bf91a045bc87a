#!/usr/bin/env bash
# Prints the benchmark figures (release build): daemon cold start, idle RSS,
# Version round-trip latency. Figures only; nothing here passes or fails.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product crio
swift build -c release --static-swift-stdlib --product crio-bench
"$(swift build -c release --static-swift-stdlib --show-bin-path)/crio-bench" "$@"
