#!/usr/bin/env bash
# Runs the whole test suite: unit tests and integration tests that start the
# real daemon binary (as root, on temporary sockets and directories).
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (the integration tests start the daemon)" >&2; exit 1; }

Scripts/install-deps.sh --test

# Build everything first (the daemon binary the integration tests start, the
# benchmarks, the tests), then run the tests in parallel.
swift build --build-tests
swift test --skip-build "$@"
