#!/usr/bin/env bash
# Builds the Debian packages of crio from this tree, once, for nodes that
# have no Swift toolchain: dist/crio_<version>_<arch>.deb (the daemon,
# /etc/crio/crio.conf as a conffile, the systemd unit, man pages, shell
# completions) and dist/crio-dbgsym_<version>_<arch>.deb (the debug info the
# installed binary is stripped of, found through its build ID).
#
#   Scripts/package.sh [output directory]     (default: dist)
#   CRIO_PACKAGE_REVISION=2 Scripts/package.sh   (the Debian revision, default 1)
#
# Install on a node: apt install ./dist/crio_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-dist}")
revision=${CRIO_PACKAGE_REVISION:-1}
maintainer=${CRIO_PACKAGE_MAINTAINER:-crio-swift developers <crio-swift@example.org>}

Scripts/install-deps.sh
for tool in dpkg-deb objcopy strip gzip readelf; do
  command -v "$tool" > /dev/null || { echo "package.sh: $tool is missing (dpkg, binutils, gzip)" >&2; exit 1; }
done

# A static Swift runtime: nothing of Swift on the node.
built="$(Scripts/release-build.sh crio crio-monitor)"
bin="$built/crio"
upstream=$("$bin" version --json | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
[ -n "$upstream" ] || { echo "package.sh: cannot read the version from crio version --json" >&2; exit 1; }
version="$upstream-$revision"
arch=$(dpkg --print-architecture)

stage=$(mktemp -d /tmp/crio-package.XXXXXX)
trap 'rm -rf "$stage"' EXIT
root="$stage/crio"
debug="$stage/crio-dbgsym"
mkdir -p "$root/DEBIAN" "$debug/DEBIAN"

# The binaries (crio and its pod monitor, crio-monitor, beside it),
# stripped; their debug info goes to the dbgsym package under
# /usr/lib/debug/.build-id/, where gdb and systemd-coredump look for it,
# and each binary keeps a debuglink to it.
for name in crio crio-monitor; do
  install -D -m 0755 "$built/$name" "$root/usr/bin/$name"
  build_id=$(readelf -n "$root/usr/bin/$name" | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p' | sed -n 1p)
  [ -n "$build_id" ] || { echo "package.sh: $name has no build ID" >&2; exit 1; }
  debug_file="$debug/usr/lib/debug/.build-id/${build_id:0:2}/${build_id:2}.debug"
  mkdir -p "$(dirname "$debug_file")"
  objcopy --only-keep-debug --compress-debug-sections "$root/usr/bin/$name" "$debug_file"
  chmod 0644 "$debug_file"
  strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/bin/$name"
  objcopy --add-gnu-debuglink="$debug_file" "$root/usr/bin/$name"
done

# Configuration: CRI-O's layout. crio.conf is a conffile, so an operator's
# changes survive upgrades.
install -d -m 0755 "$root/etc/crio/crio.conf.d"
# cgroup_manager is left out: its default follows the node's init system
# (systemd where it runs, as kubelet's driver then is), not the build host's.
"$root/usr/bin/crio" config --config "" --config-dir "" --default \
  | sed 's/^cgroup_manager = .*/# cgroup_manager = "systemd"   (unset: systemd where systemd runs, else cgroupfs)/' \
  > "$root/etc/crio/crio.conf"
grep -q '^# cgroup_manager' "$root/etc/crio/crio.conf" || { echo "package.sh: crio.conf has no cgroup_manager line to leave out" >&2; exit 1; }
chmod 0644 "$root/etc/crio/crio.conf"
echo /etc/crio/crio.conf > "$root/DEBIAN/conffiles"

# The unit (bookworm's place for units is /lib/systemd/system).
install -d -m 0755 "$root/lib/systemd/system"
sed 's|/usr/local/bin/crio|/usr/bin/crio|' contrib/crio.service > "$root/lib/systemd/system/crio.service"
chmod 0644 "$root/lib/systemd/system/crio.service"

# Manual pages and completions, made by the binary itself.
install -d -m 0755 "$root/usr/share/man/man8" "$root/usr/share/man/man5"
"$root/usr/bin/crio" man | gzip -9n > "$root/usr/share/man/man8/crio.8.gz"
"$root/usr/bin/crio" man --section 5 | gzip -9n > "$root/usr/share/man/man5/crio.conf.5.gz"
install -d -m 0755 "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
  "$root/usr/share/fish/vendor_completions.d"
# bash-completion sources the file: no interpreter line.
"$root/usr/bin/crio" completion bash | sed '1{/^#!/d}' > "$root/usr/share/bash-completion/completions/crio"
"$root/usr/bin/crio" completion zsh > "$root/usr/share/zsh/vendor-completions/_crio"
"$root/usr/bin/crio" completion fish > "$root/usr/share/fish/vendor_completions.d/crio.fish"
chmod 0644 "$root"/usr/share/*/completions/crio "$root/usr/share/zsh/vendor-completions/_crio" \
  "$root/usr/share/fish/vendor_completions.d/crio.fish"

# Debian's documentation files.
for package in crio crio-dbgsym; do
  doc="$stage/$package/usr/share/doc/$package"
  install -d -m 0755 "$doc"
  install -m 0644 contrib/debian/copyright "$doc/copyright"
  sed "s/@VERSION@/$version/; s/@PACKAGE@/$package/; s|@MAINTAINER@|$maintainer|; s/@DATE@/$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")/" \
    contrib/debian/changelog.in | gzip -9n > "$doc/changelog.Debian.gz"
  chmod 0644 "$doc/changelog.Debian.gz"
done

# Run-time libraries: the packages that hold what the binary links, and
# libarchive, which it opens at the first layer unpack (CRIO_LIBARCHIVE_SONAME
# in Sources/CArchive/include/CArchive.h).
libraries=$({ for name in crio crio-monitor; do readelf -d "$root/usr/bin/$name"; done | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'; echo libarchive.so.13; } | sort -u)
shlib_depends=$(for library in $libraries; do
  path=$(ldconfig -p | awk -v lib="$library" '$1 == lib && /x86-64|AArch64|64bit/ { print $NF; exit }')
  [ -n "$path" ] || path=$(ldconfig -p | awk -v lib="$library" '$1 == lib { print $NF; exit }')
  # dpkg knows a library by the path its package ships (/lib or /usr/lib
  # on a merged /usr): ask for the path as found, then as resolved.
  { dpkg -S "$path" 2> /dev/null || dpkg -S "$(realpath "$path")" 2> /dev/null || true; } | head -1 | cut -d: -f1
done | sort -u | paste -sd, | sed 's/,/, /g')
[ -n "$shlib_depends" ] || { echo "package.sh: cannot tell which packages hold the libraries the binary links" >&2; exit 1; }

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: crio
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $shlib_depends, runc, conmon, containernetworking-plugins, iptables
Section: admin
Priority: optional
Homepage: https://github.com/cri-o/cri-o
Description: Kubernetes container runtime daemon, a drop-in for CRI-O
 crio serves the Kubernetes Container Runtime Interface (CRI runtime.v1,
 gRPC) on /var/run/crio/crio.sock, reads CRI-O's crio.conf and command line,
 pulls and stores OCI images, and runs pods and containers with runc
 monitored by conmon, networked with CNI plugins.
EOF

install -m 0755 contrib/debian/postinst contrib/debian/prerm contrib/debian/postrm "$root/DEBIAN/"
install -D -m 0644 contrib/debian/lintian-overrides "$root/usr/share/lintian/overrides/crio"

debug_size=$(du -sk --exclude=DEBIAN "$debug" | cut -f1)
cat > "$debug/DEBIAN/control" <<EOF
Package: crio-dbgsym
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $debug_size
Depends: crio (= $version)
Section: debug
Priority: optional
Homepage: https://github.com/cri-o/cri-o
Description: debug symbols for crio
 The debug information of /usr/bin/crio, found by gdb and systemd-coredump
 through the binary's build ID.
Build-Ids: $build_id
EOF

for package in crio crio-dbgsym; do
  (cd "$stage/$package" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
  chmod 0644 "$stage/$package/DEBIAN/md5sums" "$stage/$package/DEBIAN/control"
  [ ! -e "$stage/$package/DEBIAN/conffiles" ] || chmod 0644 "$stage/$package/DEBIAN/conffiles"
done

mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/crio_${version}_${arch}.deb" > /dev/null
dpkg-deb --root-owner-group -Zxz --build "$debug" "$out/crio-dbgsym_${version}_${arch}.deb" > /dev/null
ls -l "$out/crio_${version}_${arch}.deb" "$out/crio-dbgsym_${version}_${arch}.deb"
