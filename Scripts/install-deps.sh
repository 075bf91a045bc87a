#!/usr/bin/env bash
# Installs what the daemon needs at run time (and, with --test or --bench,
# what the tests or benchmarks need too) from Debian's packages. Safe to run again.
set -euo pipefail

# Run time: the OCI runtime, its monitor, CNI plugins. Build: libarchive
# (layer tarballs), SQLite (image records), zlib (SPDY header compression),
# pkg-config to find them.
packages=(runc conmon containernetworking-plugins iptables libarchive-dev libsqlite3-dev libseccomp-dev zlib1g-dev pkg-config)
if [ "${1:-}" = "--test" ]; then
  # A real registry on loopback (and htpasswd for its basic auth), the
  # compressors test layers are made with, busybox to build test images from.
  # openssl and curl make and check the stream server's TLS certificates.
  # python3-venv holds grpcio, the C-core gRPC client some tests talk through.
  packages+=(busybox-static docker-registry apache2-utils gzip zstd iproute2 util-linux openssl curl python3 python3-venv)
fi
if [ "${1:-}" = "--bench" ]; then
  # The registry the pull benchmark serves from, and the peers it is compared with.
  packages+=(busybox-static docker-registry apache2-utils gzip zstd skopeo umoci)
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

# The tests' C-core gRPC client (Tests/IntegrationTests/Python): grpcio from
# PyPI in its own virtual environment, away from Debian's Python packages.
# The tests look for it at this path (or $CRIO_TEST_PYTHON).
if [ "${1:-}" = "--test" ]; then
  venv=/opt/crio-swift/test-python
  grpcio_version=1.85.3
  if ! "$venv/bin/python3" -c "import grpc, sys; sys.exit(grpc.__version__ != '$grpcio_version')" 2>/dev/null; then
    echo "installing grpcio $grpcio_version into $venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "grpcio==$grpcio_version"
  fi
fi
