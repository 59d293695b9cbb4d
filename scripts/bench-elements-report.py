#!/usr/bin/env python3
"""Turns the logs of `make bench-elements` (scripts/bench-elements.sh) into docs/bench/elements.md
and the gnuplot script of docs/bench/elements.png.

usage: scripts/bench-elements-report.py WORKDIR DOCSDIR SECONDS PARTS

WORKDIR holds user.log (vdp-bench elements), run.dat (vdpctl run timings) and kernel.log (the
guest's console); every figure compared in the page comes from these logs of one run.
"""
import datetime
import os
import platform
import shlex
import statistics
import sys

WORK, DOCS, SECONDS, PARTS = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
# Keller's measurement: cycles per packet of a Counter and a RadixIPLookup, and of the whole
# IPv4 router they were part of.
KELLER = {"counter": 700, "radix": 1000, "router": 5400}


def lines(path, prefix):
    """The `BENCH <level> KIND k=v ...` lines of a log, as (KIND, {k: v})."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith(prefix + " "):
                continue
            words = shlex.split(line[len(prefix) + 1:])
            kind = words[0].split("=", 1)[0]
            fields = dict(w.split("=", 1) for w in words if "=" in w)
            out.append((kind, fields))
    return out


def spread(values):
    """(median, min, max)."""
    return statistics.median(values), min(values), max(values)


def fmt(triple, digits=0):
    m, lo, hi = triple
    return f"{m:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"


def pct(x):
    return f"{100 * x:.1f}%"


# --- user level -----------------------------------------------------------------------------
user = lines(os.path.join(WORK, "user.log"), "BENCH user")
u_tsc_hz = next((float(f["tsc_hz"]) for k, f in user if "tsc_hz" in f), None)
u_samples = {}  # case -> [(tsc cycles/pkt, cpu-time cycles/pkt, ns/pkt)] by rep
for kind, f in user:
    if kind == "sample":
        p = int(f["packets"])
        u_samples.setdefault(f["case"], []).append(
            (int(f["tsc"]) / p, int(f["cpu_ns"]) * u_tsc_hz / 1e9 / p, int(f["wall_ns"]) / p))
u_info = {}
for kind, f in user:
    if kind in ("routes", "route_lengths", "inline", "tsc_hz"):
        u_info[kind] = f
    elif kind == "blob":
        u_info.setdefault("blobs", {})[f["case"]] = f
    elif kind == "route_load":
        u_info.setdefault("route_load", {})[f["case"]] = f


def u_col(case, i):
    return [s[i] for s in u_samples.get(case, [])]


def u_cost(case, base, i=0):
    """Paired differences case − base, rep by rep (runs are interleaved, so each pair is close in time)."""
    return [a[i] - b[i] for a, b in zip(u_samples[case], u_samples[base])]


# --- kernel ----------------------------------------------------------------------------------
kernel = lines(os.path.join(WORK, "kernel.log"), "BENCH kernel")
k_setup = next((f for k, f in kernel if k == "setup"), {})
k_tsc_khz = int(k_setup.get("tsc_khz", "0"))
k_samples = {}  # case -> [dict] by round
for kind, f in kernel:
    if kind == "sample":
        p = int(f["packets"])
        us = int(f["usage_us"])
        w = float(f["window_s"])
        runs = int(f["task_runs"])
        generated = f["case"] != "router"
        k_samples.setdefault(f["case"], []).append({
            "round": int(f["round"]),
            "cycles": us * k_tsc_khz / 1000 / p,
            # The module's STATS: thread runtime over task runs × BURST, both from one dump (only
            # the generated graphs' sources send a whole burst every run).
            "module_cycles": int(f["runtime_ns"]) * k_tsc_khz / 1e6 / (runs * 10) if generated and runs else None,
            "pps": p / w,
            "share": us / (w * 1e6),
            "per_run": p / runs if runs else 0,
            "bracket": int(f.get("bracket_us", 0)) / us,
        })
k_loads = [float(f["seconds"]) for k, f in kernel if k == "route_load"]
k_blobs = {f["case"]: f for k, f in kernel if k == "blob"}
k_routes = next((f for k, f in kernel if k == "routes"), None)


def k_col(case, key):
    return [s[key] for s in k_samples.get(case, [])]


def k_cost(case, base="base", key="cycles"):
    by_round = {s["round"]: s[key] for s in k_samples.get(base, [])}
    return [s[key] - by_round[s["round"]] for s in k_samples.get(case, []) if s["round"] in by_round]


# --- vdpctl run -------------------------------------------------------------------------------
runs = []
run_path = os.path.join(WORK, "run.dat")
if os.path.exists(run_path):
    with open(run_path) as f:
        for line in f:
            i, wall, usr, syst, n, size = line.split()
            runs.append((float(wall), float(usr), float(syst), int(n), int(size)))

accel = None
run_out = os.path.join(WORK, "kernel-run.txt")
if os.path.exists(run_out):
    with open(run_out, errors="replace") as f:
        for line in f:
            if "accelerator" in line:
                accel = line.rsplit("accelerator", 1)[1].strip()
accel_text = f"`-accel {accel}`, as qemu-tests/run chose it" if accel else "the accelerator qemu-tests/run chose"
if accel and accel != "tcg":
    sys.exit(f"bench-elements-report: the guest ran with -accel {accel}, not TCG: the page's text assumes TCG")

have_user = bool(u_samples)
have_kernel = bool(k_samples)
have_run = bool(runs)
if not (have_user and have_kernel and have_run):
    missing = [n for n, ok in (("user level", have_user), ("kernel", have_kernel), ("vdpctl run", have_run)) if not ok]
    sys.exit(f"bench-elements-report: no results for {', '.join(missing)} in {WORK}")

# --- the figures the page states ----------------------------------------------------------------
# User-level cycles are the thread's CPU time × the TSC rate: on this shared host the thread is
# preempted now and then, and the TSC (wall) figure counts that time too; both are shown.
U = {c: spread(u_col(c, 1)) for c in u_samples}
U_tsc = {c: spread(u_col(c, 0)) for c in u_samples}
U_ns = {c: spread(u_col(c, 2)) for c in u_samples}
U_oncpu = {c: statistics.median(s[1] / s[0] for s in u_samples[c]) for c in u_samples}
Uc = {"counter": spread(u_cost("counter", "base", 1)), "radix": spread(u_cost("radix", "base", 1)),
      "dev-radix": spread(u_cost("dev-radix", "dev-base", 1))}
Uc_tsc = {"counter": spread(u_cost("counter", "base", 0)), "radix": spread(u_cost("radix", "base", 0))}
K = {c: spread(k_col(c, "cycles")) for c in k_samples}
Kc = {"counter": spread(k_cost("counter")), "radix": spread(k_cost("radix"))}
Kc_module = {"counter": spread(k_cost("counter", key="module_cycles")), "radix": spread(k_cost("radix", key="module_cycles"))}
u_router, k_router = U["router"][0], K["router"][0]
slowdowns = [K[c][0] / U[c][0] for c in ("base", "counter", "radix", "router")]
slow_lo, slow_hi = min(slowdowns), max(slowdowns)
u_base, k_base = U["base"][0], K["base"][0]
routes = int(u_info["routes"]["count"])
lens = u_info["route_lengths"]

now = datetime.datetime.now(datetime.timezone.utc)
cpu_model = "unknown CPU"
try:
    with open("/proc/cpuinfo") as f:
        cpu_model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
except (OSError, StopIteration):
    pass
host = f"{os.cpu_count()} host cores ({cpu_model}), TSC {u_tsc_hz / 1e9:.3f} GHz"
cache_text = "per-core L2 cache"
try:
    sizes = {}
    base = "/sys/devices/system/cpu/cpu0/cache"
    for index in (i for i in os.listdir(base) if i.startswith("index")):
        with open(f"{base}/{index}/level") as f:
            level = f.read().strip()
        with open(f"{base}/{index}/size") as f:
            sizes[level] = f.read().strip()
    if "2" in sizes:
        cache_text = f"{sizes['2']} L2 cache per core (the L3, {sizes.get('3', 'of unknown size')}, is shared with the rest of the machine)"
except OSError:
    pass

md = []
w = md.append
w(f"# Element costs: Counter, RadixIPLookup with {routes:,} routes, the IPv4 router")
w("")
w(f"Generated by `make bench-elements` (scripts/bench-elements.sh) on {now:%Y-%m-%d %H:%M} UTC; {host}; "
  f"the kernel figures on the lean kernel under QEMU **TCG** (emulation, no KVM), 2 vCPUs. "
  f"This run took {SECONDS // 60} min {SECONDS % 60} s"
  + ("" if PARTS.split() == ["user", "run", "kernel"] else f" (parts run: {PARTS}; the others' logs reused)") + ".")
w("")
w("Keller's multi-level paper measured about 700 cycles per packet for a Counter and 1000 for a "
  "RadixIPLookup, in an IPv4 router that cost about 5400. The same three measurements on vdp, "
  "each element's cost being the difference from a bare source-to-sink graph measured in the same "
  "run (medians; the spread in brackets is min–max over the runs):")
w("")
w("| cycles per packet | Keller | vdp, user level (native) | vdp, kernel under TCG (emulated) |")
w("| --- | ---: | ---: | ---: |")
w(f"| bare graph (source → sink) | – | {U['base'][0]:,.0f} | {K['base'][0]:,.0f} |")
w(f"| Counter | 700 | {Uc['counter'][0]:,.0f} | {Kc['counter'][0]:,.0f} |")
w(f"| RadixIPLookup, {routes:,} routes | 1000 | {Uc['radix'][0]:,.0f} | {Kc['radix'][0]:,.0f} |")
w(f"| IPv4 router, whole | 5400 | {u_router:,.0f} | {k_router:,.0f} |")
w(f"| Counter / router | {pct(700 / 5400)} | {pct(Uc['counter'][0] / u_router)} | {pct(Kc['counter'][0] / k_router)} |")
w(f"| RadixIPLookup / router | {pct(1000 / 5400)} | {pct(Uc['radix'][0] / u_router)} | {pct(Kc['radix'][0] / k_router)} |")
w(f"| Counter / bare graph | – | {pct(Uc['counter'][0] / u_base)} | {pct(Kc['counter'][0] / k_base)} |")
w(f"| RadixIPLookup / bare graph | – | {pct(Uc['radix'][0] / u_base)} | {pct(Kc['radix'][0] / k_base)} |")
w("")
w("**Only the ratios compare with Keller's figures, and even they only roughly.** The user-level "
  "cycles are TSC cycles of this host's CPU (the thread's CPU time × the TSC rate), but the element library there runs over user "
  "buffers (`Vec`, `Arc`) instead of `sk_buff`s, with no device driver. The kernel's cycles are "
  "not cycles of any real CPU: under TCG every guest instruction is translated and emulated, and "
  "the guest's TSC runs at the host's rate, so a \"guest cycle\" here is host time × TSC rate and "
  f"the kernel figures are host time spent emulating: {slow_lo:.0f}–{slow_hi:.0f}× the user-level "
  "figures of the same graphs. And Keller's 5400 cycles were a complete router's; vdp's router "
  "configuration has no devices (its packets come from InfiniteSources), no ARP and no "
  "fragmentation, so the bare graph's work (a packet allocated, filled, pushed and freed) is a "
  "larger part of it and every element a larger share.")
w("")
w("![cycles per packet and element cost as a share of the router](elements.png)")
w("")

w("## Method")
w("")
w(f"`vdp-bench` (userspace/vdpctl/src/bin/vdp-bench/) makes everything from one seed: a route table "
  f"of {routes:,} distinct prefixes shaped like a BGP table ({int(lens['/24']):,} /24, "
  f"{int(lens['/16-/23']):,} /16–/23, {int(lens['/8-/15']):,} /8–/15; first octets 1–223 "
  f"but 10 and 127; every route with a gateway and one of 4 outputs), and three Click configurations "
  f"that share one set of sources: 64 `InfiniteSource(DATA …, LIMIT -1, BURST 10)`, each sending a "
  f"46-byte IPv4/UDP packet whose destination lies inside a route drawn at random from the table, "
  f"into")
w("")
w("- **bare graph**: `sink :: Discard` directly;")
w("- **Counter**: `c :: Counter -> sink`;")
w("- **RadixIPLookup**: `lookup :: RadixIPLookup`, its 4 outputs into `sink`, loaded with the whole "
  "table through its `add` handler;")
w("")
def hashes_match():
    """Whether the guest compiled the very graphs the user level ran."""
    ub = u_info.get("blobs", {})
    return all(ub.get(c, {}).get("hash") == k_blobs.get(c, {}).get("hash") for c in ("base", "counter", "radix", "router"))


def route_hash_match():
    """The guest's `vdp-bench routes` line: `BENCH kernel routes N routes, B bytes, hash H`."""
    with open(os.path.join(WORK, "kernel.log"), errors="replace") as f:
        for line in f:
            if line.startswith("BENCH kernel routes "):
                return line.split()[-1] == u_info["routes"]["hash"]
    return False


