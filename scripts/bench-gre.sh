#!/usr/bin/env bash
# The forwarding benchmark: boots the lean kernel and runs qemu-tests/scenarios/bench-gre.sh, in
# which rounds of pktgen alternate between vdp (A) and Linux's own gretap + ip_forward (B) within
# one boot, then writes docs/bench/gre-forwarding.md. Not a test: `make bench-gre` runs it.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${VDP_OUT:-$REPO/out}
LOG=$OUT/qemu-tests/lean/bench-gre.log
REPORT=$REPO/docs/bench/gre-forwarding.md

"$REPO"/qemu-tests/run --flavour lean bench-gre
mkdir -p "$(dirname "$REPORT")"
grep -a '^VDP-BENCH ' "$LOG" > "$OUT/bench-gre.txt" || { echo "no results in $LOG" >&2; exit 1; }

awk -v when="$(date -u '+%Y-%m-%d %H:%M UTC')" -v cpus="$(grep -ac '^processor' /proc/cpuinfo)" '
function field(name,   i, kv) { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] } return 0 }
{
  mode = field("mode"); n[mode]++; k = n[mode]
  pps[mode, k] = field("usec") > 0 ? field("received") * 1e6 / field("usec") : 0
  loss[mode, k] = field("sent") > 0 ? 100 * (field("sent") - field("received")) / field("sent") : 0
  cpu[mode, k] = field("ticks") > 0 ? 100 * field("busy") / field("ticks") : 0
  # CPU time (ticks of 10 ms) per forwarded frame, in microseconds: total, softirq, tenant thread.
  got = field("received") > 0 ? field("received") : 1
  cost[mode, k] = field("busy") * 10000 / got
  soft[mode, k] = field("softirq") * 10000 / got
  thread[mode, k] = field("thread") * 10000 / got
}
END {
  printf "# Forwarding: vdp against Linux\n\n"
  printf "Measured %s by `make bench-gre` (scripts/bench-gre.sh) in one boot of the lean kernel under QEMU TCG, 2 vCPUs; the host had %s CPUs.\n\n", when, cpus
  printf "Each round sends 64-byte frames with pktgen from the blue-a namespace into its gretap tunnel. They go over the shared veth `phys0`, are routed between tenant blue'"'"'s two devices, and go back out over GRE to blue-b. **A** is vdp: the rx_handler, then blue'"'"'s IPv4 router graph on its tenant thread, then vdp'"'"'s encapsulation. **B** is Linux doing the same job with its own `gretap` devices and `ip_forward`. Rate is frames received at blue-b per second of pktgen'"'"'s sending time. CPU is the busy share of all vCPUs during the send, sender included.\n\n"
  printf "| round | A: vdp (pps) | B: Linux (pps) | A/B | A loss | B loss | A CPU | B CPU | A µs CPU/frame (softirq, tenant thread) | B µs CPU/frame (softirq) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
  rounds = n["vdp"] < n["linux"] ? n["vdp"] : n["linux"]
  for (k = 1; k <= rounds; k++) {
    ratio = pps["linux", k] > 0 ? pps["vdp", k] / pps["linux", k] : 0
    printf "| %d | %.0f | %.0f | %.2f | %.1f%% | %.1f%% | %.0f%% | %.0f%% | %.1f (%.1f, %.1f) | %.1f (%.1f) |\n", k, pps["vdp", k], pps["linux", k], ratio, loss["vdp", k], loss["linux", k], cpu["vdp", k], cpu["linux", k], cost["vdp", k], soft["vdp", k], thread["vdp", k], cost["linux", k], soft["linux", k]
    sa += pps["vdp", k]; sb += pps["linux", k]
  }
  if (rounds > 0 && sb > 0) printf "\n**A/B over all rounds: %.2f** (%.0f against %.0f frames per second).\n", sa / sb, sa / rounds, sb / rounds
}' "$OUT/bench-gre.txt" > "$REPORT"
cat "$REPORT"
