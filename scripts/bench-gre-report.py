#!/usr/bin/env python3
"""Turns the VDP-BENCH lines of `make bench-gre` (scripts/bench-gre.sh) into
docs/bench/gre-forwarding.md and the gnuplot script of docs/bench/gre-forwarding.png.

    bench-gre-report.py WORK DOCS BOOT...

Each BOOT names a directory WORK/BOOT holding results.txt (the VDP-BENCH lines of one boot),
platform.txt (its VDP-PLATFORM line) and, when bench-gre.sh wrote it, host.txt (when the boot
started, in UTC, and the host's load average then); the gnuplot script and its data go to WORK.
Everything the report says about the run, its caveats included, comes from these files, so it
can be written again from them.
"""

import datetime
import os
import statistics
import sys

import bench_sweep
from bench_sweep import per_frame, pps, spread

MODES = ["vdp", "linux", "vdp-bare"]
# The boots `VDP_BENCH_CPUS` asks for by default (scripts/bench-gre.sh).
DEFAULT_BOOTS = ["2-vcpu", "1-vcpu"]
LABELS = {
    "vdp": "vdp (blue's router on its tenant thread)",
    "linux": "Linux (gretap + ip_forward)",
    "vdp-bare": "vdp, bare graph (FromDevice -> Strip -> EtherEncap -> Queue -> ToDevice)",
}


def figures(run):
    """What the tables give of one trial: rate, loss, CPU per frame by where it went, frames per
    CPU-second, and the counters per frame."""
    received = max(run["received"], 1)
    cpu = per_frame(run, "busy")
    f = {
        "pps": pps(run),
        "offered": run.get("rate", 0),
        "loss": 100 * (run["sent"] - run["received"]) / max(run["sent"], 1),
        "cpu": cpu,
        "softirq": per_frame(run, "softirq"),
        "thread": per_frame(run, "thread"),
        "sender": per_frame(run, "sender"),
        "fpcs": 1e6 / cpu if cpu > 0 else 0.0,
    }
    for key in ["wakeups", "task_runs", "net_rx", "switches", "rx_full"]:
        f[key] = run.get(key, 0) / received
    return f


def boot(work, name):
    """The peaks and blasts of one boot, by mode, round by round."""
    path = os.path.join(work, name)
    trials = bench_sweep.parse(os.path.join(path, "results.txt"), MODES)
    platform = open(os.path.join(path, "platform.txt")).read().strip()
    host = {}
    try:
        for line in open(os.path.join(path, "host.txt")):
            key, _, value = line.strip().partition(" ")
            host[key] = value
    except FileNotFoundError:
        pass
    if "started" not in host:
        mtime = os.path.getmtime(os.path.join(path, "results.txt"))
        host["written"] = f"{datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
    # vdp and Linux make a round; the bare graph is measured beside them where it ran.
    rounds = sorted({r for (r, m) in trials if (r, "vdp") in trials and (r, "linux") in trials})
    peaks = {m: [] for m in MODES}
    blasts = {m: [] for m in MODES}
    for r in rounds:
        for m in MODES:
            if (r, m) not in trials:
                continue
            best = bench_sweep.peak(trials[(r, m)])
            if best is not None:
                peaks[m].append(dict(figures(best), refused=best["refused"]))
            blasts[m] += [figures(t) for t in trials[(r, m)] if t.get("rate", 0) == 0]
    measured = [m for m in MODES if peaks[m] or blasts[m]]
    return {"name": name, "platform": platform, "host": host, "rounds": rounds, "peaks": peaks, "blasts": blasts, "modes": measured}


def caveats(b, default_boots, names):
    """What a reader must know about this boot's figures, found in its results."""
    notes = []
    host = b["host"]
    if "started" in host:
        notes.append(f"The boot started {host['started']}, with the host's load average (1, 5, 15 min) at "
                     f"{host.get('load', '?')} on {host.get('cores', '?')} cores.")
    else:
        notes.append(f"The results were written {host.get('written', '?')}; when the boot started and the host's load "
                     "then were not recorded.")
    if len(b["rounds"]) == 1:
        notes.append("One round: there is no spread, and each figure is a single trial.")
    missing = [n for n in default_boots if n not in names]
    if missing:
        notes.append(f"Only {', '.join(names)} booted; the default also boots {', '.join(missing)} (`VDP_BENCH_CPUS`).")
    x, p = b["blasts"], b["peaks"]
    senders = [r["sender"] for m in b["modes"] for r in x[m]]
    if senders and max(senders) < 1.0:
        notes.append("pktgen's kthread was billed under 1 µs a frame in every blast, so the sender column does not measure "
                     "the sender: its sending is billed as softirq and to other tasks under this kernel's tick accounting. "
                     "The all-vCPU busy figure still holds it.")
    med = lambda rows, k: statistics.median(r[k] for r in rows) if rows else None
    bare, router = med(p.get("vdp-bare", []), "pps"), med(p["vdp"], "pps")
    if bare is not None and router is not None and bare < router:
        notes.append(f"The bare graph's peak ({bare:.0f} frames/s) is below the router's ({router:.0f}), though it does less "
                     "work per frame: the host's speed moved between trials minutes apart, and the peaks of this boot are "
                     "not to be compared across modes beyond that.")
    return notes