same = hashes_match() and route_hash_match()
w("and the **IPv4 router** is `qemu-tests/configs/ip-router.click` (CheckIPHeader, IPClassifier, "
  "Counters, RadixIPLookup with its 4 routes, DecIPTTL, SetIPChecksum, EtherEncap, Classifier, "
  "Strip, CheckIPHeader again, Discard), its UDP and TCP sources made unlimited; its two sources of "
  "bad packets (bad checksum, TTL 1) send their 12 packets and stop. Every graph is compiled by the "
  "code `vdpctl run` uses (vdpctl's `run::prepare` and `run::engine::start`, compiled into "
  "vdp-bench from vdpctl's own files) against `qemu-tests/configs/bench-elements-system.toml`. "
  "The guest runs the same vdp-bench binary with the same seed; the route set and every compiled "
  "graph are logged with a hash, and the guest's hashes "
  + ("**match** the user level's: the kernel ran the very graphs, routes and packets measured at "
     "user level." if same else "**do not all match** the user level's (see the logs)."))
w("")
w("**User level.** `vdp-bench elements` builds each graph in the user-level engine (one thread, "
  "as `vdpctl run`), sets the sources' limits so that one run sends a fixed number of packets "
  "(the router's two sources of bad packets are set to 0), and times each run with the TSC "
  "(`rdtsc`), the wall clock and the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`). The cycles "
  "given are the thread's CPU time × the TSC rate (measured against the wall clock over the whole "
  f"run: {u_tsc_hz / 1e9:.4f} GHz): the TSC alone also counts the time the thread was preempted, "
  "which on this shared 2-core host is not small (the tables give both, and the share of the wall "
  "time the thread was on a CPU). The user-level parts run under the QEMU lock, so that no TCG "
  "guest of this machine's other users shares the host's two cores meanwhile (their builds may). "
  "After one warm-up run of each, the graphs run "
  f"in turn, {len(u_samples['base'])} timed runs each, interleaved so that a slow moment of the "
  "host hits all graphs alike; an element's cost is the difference from the bare graph's run of "
  "the same round. Every run checks that every packet reached the sink (and the Counter), and the "
  "router's that every UDP packet left through its last stage (`valid`) and every TCP one through "
  "its gateway route (`r1`).")
