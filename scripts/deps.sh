#!/usr/bin/env bash
# Installs every host tool the build and the tests need, and nothing by hand.
# Idempotent: a warm machine only pays for a few dpkg queries.
set -euo pipefail

APT_PACKAGES=(
  # kernel build (LLVM=-19: bookworm's default clang 14 is too old for Rust-for-Linux)
  clang-19 lld-19 llvm-19 libclang-19-dev
  make flex bison bc libelf-dev libssl-dev cpio pahole xz-utils dpkg-dev
  # guest image and VM
  qemu-system-x86 busybox-static iproute2 util-linux kmod
  # tests and tools (graphviz: vdpctl pretty --dot is drawn by dot in the tests and make pictures)
  jq python3-yaml python3-jsonschema graphviz
  # the FPGA level: simulation and synthesis of generated designs (docs/fpga.md)
  verilator yosys
  # make deb and its test: Debian's packaging tools and DKMS; rsync for the kernel's bindeb-pkg (docs/packaging.md)
  debhelper dh-dkms dkms lintian fakeroot rsync
)
BINDGEN_VERSION=0.73.2

log() { printf '[deps] %s\n' "$*"; }
die() { printf '[deps] error: %s\n' "$*" >&2; exit 1; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq || die "apt-get update failed (is the network up?)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get install failed for: ${missing[*]}"
fi

command -v rustup >/dev/null || die "rustup not found: vdp needs a rustup-managed Rust toolchain"
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  log "adding the rust-src component"
  rustup component add rust-src || die "rustup component add rust-src failed"
fi

# vdpctl is also built statically against musl for containers without glibc (docs/containers.md).
MUSL_TARGET=x86_64-unknown-linux-musl
if ! rustup target list --installed 2>/dev/null | grep -qx "$MUSL_TARGET"; then
  log "adding the $MUSL_TARGET target"
  rustup target add "$MUSL_TARGET" || die "rustup target add $MUSL_TARGET failed"
fi

have_bindgen=$(bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_bindgen" != "$BINDGEN_VERSION" ]; then
  log "installing bindgen-cli $BINDGEN_VERSION"
  cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION" \
    || die "cargo install bindgen-cli $BINDGEN_VERSION failed"
fi
log "host tools ready"
