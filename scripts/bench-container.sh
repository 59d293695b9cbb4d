#!/usr/bin/env bash
# The container level's benchmark: boots the lean kernel, runs qemu-tests/scenarios/bench-container.sh
# (five modes of tenant blue's router in turn, each round in one boot), then writes
# docs/bench/container-level.md and docs/bench/container-level.png. Not a test: `make
# bench-container` runs it. VDP_BENCH_ROUNDS rounds (3); VDP_BENCH_MODES=kernel,container (a
# comma-separated list) measures only some of the modes.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${VDP_OUT:-$REPO/out}
LOG=$OUT/qemu-tests/lean/bench-container.log
DOCS=$REPO/docs/bench
WORK=$OUT/bench-container
. "$REPO"/scripts/bench-lib.sh
need_gnuplot
mkdir -p "$WORK" "$DOCS"
args=""
[ -z "${VDP_BENCH_ROUNDS:-}" ] || args="$args vdp.bench_rounds=$VDP_BENCH_ROUNDS"
[ -z "${VDP_BENCH_MODES:-}" ] || args="$args vdp.bench_modes=$VDP_BENCH_MODES"
VDP_GUEST_ARGS="$args" flock /tmp/vdp-qemu.lock "$REPO"/qemu-tests/run --flavour lean bench-container
grep -a '^VDP-BENCH ' "$LOG" | tr -d '\r' > "$WORK/results.txt" || { echo "no results in $LOG" >&2; exit 1; }
grep -a '^VDP-PLATFORM ' "$LOG" | tr -d '\r' | head -1 > "$WORK/platform.txt"
python3 "$REPO"/scripts/bench-container-report.py "$WORK" "$DOCS"
gnuplot "$WORK/container-level.gp"
echo "[bench] wrote $DOCS/container-level.md and $DOCS/container-level.png"
