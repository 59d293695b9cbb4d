#!/usr/bin/env bash
# The forwarding benchmark: boots the lean kernel once for each guest CPU count in
# VDP_BENCH_CPUS ("2 1": two vCPUs, then one) and runs qemu-tests/scenarios/bench-gre.sh, in which
# vdp (blue's router) and Linux (gretap + ip_forward) take turns within one boot, each with an
# offered-rate sweep to the peak rate at 0.1% loss and an unlimited blast; then writes
# docs/bench/gre-forwarding.md and docs/bench/gre-forwarding.png. Not a test: `make bench-gre`
# runs it, under the QEMU lock (docs: flock /tmp/vdp-qemu.lock make bench-gre). VDP_BENCH_ROUNDS
# rounds (3); VDP_BENCH_BLAST frames a blast (100000).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${VDP_OUT:-$REPO/out}
# VDP_BENCH_FLAVOUR=debug runs it on the debug kernel (a check of the script; figures are lean).
FLAVOUR=${VDP_BENCH_FLAVOUR:-lean}
LOG=$OUT/qemu-tests/$FLAVOUR/bench-gre.log
DOCS=$REPO/docs/bench
WORK=$OUT/bench-gre
. "$REPO"/scripts/bench-lib.sh
need_gnuplot
mkdir -p "$WORK" "$DOCS"
args=""
[ -z "${VDP_BENCH_ROUNDS:-}" ] || args="$args vdp.bench_rounds=$VDP_BENCH_ROUNDS"
[ -z "${VDP_BENCH_BLAST:-}" ] || args="$args vdp.bench_blast=$VDP_BENCH_BLAST"
boots=()
for cpus in ${VDP_BENCH_CPUS:-2 1}; do
  name="$cpus-vcpu"
  mkdir -p "$WORK/$name"
  { echo "started $(date -u '+%Y-%m-%d %H:%M') UTC"; echo "load $(cut -d' ' -f1-3 /proc/loadavg)"; echo "cores $(nproc)"; } > "$WORK/$name/host.txt"
  VDP_GUEST_CPUS=$cpus VDP_GUEST_ARGS="$args" "$REPO"/qemu-tests/run --flavour "$FLAVOUR" bench-gre
  grep -a '^VDP-BENCH ' "$LOG" | tr -d '\r' > "$WORK/$name/results.txt" || { echo "no results in $LOG" >&2; exit 1; }
  grep -a '^VDP-PLATFORM ' "$LOG" | tr -d '\r' | head -1 > "$WORK/$name/platform.txt"
  cp "$LOG" "$WORK/$name/bench-gre.log"
  boots+=("$name")
done
VDP_BENCH_FLAVOUR=$FLAVOUR python3 "$REPO"/scripts/bench-gre-report.py "$WORK" "$DOCS" "${boots[@]}"
gnuplot "$WORK/gre-forwarding.gp"
echo "[bench] wrote $DOCS/gre-forwarding.md and $DOCS/gre-forwarding.png"