w("")
w("**Kernel.** One boot of the lean guest (`qemu-tests/scenarios/bench-elements.sh`, skipped by "
  "`make test`, run under the QEMU lock). One tenant; each graph is installed in turn (a hotswap), "
  "its kernel thread moved to cgroup `/bench` and pinned to CPU 1, the shell and `vdpctl` pinned "
  f"to CPU 0. After {k_setup.get('settle_s', '?')} s of settling, a {k_setup.get('window_s', '?')} s "
  "window: the cgroup's `cpu.stat usage_usec` (the thread's CPU time; `/proc/PID/schedstat` needs "
  "`CONFIG_SCHED_INFO`, which the lean kernel lacks) and the sink's `count` (the router: its two "
  "sources' `count`s) at each edge. Cycles per packet = CPU time × TSC rate ÷ packets, the TSC "
  f"rate being the guest's `tsc_early_khz` ({k_tsc_khz:,} kHz, the host's). The four graphs take "
  f"turns, {k_setup.get('rounds', '?')} rounds, the order reversed every other round; costs are "
  "differences within a round. The routes "
  "are loaded afresh in every round (each install replaces the graph), which times the load "
  f"{k_setup.get('rounds', '?')} times.")
w("")

w("## User level")
w("")
w(f"{len(u_samples['base'])} timed runs per graph; {int(u_samples and next(int(f['packets']) for k, f in user if k == 'sample' and f['case'] == 'base')):,} "
  "packets per run of the source-driven graphs. Median (min–max).")
