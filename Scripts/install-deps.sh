#!/usr/bin/env bash
# Installs what the daemon needs at run time (and, with --test, what the test
# suite needs too) from Debian's packages. Safe to run again.
set -euo pipefail

packages=(runc conmon containernetworking-plugins iptables libarchive-dev libseccomp-dev)
if [ "${1:-}" = "--test" ]; then
  packages+=(busybox-static)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
