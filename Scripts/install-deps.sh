#!/usr/bin/env bash
# Installs what the daemon needs at run time (and, with --test or --bench,
# what the tests or benchmarks need too) from Debian's packages. Safe to run again.
set -euo pipefail

# Run time: the OCI runtime, its monitor, CNI plugins. Build: libarchive
# (layer tarballs), SQLite (image records), zlib (SPDY header compression),
# libyaml (CDI specs), pkg-config to find them, binutils to strip the
# installed binary.
packages=(runc conmon containernetworking-plugins iptables libarchive-dev libsqlite3-dev libseccomp-dev zlib1g-dev libyaml-dev pkg-config binutils)
if [ "${1:-}" = "--test" ]; then
  # A real registry on loopback (and htpasswd for its basic auth), the
  # compressors test layers are made with, busybox to build test images from.
  # openssl and curl make and check the stream server's TLS certificates.
  # python3-venv holds grpcio, the C-core gRPC client some tests talk through.
  # prometheus scrapes the metrics endpoint in one test, as on a real node;
  # groff checks the generated man pages.
  packages+=(busybox-static docker-registry apache2-utils gzip zstd iproute2 util-linux openssl curl python3 python3-venv prometheus groff-base)
fi
if [ "${1:-}" = "--bench" ]; then
  # The registry the pull benchmark serves from, and the peers it is compared
  # with; valgrind's callgrind lists the functions the daemon runs for
  # hot-code-order.sh.
  packages+=(busybox-static docker-registry apache2-utils gzip zstd skopeo umoci valgrind)
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
  # The tests run their own prometheus; where the package's service started
  # (no policy-rc.d forbidding it), it is not wanted on :9090.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -x /etc/init.d/prometheus ] \
    && /etc/init.d/prometheus status > /dev/null 2>&1; then
    /etc/init.d/prometheus stop || true
  fi
fi

# The suite runs dozens of daemons at once, all as root, each with a few
# inotify instances (exits, CNI networks, hooks); Debian's 128 per user is
# too few for that (a node runs one daemon and is fine with it).
if [ "${1:-}" = "--test" ] && [ "$(cat /proc/sys/fs/inotify/max_user_instances)" -lt 8192 ]; then
  sysctl -q -w fs.inotify.max_user_instances=8192
fi

# The tests' Python clients (Tests/IntegrationTests/Python), from PyPI in
# their own virtual environment, away from Debian's Python packages: grpcio,
# the C-core gRPC client, and prometheus_client, whose parser checks /metrics.
# The tests look for it at this path (or $CRIO_TEST_PYTHON).
if [ "${1:-}" = "--test" ]; then
  venv=/opt/crio-swift/test-python
  grpcio_version=1.85.3
  prometheus_client_version=0.26.0
  if ! "$venv/bin/python3" -c "import grpc, sys; sys.exit(grpc.__version__ != '$grpcio_version')" 2>/dev/null; then
    echo "installing grpcio $grpcio_version into $venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "grpcio==$grpcio_version"
  fi
  # prometheus_client has no __version__: ask the installed distribution.
  if ! "$venv/bin/python3" -c "import importlib.metadata as m, sys; sys.exit(m.version('prometheus_client') != '$prometheus_client_version')" 2>/dev/null; then
    echo "installing prometheus_client $prometheus_client_version into $venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "prometheus_client==$prometheus_client_version"
  fi
fi
