#!/usr/bin/env bash
# Checks the Debian package as a node gets it: builds it (Scripts/package.sh),
# runs lintian on it, installs it with apt into a fresh Debian 12 root
# (debootstrap, minbase) and checks there the files, `crio version`,
# `crio config`, both man pages with `man -l`, the unit with
# `systemd-analyze verify`, and that an upgrade keeps a changed
# /etc/crio/crio.conf. Not part of CI (the release build and the fresh root
# take several minutes); its output is quoted in closing notes.
#
#   Scripts/test-package.sh            (keeps nothing; CRIO_KEEP_ROOT=1 keeps the root)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test-package.sh: run as root (debootstrap, chroot)" >&2; exit 1; }

missing=()
for package in debootstrap lintian systemd; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" > /dev/null
fi

work=$(mktemp -d /tmp/crio-package-test.XXXXXX)
root="$work/root"
cleanup() {
  for mount in "$root/proc" "$root/dev/pts" "$root/dev"; do mountpoint -q "$mount" && umount -l "$mount"; done
  [ -n "${CRIO_KEEP_ROOT:-}" ] && { echo "root kept: $root"; return; }
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
logged() {  # logged <log file> <command...>: the command's output goes to the file
  local log=$1; shift
  "$@" > "$log" 2>&1
}
check() {  # check <description> <command...>
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}

started=$(date +%s)
Scripts/package.sh "$work/dist-1" > "$work/package-1.log" 2>&1 || { cat "$work/package-1.log"; exit 1; }
CRIO_PACKAGE_REVISION=2 Scripts/package.sh "$work/dist-2" > "$work/package-2.log" 2>&1 || { cat "$work/package-2.log"; exit 1; }
deb1=$(ls "$work"/dist-1/crio_*.deb)
deb2=$(ls "$work"/dist-2/crio_*.deb)
echo "packages built in $(($(date +%s) - started)) s:"
ls -l "$work"/dist-1/*.deb | awk '{ print "  " $5 " bytes  " $9 }'
dpkg-deb --info "$deb1" | sed -n 's/^ \(Depends\|Installed-Size\):/  \1:/p'

echo "lintian:"
lintian --tag-display-limit 0 "$deb1" "$work"/dist-1/crio-dbgsym_*.deb > "$work/lintian.log" 2>&1 || true
sed 's/^/  /' "$work/lintian.log"
check "lintian reports no errors" bash -c "! grep -q '^E:' '$work/lintian.log'"

echo "fresh Debian 12 root (debootstrap minbase)..."
started=$(date +%s)
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian > "$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log"; exit 1; }
echo "  made in $(($(date +%s) - started)) s"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
dbg1=$(ls "$work"/dist-1/crio-dbgsym_*.deb)
dbg2=$(ls "$work"/dist-2/crio-dbgsym_*.deb)
cp "$deb1" "$deb2" "$dbg1" "$dbg2" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
in_root apt-get update -q > "$work/apt.log" 2>&1
# What a node has beside the package: systemd (the unit is verified against
# it), procps (kill), man-db to read the pages.
in_root apt-get install -y -q --no-install-recommends man-db systemd procps >> "$work/apt.log" 2>&1

started=$(date +%s)
check "apt installs the package" \
  logged "$work/install.log" in_root apt-get install -y -q --no-install-recommends "/tmp/$(basename "$deb1")"
echo "  installed (with its dependencies) in $(($(date +%s) - started)) s"
for file in /usr/bin/crio /usr/bin/crio-monitor /etc/crio/crio.conf /lib/systemd/system/crio.service /usr/share/man/man8/crio.8.gz \
  /usr/share/man/man5/crio.conf.5.gz /usr/share/bash-completion/completions/crio /usr/share/zsh/vendor-completions/_crio \
  /usr/share/fish/vendor_completions.d/crio.fish /usr/share/doc/crio/copyright; do
  check "$file is installed" test -f "$root$file"
done
build_id=$(readelf -n "$root/usr/bin/crio" | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p' | sed -n 1p)
check "the binary is stripped, with a debuglink" bash -c "readelf -S '$root/usr/bin/crio' | grep -q gnu_debuglink && ! readelf -S '$root/usr/bin/crio' | grep -q debug_info"
check "the dbgsym package installs the binary's debug info" \
  logged "$work/dbgsym.log" in_root dpkg -i "/tmp/$(basename "$dbg1")"
check "the debug info is where gdb looks for it" test -f "$root/usr/lib/debug/.build-id/${build_id:0:2}/${build_id:2}.debug"
check "the default CNI network was written" bash -c "ls '$root'/etc/cni/net.d/*.conflist > /dev/null"
check "no Swift toolchain came with it" bash -c "! ls '$root'/usr/lib/swift > /dev/null 2>&1"
check "crio version runs there" bash -c "chroot '$root' crio version | grep -q '^Version:'"
check "crio config loads the installed crio.conf" bash -c "chroot '$root' crio config > /dev/null"
check "man -l crio(8)" bash -c "chroot '$root' env MANWIDTH=80 man -l /usr/share/man/man8/crio.8.gz | grep -q 'crio config'"
check "man -l crio.conf(5)" bash -c "chroot '$root' env MANWIDTH=80 man -l /usr/share/man/man5/crio.conf.5.gz | grep -q 'cgroup_manager'"
check "systemd-analyze verify crio.service" systemd-analyze --root="$root" verify crio.service

# An upgrade keeps what the operator changed in the conffile.
sed -i 's/^log_level = .*/log_level = "debug"/' "$root/etc/crio/crio.conf"
check "apt upgrades to revision 2" \
  logged "$work/upgrade.log" in_root apt-get install -y -q --no-install-recommends "/tmp/$(basename "$deb2")" "/tmp/$(basename "$dbg2")"
check "the changed crio.conf survives the upgrade" grep -q '^log_level = "debug"' "$root/etc/crio/crio.conf"
check "the upgraded package is installed" bash -c "chroot '$root' dpkg-query -W -f='\${Version}' crio | grep -q -- '-2\$'"
check "the upgraded daemon reads the changed file" bash -c "chroot '$root' crio config | grep -q '^log_level = \"debug\"'"
check "apt removes it" logged "$work/remove.log" in_root apt-get remove -y -q crio-dbgsym crio

if [ "$failures" -gt 0 ]; then
  for log in "$work"/*.log; do echo "--- $log"; tail -15 "$log"; done
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