def ratios(a, b, key):
    return [x[key] / y[key] for x, y in zip(a, b) if y[key] > 0]


def ratio_cell(values):
    if not values:
        return "n/a"
    return f"**{statistics.median(values):.2f}** ({', '.join(f'{v:.2f}' for v in values)})"


def main():
    work, docs, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    boots = [boot(work, n) for n in names]
    if not any(b["rounds"] for b in boots):
        sys.exit("no complete round in the results")
    out = []
    w = out.append
    w("# Forwarding: vdp against Linux")
    w("")
    w(f"Measured by `make bench-gre` (scripts/bench-gre.sh) "
      f"on the {os.environ.get('VDP_BENCH_FLAVOUR', 'lean')} kernel under QEMU TCG, in one boot per guest CPU count; within a boot the rounds alternate vdp and Linux.")
    w("")
    w("Each trial sends 64-byte frames with pktgen from the blue-a namespace into its gretap tunnel. They go over the shared "
      "veth `phys0`, are routed between tenant blue's two devices, and go back out over GRE to blue-b. **vdp** is the "
      "rx_handler, then blue's IPv4 router graph (`gre-router.click`) on its tenant thread, then vdp's encapsulation. "
      "**Linux** does the same job with its own `gretap` devices and `ip_forward`.")
    w("")
    w("- **Peak at ≤ 0.1% loss** (Keller's measure): pktgen offers 2 s of frames at a rate raised by half each trial "
      "until more than 0.1% is lost, then three trials at the geometric middle of the highest rate within 0.1% and the "
      "lowest beyond it narrow it to within 5% (qemu-tests/guest/bench-sweep.sh). The peak is frames received at blue-b "
      "per second of pktgen's sending time, in the trial at the highest offered rate within 0.1%.")
    w("- **Blast**: pktgen sends as fast as it can (no delay); the rate, the loss and the CPU of that.")
    w("- **CPU** is the busy time of all vCPUs from the start of a trial's send to 1 s after its end, per frame received, "
      "sender included, in ticks of 10 ms: split into softirq (all CPUs), blue's tenant kthread and pktgen's kthread "
      "(the sender; its ticks also hold softirqs that ran on its CPU). **Frames per CPU-second** is 10⁶ / (µs CPU per frame). "
      "At a limited rate pktgen busy-waits between frames (its delay is below 100 µs), so its ticks there are mostly "
      "waiting: the blast's CPU per frame is the cost figure, the peak's is given for completeness.")
    w("")
    w("Median (min–max) over the rounds. The host is shared with other work, so absolute figures are noisy; the ratios "
      "compare trials of one round, minutes apart in one boot.")
    w("")
    plot_rows = []
    for b in boots:
        if not b["rounds"]:
            continue
        p, x = b["peaks"], b["blasts"]
        w(f"## {b['name']}: {b['platform']}, {len(b['rounds'])} rounds")
        w("")
        for note in caveats(b, DEFAULT_BOOTS, names):
            w(f"- {note}")
        w("")
        w("| mode | peak at ≤ 0.1% loss (frames/s) | next offered rate (lost more) | at the peak: µs CPU/frame (medians: softirq, tenant thread, sender) | blast: frames/s | blast: loss | blast: µs CPU/frame (medians: softirq, tenant thread, sender) | blast: frames per CPU-second |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for m in b["modes"]:
            col = lambda rows, k, d=1: spread([r[k] for r in rows], d)
            med = lambda rows, k: f"{statistics.median(r[k] for r in rows):.1f}" if rows else "n/a"
            refused = ", ".join(str(r["refused"]) if r["refused"] else "none tried" for r in p[m]) or "n/a"
            w(f"| {LABELS[m]} | {col(p[m], 'pps', 0)} | {refused} | {col(p[m], 'cpu')} ({med(p[m], 'softirq')}, {med(p[m], 'thread')}, {med(p[m], 'sender')}) "
              f"| {col(x[m], 'pps', 0)} | {col(x[m], 'loss')}% | {col(x[m], 'cpu')} ({med(x[m], 'softirq')}, {med(x[m], 'thread')}, {med(x[m], 'sender')}) | {col(x[m], 'fpcs', 0)} |")
        w("")
        w("| vdp / Linux, round by round | median (rounds) |")
        w("| --- | --- |")
        w(f"| peak frames/s at ≤ 0.1% loss | {ratio_cell(ratios(p['vdp'], p['linux'], 'pps'))} |")
        w(f"| blast frames/s | {ratio_cell(ratios(x['vdp'], x['linux'], 'pps'))} |")
        w(f"| blast frames per CPU-second | {ratio_cell(ratios(x['vdp'], x['linux'], 'fpcs'))} |")
        w(f"| frames per CPU-second at the peak | {ratio_cell(ratios(p['vdp'], p['linux'], 'fpcs'))} |")
        w("")
        med = lambda rows, k: statistics.median(r[k] for r in rows) if rows else 0.0
        if x["vdp"] and x["linux"]:
            v, l = x["vdp"], x["linux"]
            w(f"**Where vdp's time goes** (blasts, medians): {med(v, 'cpu'):.1f} µs of CPU per frame received against Linux's "
              f"{med(l, 'cpu'):.1f}; softirq {med(v, 'softirq'):.1f} µs (the outer receive, the classification, the "
              f"decapsulation and the push onto the queue, and the far end's receive of what the thread sends), blue's "
              f"tenant thread {med(v, 'thread'):.1f} µs, pktgen's thread {med(v, 'sender'):.1f} µs (Linux: "
              f"{med(l, 'sender'):.1f}; its ticks hold the softirqs that ran on its CPU, in Linux's case the whole "
              f"forwarding). A tick is billed to the task it interrupts and, if it interrupted a softirq, to softirq as "
              f"well, so the parts overlap and do not add up to the total.")
            w("")
            if x["vdp-bare"]:
                b_ = x["vdp-bare"]
                bound = med(l, "cpu") / med(b_, "cpu") if med(b_, "cpu") > 0 else 0.0
                w(f"**The router's elements** cost {med(v, 'cpu') - med(b_, 'cpu'):.1f} µs a frame: the bare graph "
                  f"(no lookup, no checks) spends {med(b_, 'cpu'):.1f} µs (softirq {med(b_, 'softirq'):.1f}, thread "
                  f"{med(b_, 'thread'):.1f}). **What bounds the ratio:** with the elements free, vdp's frames per "
                  f"CPU-second would be at most {bound:.2f}× Linux's in this boot: the rest (pktgen's send through "
                  f"blue-a's gretap, the receive on phys0, the devices, the hand-over, the encapsulation and the far "
                  f"end's receive at blue-b, which both modes pay) is "
                  f"{100 * med(b_, 'cpu') / med(l, 'cpu'):.0f}% of Linux's whole cost per frame.")
                w("")
        w("Counters per frame received in the blasts (the kernel's own: `/proc/softirqs`, the thread's `/proc/PID/status`, "
          "vdp's tenant stats and eth1's `rx_queue_full`):")
        w("")
        w("| | NET_RX softirqs | thread wake-ups | thread context switches | task runs | refused by the receive queue |")
        w("| --- | --- | --- | --- | --- | --- |")
        for m in b["modes"]:
            rows = x[m]
            w(f"| {m} | {spread([r['net_rx'] for r in rows], 3)} | {spread([r['wakeups'] for r in rows], 3)} | {spread([r['switches'] for r in rows], 3)} "
              f"| {spread([r['task_runs'] for r in rows], 3)} | {spread([r['rx_full'] for r in rows], 3)} |")
        w("")
        for m in b["modes"]:
            plot_rows.append((f"{m}, {b['name']}", statistics.median(r["pps"] for r in p[m]) if p[m] else 0,
                              statistics.median(r["fpcs"] for r in x[m]) if x[m] else 0))
    w("![peak rate at 0.1% loss, and frames per CPU-second](gre-forwarding.png)")
    w("")
    with open(os.path.join(docs, "gre-forwarding.md"), "w") as f:
        f.write("\n".join(out))
    with open(os.path.join(work, "gre-forwarding.dat"), "w") as f:
        for i, (label, rate, fpcs) in enumerate(plot_rows):
            f.write(f'{i} "{label}" {rate:.0f} {fpcs:.0f}\n')
    with open(os.path.join(work, "gre-forwarding.gp"), "w") as f:
        f.write(bench_sweep.bar_chart(f"{docs}/gre-forwarding.png", f"GRE forwarding, vdp against Linux (medians over the rounds)", f"{work}/gre-forwarding.dat", [(3, "peak frames per second at <= 0.1% loss"), (4, "frames per CPU-second, unlimited send (all vCPUs)")]))


if __name__ == "__main__":
    main()
