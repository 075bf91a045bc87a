#!/usr/bin/env bash
# Installs and starts the crio daemon on this machine, as a node operator
# would: run-time packages, a release build in /usr/local/bin, a default
# /etc/crio/crio.conf (never overwriting one that exists), a default CNI
# network when there is none, then the daemon
# itself (a systemd unit where systemd runs, else a background process).
# Afterwards: crictl --runtime-endpoint unix:///var/run/crio/crio.sock version
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (it installs packages and starts a system daemon)" >&2; exit 1; }

Scripts/install-deps.sh

echo "building crio and crio-monitor (release)..."
built="$(Scripts/release-build.sh crio crio-monitor)"
# Installed stripped (a quarter of the size); the debug info goes beside
# it in /usr/local/lib/debug, where the binary's debuglink and gdb find it.
# crio-monitor, the pod monitor of runtime_type = "pod" handlers, goes
# beside crio, where the daemon looks for it.
mkdir -p /usr/local/lib/debug
for name in crio crio-monitor; do
  objcopy --only-keep-debug --compress-debug-sections "$built/$name" "/usr/local/lib/debug/$name.debug"
  chmod 0644 "/usr/local/lib/debug/$name.debug"
  install -m 0755 "$built/$name" "/usr/local/bin/$name.new"
  strip --strip-unneeded "/usr/local/bin/$name.new"
  objcopy --add-gnu-debuglink="/usr/local/lib/debug/$name.debug" "/usr/local/bin/$name.new"
  mv "/usr/local/bin/$name.new" "/usr/local/bin/$name"
done

mkdir -p /etc/crio/crio.conf.d
if [ ! -e /etc/crio/crio.conf ]; then
  /usr/local/bin/crio config --default > /etc/crio/crio.conf
  echo "wrote /etc/crio/crio.conf"
fi

# A pod network out of the box, as CRI-O's packages do: the bridge cni0 with
# host-local addresses from 10.85.0.0/16 (CRIO_POD_SUBNET changes it) and
# portmap, written only when network_dir holds no configuration.
/usr/local/bin/crio install-cni-config --subnet "${CRIO_POD_SUBNET:-10.85.0.0/16}"

socket=/var/run/crio/crio.sock
if [ -d /run/systemd/system ]; then
  install -m 0644 contrib/crio.service /etc/systemd/system/crio.service
  systemctl daemon-reload
  systemctl enable crio.service
  systemctl restart crio.service
else
  # No systemd: run it in the background, logging to /var/log/crio/crio.log.
  if [ -f /var/run/crio/crio.pid ] && kill -0 "$(cat /var/run/crio/crio.pid)" 2>/dev/null; then
    kill "$(cat /var/run/crio/crio.pid)"
    for _ in $(seq 100); do [ -S "$socket" ] || break; sleep 0.1; done
  fi
  mkdir -p /var/log/crio /var/run/crio
  nohup /usr/local/bin/crio >>/var/log/crio/crio.log 2>&1 </dev/null &
  echo $! > /var/run/crio/crio.pid
fi

for _ in $(seq 100); do
  if [ -S "$socket" ]; then
    echo "crio is serving on $socket"
    echo "try: crictl --runtime-endpoint unix://$socket version"
    exit 0
  fi
  sleep 0.1
done
echo "crio did not come up; see /var/log/crio/crio.log or 'journalctl -u crio'" >&2
exit 1
