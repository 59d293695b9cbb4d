#!/usr/bin/env bash
# Builds the kernel that vdp.ko targets, into a cache outside the repository.
#
#   scripts/kernel.sh FLAVOUR        FLAVOUR is "debug" (tests) or "lean" (demo, benchmarks)
#
# The result lives in $VDP_CACHE/kernel/<key>/ where <key> hashes the kernel package version,
# the patches, the config fragments and the toolchain, so a warm machine rebuilds nothing and any
# change to an input gives a fresh tree. A lock per key keeps concurrent runs from trampling it.
# On success the script points out/kernel-FLAVOUR at the tree and prints its path.
set -euo pipefail

FLAVOUR=${1:?usage: scripts/kernel.sh debug|lean}
case "$FLAVOUR" in debug|lean) ;; *) echo "unknown kernel flavour '$FLAVOUR' (want debug or lean)" >&2; exit 2;; esac

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VDP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdp}
PKG=linux-source-7.3
SUITE=trixie-backports
LLVM_SUFFIX=-19
JOBS=${JOBS:-$(nproc)}
# Bump when the build steps change. A tree built by an older recipe is brought up to date in
# place by re-running the (incremental) steps, instead of being rebuilt from scratch.
RECIPE=2

log() { printf '[kernel] %s\n' "$*"; }
die() { printf '[kernel] error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE" || die "cannot create cache directory $CACHE"

need_free_mb() {
  local avail
  avail=$(df -Pm "$CACHE" | awk 'NR==2 {print $4}')
  [ "$avail" -ge "$1" ] || die "only ${avail} MB free under $CACHE; the kernel build needs about $1 MB"
}

# --- 1. the source package, fetched through a private apt configuration --------------------
# The system's apt sources are never touched: we reuse the archive URI the system already trusts
# and point a private sources list, lists and cache at our own folders.
APT_DIR=$CACHE/apt
private_apt() {
  local tool=$1; shift
  "$tool" -q -o APT::Sandbox::User=root -o Dir::Etc::SourceList="$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$APT_DIR/lists" -o Dir::Cache="$APT_DIR/cache" \
    -o Dir::State::status="$APT_DIR/status" -o Debug::NoLocking=1 "$@"
}
archive_uri() {
  local uri
  uri=$(grep -hE '^\s*(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n1 | tr -d ' ')
  [ -n "$uri" ] || die "cannot find a Debian archive URI in the system's apt sources"
  echo "$uri"
}
fetch_source() {
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$CACHE/src"
  touch "$APT_DIR/status"
  echo "deb $(archive_uri) $SUITE main" > "$APT_DIR/sources.list"
  # Refresh the package list at most once a day; the version decides the cache key.
  if [ -z "$(find "$APT_DIR/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
    log "refreshing the private package list for $SUITE"
    private_apt apt-get update >/dev/null || die "apt-get update for $SUITE failed (no network?)"
  fi
  VERSION=$(private_apt apt-cache show "$PKG" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
  [ -n "$VERSION" ] || die "package $PKG not found in $SUITE"
  TARBALL=$CACHE/src/$PKG-$VERSION.tar.xz
  if [ ! -s "$TARBALL" ]; then
    need_free_mb 2500
    log "downloading $PKG $VERSION"
    local tmp; tmp=$(mktemp -d "$CACHE/src/dl.XXXXXX")
    (cd "$tmp" && private_apt apt-get download "$PKG=$VERSION" >/dev/null) || { rm -rf "$tmp"; die "download of $PKG $VERSION failed (no network?)"; }
    dpkg-deb -x "$tmp"/*.deb "$tmp/x" || { rm -rf "$tmp"; die "cannot unpack the $PKG package"; }
    mv "$tmp"/x/usr/src/"$PKG".tar.* "$TARBALL.part" && mv "$TARBALL.part" "$TARBALL"
    rm -rf "$tmp"
  fi
}

# --- 2. the cache key ------------------------------------------------------------------------
FRAGMENTS=("$REPO/vserver-patch/vdp.config" "$REPO/vserver-patch/$FLAVOUR.config")
PATCHES=()
while IFS= read -r p; do PATCHES+=("$p"); done < <(find "$REPO/vserver-patch" -maxdepth 1 -name '*.patch' | LC_ALL=C sort)

compute_key() {
  {
    echo "pkg $PKG $VERSION"
    echo "flavour $FLAVOUR"
    for p in "${PATCHES[@]}"; do echo "patch $(basename "$p") $(sha256sum < "$p")"; done
    for f in "${FRAGMENTS[@]}"; do echo "fragment $(basename "$f") $(sha256sum < "$f")"; done
    # The Rust metadata is only usable by the rustc that made it.
    echo "rustc $(rustc --version)"
    echo "clang $(clang$LLVM_SUFFIX --version | head -n1)"
    echo "bindgen $(bindgen --version)"
  } | sha256sum | cut -c1-16
}

# --- 3. build ---------------------------------------------------------------------------------
build_tree() {
  local dir=$1 src=$1/src out=$1/build
  if [ ! -f "$dir/.patched" ]; then
    rm -rf "$src" "$out"
    need_free_mb 4000
    log "unpacking $PKG $VERSION"
    mkdir -p "$src"
    tar -xf "$TARBALL" -C "$src" --strip-components=1 || die "cannot unpack $TARBALL"
    for p in "${PATCHES[@]}"; do
      log "applying $(basename "$p")"
      patch -d "$src" -p1 --forward --batch --quiet < "$p" \
        || die "patch $(basename "$p") does not apply to $PKG $VERSION"
    done
    touch "$dir/.patched"
  fi
  mkdir -p "$out"
  local kmake=(make -C "$src" O="$out" LLVM=$LLVM_SUFFIX -j"$JOBS")
  log "configuring: tinyconfig + ${FRAGMENTS[*]##*/}"
  "${kmake[@]}" -s tinyconfig >/dev/null || die "make tinyconfig failed"
  KCONFIG_CONFIG="$out/.config" "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
    "$out/.config" "${FRAGMENTS[@]}" >/dev/null || die "merging config fragments failed"
  "${kmake[@]}" -s olddefconfig >/dev/null || die "make olddefconfig failed"
  # Every option a fragment asks for must survive olddefconfig; a silently dropped option
  # (an unmet dependency) would otherwise surface much later as a confusing test failure.
  local dropped=""
  for f in "${FRAGMENTS[@]}"; do
    while IFS= read -r line; do
      case "$line" in
        CONFIG_*=*) grep -qxF "$line" "$out/.config" || dropped+=" $line" ;;
        "# CONFIG_"*" is not set") grep -q "^${line:2:-11}=" "$out/.config" && dropped+=" ${line:2:-11}=n" ;;
      esac
    done < "$f"
  done
  [ -z "$dropped" ] || die "config options did not take effect (unmet dependencies?):$dropped"
  "${kmake[@]}" -s rustavailable >/dev/null || die "the Rust toolchain is not usable for this kernel (make rustavailable)"
  log "building bzImage, modules and modules_prepare with $JOBS jobs (a cold build takes several minutes)"
  local t0=$SECONDS
  # `modules` also runs modpost over vmlinux, which writes the Module.symvers that out-of-tree
  # modules link against.
  "${kmake[@]}" bzImage modules modules_prepare > "$dir/build.log" 2>&1 \
    || { tail -n 40 "$dir/build.log" >&2; die "kernel build failed; full log in $dir/build.log"; }
  log "built in $((SECONDS - t0)) s"
}

command -v rustc >/dev/null || die "rustc not found (run scripts/deps.sh)"
command -v bindgen >/dev/null || die "bindgen not found (run scripts/deps.sh)"
fetch_source
KEY=$(compute_key)
DIR=$CACHE/kernel/$FLAVOUR-$KEY
mkdir -p "$CACHE/kernel"
exec 9> "$DIR.lock"
flock 9 || die "cannot lock $DIR.lock"
if [ -f "$DIR/.done" ] && [ "$(cat "$DIR/.done")" = "recipe $RECIPE" ]; then
  log "cached: $PKG $VERSION ($FLAVOUR) at $DIR"
else
  mkdir -p "$DIR"
  build_tree "$DIR"
  echo "recipe $RECIPE" > "$DIR/.done"
fi

# Keep the two most recently used trees per flavour (about 2.5 GB each); older keys are stale.
touch "$DIR"
for old in $(ls -1dt "$CACHE/kernel/$FLAVOUR"-*/ 2>/dev/null | tail -n +3); do
  old=${old%/}
  if flock -n "$old.lock" true; then log "removing stale tree $old"; rm -rf "$old" "$old.lock"; fi
done

OUT=${VDP_OUT:-$REPO/out}
mkdir -p "$OUT"
ln -sfn "$DIR" "$OUT/kernel-$FLAVOUR"
log "using $PKG $VERSION ($FLAVOUR): $DIR/build/arch/x86/boot/bzImage"
