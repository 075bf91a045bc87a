#!/usr/bin/env bash
# Rewrites Sources/crio/Link/hot-code.ld, the functions the daemon runs at
# start-up and through a pod's lifecycle, which the release link
# (Sources/crio/Link/crio.ld) gathers at the front of its code: an idle
# daemon then keeps half as much of it resident (docs/footprint.md). Run it
# when `bench.sh footprint` shows the hot code shrinking (a renamed
# function is no longer gathered) and commit the result; builds only read
# it. Takes a few minutes: the daemon runs under valgrind's callgrind.
# Needs root, as the daemon does.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh --bench
bin=$(Scripts/release-build.sh crio crio-monitor crio-bench)
"$bin/crio-bench" hot-code --output Sources/crio/Link/hot-code.ld
# SwiftPM does not relink when a linker script changes.
rm -f "$bin/crio"