w("")
w("| graph | cycles/packet | cycles/packet, TSC | on CPU | ns/packet (wall) | M packets/s (CPU time) |")
w("| --- | ---: | ---: | ---: | ---: | ---: |")
names = {"base": "bare graph", "counter": "+ Counter", "radix": f"+ RadixIPLookup ({routes:,} routes)",
         "router": "IPv4 router (ip-router.click)", "dev-base": "FromDevice → Strip → Discard",
         "dev-radix": f"FromDevice → Strip → RadixIPLookup ({routes:,}) → Discard",
         "dev-router": "gre-router.click (FromDevice … ToDevice)"}
for c in ("base", "counter", "radix", "router"):
    w(f"| {names[c]} | {fmt(U[c])} | {fmt(U_tsc[c])} | {pct(U_oncpu[c])} | {fmt(U_ns[c], 1)} | {u_tsc_hz / U[c][0] / 1e6:.2f} |")
w("")
w("| element | cost, cycles/packet | from the TSC | / bare graph | / router |")
w("| --- | ---: | ---: | ---: | ---: |")
for c, label in (("counter", "Counter"), ("radix", f"RadixIPLookup, {routes:,} routes")):
    w(f"| {label} | {fmt(Uc[c])} | {fmt(Uc_tsc[c])} | {pct(Uc[c][0] / u_base)} | {pct(Uc[c][0] / u_router)} |")
