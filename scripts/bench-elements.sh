#!/usr/bin/env bash
# `make bench-elements`: per-element cost (a bare source-to-sink graph, the same with a Counter,
# with a RadixIPLookup holding 167,000 routes, and the IPv4 router configuration), measured at user
# level (vdp-bench, TSC and thread CPU time) and in the kernel on the lean guest (one pinned
# tenant thread, cgroup CPU time), plus `vdpctl run` throughput over a 1,000,000-packet capture.
# Writes docs/bench/elements.md and docs/bench/elements.png. Not a test: it judges nothing, it
# records what one run measured; every figure it compares comes from this same run.
#
# Knobs (environment): BENCH_ROUTES (167000), BENCH_REPEAT (user-level timed runs per graph, 7),
# BENCH_PACKETS (packets per user-level run, 2000000), BENCH_ROUNDS (kernel rounds, 12),
# BENCH_WINDOW (kernel window, s, 3), BENCH_RUN_PACKETS (1000000), BENCH_RUN_REPEAT (5),
# BENCH_ONLY ("user run kernel" by default; the others' last results are reused).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${VDP_OUT:-$PWD/out}
DOCS=docs/bench
WORK=$OUT/bench-elements
LOGS=$OUT/qemu-tests/lean
BENCH=userspace/target/release/vdp-bench
VDPCTL=userspace/target/release/vdpctl
SYSTEM=qemu-tests/configs/bench-elements-system.toml
ROUTES=${BENCH_ROUTES:-167000}
REPEAT=${BENCH_REPEAT:-7}
PACKETS=${BENCH_PACKETS:-2000000}
ROUNDS=${BENCH_ROUNDS:-12}
WINDOW=${BENCH_WINDOW:-3}
RUN_PACKETS=${BENCH_RUN_PACKETS:-1000000}
RUN_REPEAT=${BENCH_RUN_REPEAT:-5}
PARTS=${BENCH_ONLY:-user run kernel}
# QEMU guests on this machine take turns: every boot holds this lock. The user-level parts hold
# it too (a minute or two): a TCG guest keeps both host cores busy, which would time-share the
# very CPU being measured.
QEMU_LOCK=${VDP_QEMU_LOCK:-/tmp/vdp-qemu.lock}
hold_lock() { exec 9>>"$QEMU_LOCK"; echo "[bench] waiting for $QEMU_LOCK"; flock 9; }
release_lock() { exec 9>&-; }
started=$SECONDS

# Plots need gnuplot; only the benchmark targets install it.
if ! command -v gnuplot >/dev/null; then
  echo "[bench] installing gnuplot-nox"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends gnuplot-nox \
    || { echo "[bench] cannot install gnuplot-nox" >&2; exit 1; }
fi
[ -x "$BENCH" ] && [ -x "$VDPCTL" ] || { echo "[bench] build first: make userspace (want $BENCH and $VDPCTL)" >&2; exit 1; }
mkdir -p "$WORK" "$DOCS"
wants() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# --- 1. user level ----------------------------------------------------------------------------
if wants user; then
  echo "[bench] user level: $ROUTES routes, $REPEAT timed runs of each graph"
  hold_lock
  t=$SECONDS
  "$BENCH" elements --routes "$ROUTES" --repeat "$REPEAT" --packets "$PACKETS" --system "$SYSTEM" \
    --router qemu-tests/configs/ip-router.click --device-router qemu-tests/configs/gre-router.click \
    > "$WORK/user.log.tmp"
  release_lock
  mv "$WORK/user.log.tmp" "$WORK/user.log"
  echo "[bench] user level took $((SECONDS - t)) s"
fi

# --- 2. vdpctl run over a 1,000,000-packet capture ----------------------------------------------
if wants run; then
  echo "[bench] vdpctl run: gre-router.click over $RUN_PACKETS packets, $RUN_REPEAT times"
  "$BENCH" pcap --packets "$RUN_PACKETS" -o "$WORK/router-in.pcap" >/dev/null
  hold_lock
  t=$SECONDS
  : > "$WORK/run.dat.tmp"
  TIMEFORMAT='%3R %3U %3S'
  for i in $(seq 1 "$RUN_REPEAT"); do
    # wall, user and system seconds of the whole command, reading and writing the captures included
    { time "$VDPCTL" run qemu-tests/configs/gre-router.click --input "eth1=$WORK/router-in.pcap" \
        --output "eth1=$WORK/router-out1.pcap" --output "eth2=$WORK/router-out2.pcap" 2> "$WORK/run.err"; } 2> "$WORK/run.time"
    written=$(sed -n 's/.*frames written: .*, \([0-9]*\) on eth2 .*/\1/p' "$WORK/run.err")
    [ "$written" = "$RUN_PACKETS" ] || { cat "$WORK/run.err" >&2; echo "[bench] vdpctl run wrote '$written' frames on eth2, want $RUN_PACKETS" >&2; exit 1; }
    echo "$i $(cat "$WORK/run.time") $RUN_PACKETS $(stat -c %s "$WORK/router-in.pcap")" >> "$WORK/run.dat.tmp"
  done
  release_lock
  cp "$WORK/run.err" "$WORK/run-summary.txt"
  rm -f "$WORK/router-out1.pcap" "$WORK/router-out2.pcap"
  mv "$WORK/run.dat.tmp" "$WORK/run.dat"
  echo "[bench] vdpctl run took $((SECONDS - t)) s"
fi

# --- 3. the kernel, on the lean guest -----------------------------------------------------------
if wants kernel; then
  echo "[bench] kernel: one boot of the lean guest, under $QEMU_LOCK"
  t=$SECONDS
  VDP_GUEST_ARGS="vdp.bench_routes=$ROUTES vdp.bench_rounds=$ROUNDS vdp.bench_window=$WINDOW" \
    flock "$QEMU_LOCK" qemu-tests/run --flavour lean bench-elements | tee "$WORK/kernel-run.txt" \
    || { echo "[bench] the kernel run failed; log $LOGS/bench-elements.log" >&2; exit 1; }
  tr -d '\r' < "$LOGS/bench-elements.log" > "$WORK/kernel.log"
  echo "[bench] kernel run took $((SECONDS - t)) s (including the wait for the lock)"
fi

# --- 4. tables and plot -------------------------------------------------------------------------
python3 scripts/bench-elements-report.py "$WORK" "$DOCS" "$((SECONDS - started))" "$PARTS"
gnuplot "$WORK/elements.gp"
echo "[bench] wrote $DOCS/elements.md and $DOCS/elements.png in $((SECONDS - started)) s"
