#!/usr/bin/env bash
# The one release build that install.sh installs, package.sh packages and
# bench.sh measures: builds the products named (default: crio; install and
# package also build crio-monitor, the pod monitor) and prints
# the directory they are in. Build output goes to stderr.
#
# - --static-swift-stdlib: nodes need not have the Swift toolchain, and the
#   daemon starts faster without dynamic relocation of the Swift libraries.
# - -Osize, and every function and datum in a section of its own so the
#   linker's --gc-sections drops those nothing uses: together a tenth of
#   the installed binary, with no slower start-up or RPCs (bench.sh
#   footprint and foundation print the figures).
# The link itself (GNU ld with packed relocations, full RELRO, no
# exported symbols) is in Package.swift, on the crio target; the daemon's
# hardening is checked here, since a change of linker or layout can lose
# it without any test failing.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(
  -c release --static-swift-stdlib
  -Xswiftc -Osize -Xswiftc -Xfrontend -Xswiftc -function-sections
  -Xcc -ffunction-sections -Xcc -fdata-sections
)
for product in "${@:-crio}"; do
  swift build "${flags[@]}" --product "$product" >&2
done
bin=$(swift build "${flags[@]}" --show-bin-path)
if [[ " ${*:-crio} " == *" crio "* ]]; then
  # Full RELRO: a read-only GOT after start-up; and no writable code.
  headers=$(readelf -lW -d "$bin/crio")
  for wanted in GNU_RELRO BIND_NOW PIE; do
    grep -q "$wanted" <<<"$headers" || { echo "release-build: $bin/crio lacks $wanted" >&2; exit 1; }
  done
  if grep -E '^\s+LOAD' <<<"$headers" | grep -q 'RWE'; then
    echo "release-build: $bin/crio has a writable and executable segment" >&2
    exit 1
  fi
fi
echo "$bin"