w("")
w("An element's spread is that of the paired differences (its run minus the bare graph's run of "
  "the same round), so a slow round for both cancels out.")
w("")
w("The 64 sources give the lookup 64 different destinations, so after the first packets the "
  "trie nodes they visit stay in the cache: that is RadixIPLookup's cost on a hot path. With a "
  f"different destination in every packet (frames through FromDevice, {len(u_samples.get('dev-base', [])) and int(next(f['packets'] for k, f in user if k == 'sample' and f['case'] == 'dev-base')):,} "
  "per run, destinations drawn from the same table, one frame handed to the engine at a time) the "
  "lookup walks a different path through a table of several megabytes each time:")
w("")
w("| graph | cycles/packet | cycles/packet, TSC | on CPU | ns/packet (wall) |")
w("| --- | ---: | ---: | ---: | ---: |")
for c in ("dev-base", "dev-radix", "dev-router"):
    if c in U:
        w(f"| {names[c]} | {fmt(U[c])} | {fmt(U_tsc[c])} | {pct(U_oncpu[c])} | {fmt(U_ns[c], 1)} |")
w("")
w(f"RadixIPLookup with every destination different: **{fmt(Uc['dev-radix'])} cycles/packet**, "
  f"{Uc['dev-radix'][0] / Uc['radix'][0]:.1f}× its cost on 64 destinations. A lookup is a chain of "
  f"dependent loads down the trie, and the trie (at most 48 bytes of nodes per route: up to "
  f"{routes * 48 / 2**20:.0f} MiB here) is several times the host's {cache_text}, so with every "
  "destination different many of those loads miss the L1 and L2 caches (and the TLB). (This graph's baseline includes "
  "FromDevice and the engine's per-frame work, hence its larger base.)")
w("")
rl = u_info["route_load"]
w(f"Loading the {routes:,} routes at user level, in the {rl['radix']['writes']} `add` writes "
  f"`vdpctl handler write --file` would send (60 KiB each): {float(rl['radix']['seconds']):.3f} s "
  f"({routes / float(rl['radix']['seconds']) / 1e6:.2f} M routes/s).")
w("")

w("## Kernel (QEMU TCG: emulated cycles)")
w("")
w(f"{len(k_samples['base'])} rounds, {k_setup.get('window_s', '?')} s windows. Median (min–max).")
w("")
w("| graph | cycles/packet | packets/s | CPU 1 busy | cycles/packet from the module's STATS |")
w("| --- | ---: | ---: | ---: | ---: |")
for c in ("base", "counter", "radix", "router"):
    module = k_col(c, "module_cycles")
    module_text = fmt(spread(module)) if None not in module else "–"
    w(f"| {names[c]} | {fmt(K[c])} | {fmt(spread(k_col(c, 'pps')))} | {pct(statistics.median(k_col(c, 'share')))} "
      f"| {module_text} |")
