#!/usr/bin/env bash
# Builds the guest's root filesystem as an initramfs: busybox for the basics, the host's own
# iproute2 (ip with gre/gretap, tc) and util-linux (unshare, nsenter) with their libraries,
# vdp.ko, vdpctl, vdp-fuzz, vdp-bench and the container engines (built beside vdpctl), and the
# scenario scripts.
#
#   [VDPCTL_STATIC=PATH] qemu-tests/mkinitramfs.sh FLAVOUR VDP_KO VDPCTL OUTPUT
#
# VDPCTL_STATIC, vdpctl linked statically against musl, goes to /vdp/static/vdpctl.
set -euo pipefail
FLAVOUR=$1 KO=$2 VDPCTL=$3 OUTPUT=$4
HERE=$(cd "$(dirname "$0")" && pwd)
die() { echo "[initramfs] error: $*" >&2; exit 1; }

[ -f "$KO" ] || die "vdp.ko not found at $KO"
[ -x "$VDPCTL" ] || die "vdpctl not found at $VDPCTL"
VDPFUZZ=$(dirname "$VDPCTL")/vdp-fuzz
[ -x "$VDPFUZZ" ] || die "vdp-fuzz not found at $VDPFUZZ"
VDPBENCH=$(dirname "$VDPCTL")/vdp-bench
[ -x "$VDPBENCH" ] || die "vdp-bench not found at $VDPBENCH"
# The container engines: the stock one, the scenarios' test engine, the worked example's.
ENGINES="$(dirname "$VDPCTL")/vdp-engine $(dirname "$VDPCTL")/examples/vdp-test-engine $(dirname "$VDPCTL")/flow-sampler-engine"
for engine in $ENGINES; do [ -x "$engine" ] || die "container engine not found at $engine"; done
# is_static FILE: an ELF executable that names no program interpreter, so it needs no dynamic
# loader or shared library to start.
is_static() { readelf -lW "$1" > /dev/null 2>&1 && ! readelf -lW "$1" | grep -q 'INTERP'; }
BUSYBOX=$(command -v busybox) || die "busybox not found (Debian package busybox-static)"
is_static "$(readlink -f "$BUSYBOX")" || die "$BUSYBOX is not statically linked (Debian package busybox-static)"
# The static vdpctl for the distroless step of the containers scenario (optional: the packages'
# test guest of scripts/deb-test.sh has none).
if [ -n "${VDPCTL_STATIC:-}" ]; then
  [ -x "$VDPCTL_STATIC" ] || die "static vdpctl not found at $VDPCTL_STATIC"
  is_static "$VDPCTL_STATIC" || die "$VDPCTL_STATIC asks for a dynamic loader"
fi

ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
chmod 755 "$ROOT"  # mktemp makes it 0700; unprivileged scenario steps need to traverse /
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,tmp,run,root,var/run,scenarios,vdp}

cp "$BUSYBOX" "$ROOT/bin/busybox"

# Host binaries the scenarios need in their full versions, with every library they load.
copy_with_libs() {
  local bin=$1 dest=$2
  cp -L "$bin" "$ROOT$dest"
  ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do
    [ -e "$ROOT$lib" ] || { mkdir -p "$ROOT$(dirname "$lib")"; cp -L "$lib" "$ROOT$lib"; }
  done
}
for tool in ip tc bridge; do
  copy_with_libs "$(command -v $tool || echo /sbin/$tool)" /usr/sbin/$tool
done
for tool in unshare nsenter setpriv; do
  copy_with_libs "$(command -v $tool)" /usr/bin/$tool
done
copy_with_libs "$VDPCTL" /usr/bin/vdpctl
[ -z "${VDPCTL_STATIC:-}" ] || { mkdir -p "$ROOT/vdp/static"; cp "$VDPCTL_STATIC" "$ROOT/vdp/static/vdpctl"; }
copy_with_libs "$VDPFUZZ" /usr/bin/vdp-fuzz
copy_with_libs "$VDPBENCH" /usr/bin/vdp-bench
for engine in $ENGINES; do copy_with_libs "$engine" "/usr/bin/$(basename "$engine")"; done
[ -d /etc/iproute2 ] && cp -r /etc/iproute2 "$ROOT/etc/"
[ -d /usr/share/iproute2 ] && mkdir -p "$ROOT/usr/share" && cp -r /usr/share/iproute2 "$ROOT/usr/share/"

cp "$KO" "$ROOT/vdp/vdp.ko"
cp "$HERE"/guest/init "$ROOT/init"
cp "$HERE"/guest/lib.sh "$HERE"/guest/packets.py "$HERE"/guest/probe.py "$HERE"/guest/differential.py "$HERE"/guest/coord-flood.py "$HERE"/guest/pty-run.py "$HERE"/guest/gre-topology.sh "$HERE"/guest/bench-cpu-lib.sh "$HERE"/guest/bench-sweep.sh "$ROOT/vdp/"
cp "$HERE"/scenarios/*.sh "$ROOT/scenarios/"
mkdir -p "$ROOT/vdp/configs" && cp "$HERE"/configs/* "$ROOT/vdp/configs/"
echo "$FLAVOUR" > "$ROOT/vdp/flavour"
chmod +x "$ROOT/init"
echo "root:x:0:0:root:/root:/bin/sh" > "$ROOT/etc/passwd"
# An unprivileged user for the rootless container (scenarios/containers.sh).
echo "tenant:x:1000:1000:tenant:/tmp:/bin/sh" >> "$ROOT/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> "$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$ROOT/etc/group"

mkdir -p "$(dirname "$OUTPUT")"
(cd "$ROOT" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$OUTPUT.tmp"
mv "$OUTPUT.tmp" "$OUTPUT"
echo "[initramfs] $OUTPUT ($(du -h "$OUTPUT" | cut -f1))"
