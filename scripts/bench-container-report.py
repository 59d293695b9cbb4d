#!/usr/bin/env python3
"""Turns the VDP-BENCH lines of `make bench-container` (scripts/bench-container.sh) into
docs/bench/container-level.md and the gnuplot script of docs/bench/container-level.png.

    bench-container-report.py WORK DOCS

WORK holds results.txt (one VDP-BENCH line per measurement) and platform.txt; the gnuplot script
is written to WORK/container-level.gp. A tick is 10 ms of one CPU (USER_HZ 100).
"""

import datetime
import os
import statistics
import sys

import bench_sweep
from bench_sweep import per_frame, spread

MODES = ["kernel", "kernel-paint", "crossing", "container", "plain"]
LABELS = {
    "kernel": "router in the kernel",
    "kernel-paint": "router + Counter, Paint, Counter in the kernel",
    "crossing": "router + Counter, custom painter, Counter: one crossing each way",
    "container": "router at the container level (engine in blue's container)",
    "plain": "router at the container level (engine as a plain process)",
}


def peak(trials):
    """The sweep's peak (bench_sweep.peak) with its wake-ups and CPU per frame received."""
    best = bench_sweep.peak(trials)
    if best is None:
        return None
    received = max(best["received"], 1)
    best.update({key: per_frame(best, tick) for key, tick in [("cpu", "busy"), ("softirq", "softirq"), ("thread", "thread"), ("engine", "engine")]})
    best["wakeups"] = best.get("wakeups", 0) / received
    return best


def main():
    work, docs = sys.argv[1], sys.argv[2]
    trials = bench_sweep.parse(os.path.join(work, "results.txt"), MODES)
    platform = open(os.path.join(work, "platform.txt")).read().strip()
    # The modes measured (vdp.bench_modes may leave some out); kernel and container always.
    modes = [m for m in MODES if any(mode == m for (_, mode) in trials)]
    if "kernel" not in modes or "container" not in modes:
        sys.exit("the results need the kernel and container modes")
    rounds = sorted({r for (r, m) in trials if all((r, mode) in trials for mode in modes)})
    if not rounds:
        sys.exit("no complete round in the results")
    d = {m: [p for p in (peak(trials[(r, m)]) for r in rounds) if p] for m in modes}
    if any(not d[m] for m in modes):
        sys.exit("a mode lost more than 0.1% at the lowest rate in every round: " + ", ".join(m for m in modes if not d[m]))
    out = []
    w = out.append
    w("# The container level against the kernel level")
    w("")
    w(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC} by `make bench-container` "
      f"(scripts/bench-container.sh) in one boot of the lean kernel under QEMU TCG ({platform}); "
      f"{len(rounds)} rounds, the modes in turn within each round.")
    w("")
    w("The frames enter tenant blue over its gretap tunnel on the shared `phys0`, are routed by blue's IPv4 router "
      "(`gre-router.click`) and leave over GRE to blue-b. For each mode pktgen offers 2 s of frames at 2000 "
      "frames/s, then half as many again each trial, until more than 0.1% is lost (Keller's peak rate at 0.1% "
      "loss), then three trials at the geometric middle of the highest rate within 0.1% and the lowest beyond it; "
      "the **peak** is the highest offered rate within 0.1%, measured as frames received at blue-b per "
      "second of pktgen's sending time, and the next offered rate is the lowest above it that lost more. "
      "Wake-ups are the times blue's tenant thread woke from sleep, per frame. CPU is the busy "
      "time of all vCPUs from the start of that trial's send to 1 s after its end, per frame received, sender "
      "included, split into softirq, blue's tenant kthread and blue's container engine (ticks of 10 ms).")
    w("")
    w("| mode | peak at ≤ 0.1% loss (frames/s) | next offered rate (lost more) | µs CPU/frame | softirq | tenant thread | engine | thread wake-ups/frame |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for m in modes:
        col = lambda k: spread([x[k] for x in d[m]])
        refused = ", ".join(str(x["refused"]) if x["refused"] else "none up to 200000" for x in d[m])
        w(f"| {m}: {LABELS[m]} | {spread([x['pps'] for x in d[m]]).replace('.0', '')} | {refused} | {col('cpu')} | {col('softirq')} | {col('thread')} | {col('engine')} | {spread([x['wakeups'] for x in d[m]], 2)} |")
    w("")
    w("Median (min–max) over the rounds.")
    w("")

    def ratios(a, b, key):
        return [x[key] / y[key] for x, y in zip(d[a], d[b]) if y[key] > 0]

    rate_ratio = ratios("container", "kernel", "pps")
    w("## Ratios, round by round")
    w("")
    w("| | per round | median |")
    w("| --- | --- | --- |")
    for label, a, b, key in [
        ("container level / kernel level, rate", "container", "kernel", "pps"),
        ("container level / kernel level, CPU per frame", "container", "kernel", "cpu"),
        ("plain process / in the container, rate", "plain", "container", "pps"),
        ("plain process / in the container, CPU per frame", "plain", "container", "cpu"),
        ("one crossing / the same in the kernel, rate", "crossing", "kernel-paint", "pps"),
    ]:
        if a not in d or b not in d:
            continue
        values = ratios(a, b, key)
        per = ", ".join(f"{v:.2f}" for v in values) or "n/a"
        med = f"{statistics.median(values):.2f}" if values else "n/a"
        w(f"| {label} | {per} | {med} |")
    w("")
    crossing = [x["cpu"] - y["cpu"] for x, y in zip(d.get("crossing", []), d.get("kernel-paint", []))]
    if crossing:
        w(f"**The cost of one crossing** (kernel → container → kernel), as the CPU per frame of `crossing` less that of "
      f"`kernel-paint` in the same round: {', '.join(f'{c:.1f}' for c in crossing)} µs "
          f"(median {statistics.median(crossing):.1f} µs). The custom painter does at user level what Paint does in the kernel; "
          "the difference is the two copies through the rings, the engine's wake-ups and its loop.")
        w("")
    if rate_ratio:
        aim = statistics.median(rate_ratio)
        verdict = "meets" if aim >= 0.5 else "misses"
        w(f"**Aim: the container level at ≥ 0.5× the kernel level's rate.** The median ratio is {aim:.2f}, which {verdict} the aim "
          f"(rounds {', '.join(f'{v:.2f}' for v in rate_ratio)}).")
        w("")
    w("![rate and CPU per frame by mode](container-level.png)")
    w("")
    with open(os.path.join(docs, "container-level.md"), "w") as f:
        f.write("\n".join(out))
    with open(os.path.join(work, "container-level.dat"), "w") as f:
        for i, m in enumerate(modes):
            pps = statistics.median(x["pps"] for x in d[m])
            cpu = statistics.median(x["cpu"] for x in d[m])
            f.write(f'{i} "{m}" {pps:.0f} {cpu:.2f}\n')
    with open(os.path.join(work, "container-level.gp"), "w") as f:
        f.write(bench_sweep.bar_chart(f"{docs}/container-level.png", f"vdp: the container level against the kernel level (median of {len(rounds)} rounds)", f"{work}/container-level.dat", [(3, "peak frames per second at <= 0.1% loss"), (4, "µs of CPU per frame (all vCPUs)")]))


if __name__ == "__main__":
    main()
