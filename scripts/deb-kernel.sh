#!/usr/bin/env bash
# `make deb-kernel`: a Debian package of vdp's kernel (linux-image-RELEASE), made by the kernel's
# own `make bindeb-pkg`, without touching the cached tree of scripts/kernel.sh.
#
#   scripts/deb-kernel.sh FLAVOUR      writes $VDP_OUT/deb-kernel/linux-image-RELEASE_*.deb
#
# bindeb-pkg relinks vmlinux (its changelog's revision becomes the build number) and writes
# debian/ and usr/include/ into the output tree, so it runs in a copy of the cached build tree,
# $VDP_OUT/deb-kernel/build, built in place with O= against the cached source. The copy is made
# again whenever the cached tree is another one (another cache key). In the copy the Rust crates
# are rebuilt (their recorded commands name the output directory) and vmlinux relinked: minutes
# on two cores, not the full build. Only linux-image is kept: the headers package is not built
# (it lacks the rust/ files an out-of-tree Rust module needs, docs/packaging.md), nor the debug
# package, and linux-libc-dev is deleted (it would replace the host's C library headers).
set -euo pipefail

FLAVOUR=${1:?usage: scripts/deb-kernel.sh debug|lean}
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${VDP_OUT:-$REPO/out}
CACHED=$(readlink -f "$OUT/kernel-$FLAVOUR")
DIR=$OUT/deb-kernel
COPY=$DIR/build

log() { printf '[deb-kernel] %s\n' "$*"; }
die() { printf '[deb-kernel] error: %s\n' "$*" >&2; exit 1; }

[ -f "$CACHED/.done" ] || die "no cached $FLAVOUR kernel at $OUT/kernel-$FLAVOUR (run make FLAVOUR=$FLAVOUR kernel)"
SRC=$CACHED/src
KREL=$(cat "$CACHED/build/include/config/kernel.release")
KEY=${CACHED##*/}

mkdir -p "$DIR"
if [ "$(cat "$DIR/from" 2>/dev/null)" != "$CACHED" ]; then
  log "copying the cached build tree $CACHED/build"
  rm -rf "$COPY" "$DIR/from"
  # Under the tree's lock, so that a build of the cache is never copied half-way.
  flock "$CACHED.lock" cp -a "$CACHED/build" "$COPY" || die "cannot copy $CACHED/build"
  echo "$CACHED" > "$DIR/from"
fi
# The copied tree's Makefile points make at the cache; this one points it at the copy.
printf '# Written by scripts/deb-kernel.sh\nexport KBUILD_OUTPUT = %s\ninclude %s/Makefile\n' "$COPY" "$SRC" > "$COPY/Makefile"

rm -f "$DIR"/*.deb "$DIR"/*.buildinfo "$DIR"/*.changes
MAINT=$(sed -n 's/^Maintainer: //p' "$REPO/packaging/debian/control")
# The package version names the cache key, i.e. the patches, config fragments and toolchain.
PKGVERSION=$KREL-1+vdp.${KEY#"$FLAVOUR"-}
log "make bindeb-pkg ($PKGVERSION), log in $DIR/bindeb-pkg.log"
t0=$SECONDS
(cd "$DIR" && DEBFULLNAME=${MAINT% <*} DEBEMAIL=${MAINT##*<} && DEBEMAIL=${DEBEMAIL%>} && export DEBFULLNAME DEBEMAIL \
   && make -C "$SRC" O="$COPY" LLVM=-19 -j"${JOBS:-$(nproc)}" bindeb-pkg KDEB_PKGVERSION="$PKGVERSION" \
        DEB_BUILD_PROFILES="pkg.linux-upstream.nokernelheaders pkg.linux-upstream.nokerneldbg" DPKG_FLAGS=-d) \
  > "$DIR/bindeb-pkg.log" 2>&1 \
  || { tail -n 30 "$DIR/bindeb-pkg.log" >&2; die "make bindeb-pkg failed; full log in $DIR/bindeb-pkg.log"; }
rm -f "$DIR"/linux-libc-dev_*.deb
IMAGE=$DIR/linux-image-${KREL}_${PKGVERSION}_amd64.deb
[ -f "$IMAGE" ] || die "bindeb-pkg wrote no $IMAGE"
log "built $IMAGE in $((SECONDS - t0)) s"
