"""What the forwarding benchmarks' reports share: reading the VDP-BENCH lines of the offered-rate
sweep (qemu-tests/guest/bench-sweep.sh), finding the peak rate at 0.1% loss among a sweep's
trials, and writing a median with its spread. A tick is 10 ms of one CPU (USER_HZ 100).
"""

import statistics

TICK_US = 10_000


def parse(path, modes):
    """Every VDP-BENCH line of one of `modes`, as a dict of its integer fields, by (round, mode),
    in the order run."""
    trials = {}
    with open(path) as f:
        for line in f:
            fields = dict(word.split("=", 1) for word in line.split()[1:] if "=" in word)
            mode = fields.pop("mode", None)
            if mode not in modes:
                continue
            run = {k: int(v) for k, v in fields.items() if v.lstrip("-").isdigit()}
            trials.setdefault((run["round"], mode), []).append(run)
    return trials


def lossless(run):
    return (run["sent"] - run["received"]) * 1000 <= run["sent"]


def per_frame(run, key):
    """Microseconds of CPU per frame received of the tick counter `key` (0 without it)."""
    return run.get(key, 0) * TICK_US / max(run["received"], 1)


def pps(run):
    """Frames received per second of pktgen's sending time."""
    return run["received"] * 1e6 / run["usec"] if run.get("usec", 0) > 0 else 0.0


def peak(trials):
    """The rate-limited trial at the highest offered rate that lost no more than 0.1%, with the
    lowest rate above it that lost more (`refused`, None if none did); None when even the lowest
    rate lost more."""
    swept = [t for t in trials if t.get("rate", 0) > 0]
    passing = [t for t in swept if lossless(t)]
    if not passing:
        return None
    best = max(passing, key=lambda t: t["rate"])
    failed = [t["rate"] for t in swept if not lossless(t) and t["rate"] > best["rate"]]
    return dict(best, offered=best["rate"], pps=pps(best), refused=min(failed) if failed else None)


def spread(values, digits=1):
    """The median, with min–max in brackets when there is more than one value."""
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def bar_chart(png, title, dat, panels):
    """A gnuplot script drawing, side by side, one bar chart for each (column, title) of
    `panels` from `dat` (rows: index "label" values...), into `png`."""
    plots = "".join(f'set title "{t}"\nplot "{dat}" using 1:{c}:xtic(2) with boxes notitle\n' for c, t in panels)
    return f"""set terminal png size 1100,460
set output "{png}"
set multiplot layout 1,{len(panels)} title "{title}"
set style fill solid 0.6
set boxwidth 0.6
set grid ytics
set xtics rotate by -20
set yrange [0:*]
{plots}unset multiplot
"""