w("")
w("| element | cost, cycles/packet | from the module's STATS | / bare graph | / router |")
w("| --- | ---: | ---: | ---: | ---: |")
for c, label in (("counter", "Counter"), ("radix", f"RadixIPLookup, {routes:,} routes")):
    w(f"| {label} | {fmt(Kc[c])} | {fmt(Kc_module[c])} | {pct(Kc[c][0] / k_base)} | {pct(Kc[c][0] / k_router)} |")
w("")
share_lo = min(min(k_col(c, "share")) for c in k_samples)
gen_samples = [x for c in ("base", "counter", "radix") for x in k_samples[c]]
agree = max(abs(x["module_cycles"] / x["cycles"] - 1) for x in gen_samples)
median_agree = max(abs(statistics.median(k_col(c, "module_cycles")) / K[c][0] - 1) for c in ("base", "counter", "radix"))
bracket = max(x["bracket"] for c in k_samples for x in k_samples[c])
w(f"\"CPU 1 busy\" is the thread's CPU time over the window: {pct(share_lo)} or more in every "
  "window, so the thread never waited for work and the packet rate is what one emulated CPU gives "
  "the graph. Each edge of a window reads the packet count with a `vdpctl handler read`, which "
  "takes a while under TCG; the CPU time and the clock are read just before and just after it and "
  f"their midpoints go with the count (the bracket was at most {pct(bracket)} of a window's CPU "
  "time). The last column is the module's own account, from one STATS dump at each edge: the "
  "thread's runtime over its task runs × 10, the BURST (every run of a busy source sends a whole "
  "burst; the router's spent sources have runs that send nothing, so it has no such figure). "
  + f"Window by window it is within {pct(agree)} of the cgroup's figure (the edge reads' "
  f"uncertainty); the medians are within {pct(median_agree)}"
  + (": the packets the sources made (runs × BURST) reached the sink (counted there), so the "
     "destinations found their routes, as they all do at user level, where every run checks it "
     "exactly on the same routes and packets."
     if median_agree < 0.03 else ": more than the edges explain, see the raw log."))
w("")
w("Most of the noise is the host's: the guest's clock is the host's, so whenever another process "
  "on the host takes the CPU from the vCPU's thread, the guest thread's CPU time grows without "
  "packets, and the host's caches are shared with whatever else runs. The bare "
  f"graph alone ranged over {fmt(K['base'])} cycles/packet from round to round. The graphs "
  "take turns (the order reversed every other round) and each element's cost is the difference "
  "from the bare graph's window of the same round, but windows seconds apart still see different "
  "hosts, and a small element's cost (the Counter's) is of the size of that noise: read its "
  "spread before its median.")
w("")
w(f"Kernel over user level, same graph: bare graph {K['base'][0] / U['base'][0]:.0f}×, Counter's cost "
  f"{Kc['counter'][0] / Uc['counter'][0]:.0f}×, RadixIPLookup's {Kc['radix'][0] / Uc['radix'][0]:.0f}×, "
  f"router {K['router'][0] / U['router'][0]:.0f}×. That is mostly the emulator's slowdown, which is "
  "not the same for every kind of instruction, so the kernel's ratios differ from the user "
  "level's for that reason as well as for the real differences between the two (sk_buffs and the "
  "kernel allocator against user buffers and malloc).")
w("")
w("### Loading the routes into the kernel")
w("")
ub = u_info["blobs"]
inline = u_info.get("inline", {})
refused = inline.get("refused", "")
inline_bytes = None
for word in refused.replace(";", " ").split():
    if word.isdigit():
        inline_bytes = int(word)
        break
w(f"The table cannot travel in the compiled graph. With all {routes:,} routes written into the "
  f"RadixIPLookup's configuration, the compiler says: *{refused or 'accepted'}*. One `GRAPH_INSTALL` "
  "carries less than 64 KiB (`GRAPH_MAX_BYTES`, 65,000 bytes)" +
  (f"; at {(inline_bytes - int(ub['radix']['bytes'])) / routes:.1f} bytes per route beside the "
   f"{int(ub['radix']['bytes']):,} bytes of the rest of the graph, about "
   f"{(65000 - int(ub['radix']['bytes'])) * routes // (inline_bytes - int(ub['radix']['bytes'])):,} routes would fit."
   if inline_bytes else ".") +
  f" So the guest installs the graph with an empty table and loads the routes with "
  f"`vdpctl handler write --tenant 1 bench/lookup.add --file ROUTES`, which sends the "
  f"{int(u_info['routes']['bytes']) / 1e6:.1f} MB of route lines in {rl['radix']['writes']} writes "
  "of up to 60 KiB, each applied in slices of 256 routes under the table's spinlock, while the "
  "graph runs on CPU 1 (docs/elements.md).")
