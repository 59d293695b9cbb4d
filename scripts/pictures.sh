#!/usr/bin/env bash
# Draws the pictures in the docs: vdpctl pretty --dot, then Graphviz's dot -Tpng. `make pictures`
# runs it after building vdpctl; run it again whenever what they show changes.
set -euo pipefail
cd "$(dirname "$0")/.."
VDPCTL=${VDPCTL:-userspace/target/release/vdpctl}

die() { printf '[pictures] error: %s\n' "$*" >&2; exit 1; }
command -v dot >/dev/null || die "Graphviz's dot is missing (scripts/deps.sh installs it)"
[ -x "$VDPCTL" ] || die "no vdpctl at $VDPCTL (make userspace builds it)"

# draw OUT.png ARGS...: the picture of `vdpctl pretty ARGS... --dot`.
draw() {
  local out=$1
  shift
  "$VDPCTL" pretty "$@" --dot | dot -Tpng -o "$out.tmp"
  mv "$out.tmp" "$out"
  printf '[pictures] wrote %s (%s bytes)\n' "$out" "$(stat -c %s "$out")"
}

draw docs/examples/router.png docs/examples/router.click
draw docs/examples/router-two-tenants.png --system docs/examples/system.toml \
  red=docs/examples/router.click blue=docs/examples/router.click --threads 2