w("")
if k_loads:
    m, lo, hi = spread(k_loads)
    w(f"Load time in the guest, one load per round: **{m:.2f} s** ({lo:.2f}–{hi:.2f}), "
      f"{routes / m / 1e3:,.0f}k routes/s, including `vdpctl`'s start and its reading of the file "
      f"(under TCG). At user level the same writes take {float(rl['radix']['seconds']):.3f} s.")
    w("")

w("## `vdpctl run` throughput")
w("")
n = runs[0][3]
size = runs[0][4]
walls = [r[0] for r in runs]
cpus = [r[1] + r[2] for r in runs]
pps = spread([n / x for x in walls])
nsp = spread([x * 1e9 / n for x in walls])
cpu_ns = spread([x * 1e9 / n for x in cpus])
w(f"`vdpctl run qemu-tests/configs/gre-router.click --input eth1=IN --output eth1=OUT1 --output "
  f"eth2=OUT2` over a {n:,}-packet capture (`vdp-bench pcap`: 60-byte Ethernet frames from "
  f"10.1.0.2 to random hosts of 10.2.0.0/24, 1 µs apart; {size / 1e6:.0f} MB), which the router "
  f"sends out of eth2, all {n:,} of them. {len(runs)} runs; the time is the whole command's: "
  "reading and checking the capture, compiling the configuration, running it, and writing both "
  "output captures atomically.")
w("")
w("| run | wall s | user s | system s | packets/s | ns/packet |")
w("| ---: | ---: | ---: | ---: | ---: | ---: |")
for i, (wall, usr, syst, _, _) in enumerate(runs, 1):
    w(f"| {i} | {wall:.3f} | {usr:.3f} | {syst:.3f} | {n / wall:,.0f} | {wall * 1e9 / n:,.0f} |")
w("")
dev_router_cpu_ns = U["dev-router"][0] / u_tsc_hz * 1e9
w(f"**{pps[0] / 1e6:.2f} M packets/s, {nsp[0]:,.0f} ns/packet** (median of the wall times; "
  f"{pps[1] / 1e6:.2f}–{pps[2] / 1e6:.2f} M packets/s, {nsp[1]:,.0f}–{nsp[2]:,.0f} ns/packet). "
  f"CPU time (user + system): {fmt(cpu_ns)} ns/packet. The same graph over the same frames inside "
  f"vdp-bench, without captures, takes {dev_router_cpu_ns:,.0f} ns of CPU per packet "
  f"({U['dev-router'][0]:,.0f} cycles), so about {max(cpu_ns[0] - dev_router_cpu_ns, 0):,.0f} "
  "ns/packet of `vdpctl run`'s CPU time goes to reading and checking the capture, copying each "
  "frame in and out and writing the outputs; the wall time beyond the CPU time is waiting (the "
  "output files are written whole and synced, and other work shares the host).")
w("")

w("## What these figures mean, and what they do not")
w("")
w("- **They are per-packet costs of vdp's element library on one CPU, nothing else.** The bare graph "
  "is what a packet costs with no element in its way: a source's task run, the packet's allocation "
  "and copy, one push, and the free in Discard. An element's cost is the difference it makes to "
  "that, measured with the same sources in the same run.")
w("- **User level against Keller.** The user-level cycles are native, but on a shared cloud VM "
  "(2 cores, other users' builds running), over user-level packet buffers, and medians of short "
  "runs, hence the spreads. Keller's figures come from another machine, another kernel and Click "
  "itself; only the ratios travel. vdp's Counter does four relaxed atomic additions (count, bytes, "
  "and the current second's rate window) and reads the clock once per packet; it has no lock.")
w("- **The kernel figures are emulated.** Under TCG (" + accel_text + ") the guest runs many times "
  "slower than native, and unevenly across instruction kinds; absolute kernel cycles say how much "
  "host time the emulator spent, not what vdp.ko costs on hardware. Their ratios (element / bare "
  "graph, element / router) are the kernel figures that mean something, and even those carry the "
  "emulator's bias.")
w("- **RadixIPLookup's two figures bound it.** 64 destinations keep the path hot; a different "
  "destination per packet makes it a chain of cache misses. A router's real traffic sits between "
  "the two, closer to the first when a few prefixes carry most packets.")
w("- **The router is not Keller's router.** ip-router.click has no device drivers, no ARP, no "
  "fragmentation and a 4-route table; its packets come from InfiniteSources. Element / router "
  "ratios are therefore larger here than the same element would be in Keller's router.")
w("- **`vdpctl run` is an offline tool.** Its throughput is that of a single-threaded virtual-time "
  "replay of captures through the graph; it says nothing about the kernel's forwarding rate "
  "(docs/bench/gre-forwarding.md measures that).")
w("")
w("## Reproducing")
w("")
w("```sh")
w("make bench-elements VDP_OUT=...   # everything, about the time above (the kernel part waits for /tmp/vdp-qemu.lock)")
w("BENCH_ONLY=user make bench-elements                 # one part; the others' last logs are reused")
w("BENCH_ROUTES=2000 BENCH_ROUNDS=1 BENCH_WINDOW=2 make bench-elements   # a quick check")
w("```")
w("")
w("Raw logs: `$VDP_OUT/bench-elements/` (user.log, run.dat, kernel.log).")
w("")

with open(os.path.join(DOCS, "elements.md"), "w") as f:
    f.write("\n".join(md))

# --- the plot ---------------------------------------------------------------------------------
with open(os.path.join(WORK, "cycles.dat"), "w") as f:
    for c, label in (("base", "bare graph"), ("counter", "Counter"), ("radix", "Radix 167k"), ("router", "router")):
        u = Uc[c] if c in Uc else U[c]
        k = Kc[c] if c in Kc else K[c]
        keller = KELLER.get(c, "NaN")
        f.write(f'"{label}" {u[0]:.1f} {u[1]:.1f} {u[2]:.1f} {k[0]:.1f} {k[1]:.1f} {k[2]:.1f} {keller}\n')
with open(os.path.join(WORK, "ratios.dat"), "w") as f:
    for c, label in (("counter", "Counter"), ("radix", "RadixIPLookup 167k")):
        u = [100 * x / u_router for x in Uc[c]]
        k = [100 * x / k_router for x in Kc[c]]
        f.write(f'"{label}" {100 * KELLER[c] / KELLER["router"]:.2f} {u[0]:.2f} {u[1]:.2f} {u[2]:.2f} {k[0]:.2f} {k[1]:.2f} {k[2]:.2f}\n')
left_max = max([KELLER["router"]] + [x[2] for x in list(U.values()) + list(K.values())])
right_max = max([100 * KELLER["radix"] / KELLER["router"]] + [100 * x[2] / r for d, r in ((Uc, u_router), (Kc, k_router)) for c, x in d.items() if c in ("counter", "radix")])
with open(os.path.join(WORK, "elements.gp"), "w") as f:
    f.write(f"""set terminal png size 1200,520
set output "{DOCS}/elements.png"
set multiplot layout 1,2
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top left
set title "Cycles per packet (elements: difference from the bare graph)\\nerror bars: min-max over the runs"
set logscale y
set yrange [10:{left_max * 12:.0f}]
set ylabel "cycles per packet (log scale)"
plot "{WORK}/cycles.dat" using 8:8:8:xtic(1) title "Keller", \\
     "" using 2:3:4 title "vdp user level (native)", \\
     "" using 5:6:7 title "vdp kernel under QEMU TCG (emulated)"
unset logscale y
set yrange [0:{right_max * 1.45:.1f}]
set title "Element cost as a share of the whole router's cost\\nerror bars: min-max over the runs"
set ylabel "% of the router's cycles per packet"
plot "{WORK}/ratios.dat" using 2:2:2:xtic(1) title "Keller (700 and 1000 of 5400)", \\
     "" using 3:4:5 title "vdp user level", \\
     "" using 6:7:8 title "vdp kernel (QEMU TCG)"
unset multiplot
""")
