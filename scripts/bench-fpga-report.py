#!/usr/bin/env python3
"""`make bench-fpga` (scripts/bench-fpga.sh): measures and reports the FPGA level.

  measure --vdpctl V --work DIR --frames N --repeat R --path CLICK --router CLICK
      writes the captures, simulates the IPv4 path's design over them (streaming), times
      `vdpctl run` of the same path over the same captures R times, checks that both sent the
      same frames, synthesises the path's and the router's designs; results in DIR/results.json
  report --work DIR --docs DOCS
      writes DOCS/fpga.md, and DIR/fpga.gp, which gnuplot turns into DOCS/fpga.png
"""
import argparse
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import time

SIZES = (64, 512, 1500)


def board(ports):
    text = 'name = "sim"\nhandler_address_bits = 14\n\n[[memory]]\nname = "bram"\nkind = "block_ram"\nbits = 100000000\n'
    for p in range(ports):
        text += f'\n[[device]]\nname = "eth{p}"\ningress = {p}\negress = {p}\n'
    return text


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(size, k):
    """An Ethernet frame of `size` bytes (no FCS) carrying IPv4 to 10.x.y.z, TTL 64."""
    total = size - 14
    dst = bytes([10, (k >> 16) & 255, (k >> 8) & 255, k & 255])
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, k & 0xFFFF, 0, 64, 17, 0, bytes([192, 168, 7, 1]), dst)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    payload = bytes((k + i) & 255 for i in range(total - 20))
    return bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0]) + hdr + payload


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1 + i // 1000000, i % 1000000, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    frames = []
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack(end + "IIII", data[pos:pos + 16])[2]
        frames.append(data[pos + 16:pos + 16 + incl])
        pos += 16 + incl
    return frames


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"[bench] {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def measure(a):
    work = a.work
    results = {"frames": a.frames, "repeat": a.repeat, "sizes": {}, "platform": platform.platform(),
               "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")}
    for name, ports in (("board2.toml", 2), ("board4.toml", 4)):
        with open(os.path.join(work, name), "w") as f:
            f.write(board(ports))
    path_design = os.path.join(work, "path-design")
    run([a.vdpctl, "fpga", a.path, "--board", os.path.join(work, "board2.toml"), "-o", path_design])
    for size in SIZES:
        frames = [frame(size, k) for k in range(a.frames)]
        inp = os.path.join(work, f"in-{size}.pcap")
        write_pcap(inp, frames)
        hw = os.path.join(work, f"hw-{size}.pcap")
        stats = os.path.join(work, f"stats-{size}.json")
        t = time.perf_counter()
        run([a.vdpctl, "fpga", "sim", path_design, "--input", f"eth0={inp}", "--output", f"eth1={hw}", "--stream", "--cycles", stats])
        sim_seconds = time.perf_counter() - t
        with open(stats) as f:
            st = json.load(f)
        sw = os.path.join(work, f"sw-{size}.pcap")
        seconds = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            run([a.vdpctl, "run", a.path, "--system", a.system, "--tenant", "bench", "--input", f"eth0={inp}", "--output", f"eth1={sw}"])
            seconds.append(time.perf_counter() - t)
        hw_frames, sw_frames = read_pcap(hw), read_pcap(sw)
        if hw_frames != sw_frames:
            sys.exit(f"[bench] {size}-byte frames: the simulation and vdpctl run sent different frames ({len(hw_frames)} and {len(sw_frames)})")
        if len(sw_frames) != a.frames:
            sys.exit(f"[bench] {size}-byte frames: {len(sw_frames)} of {a.frames} forwarded")
        results["sizes"][size] = {"stats": st, "sim_seconds": sim_seconds, "software_seconds": seconds}
        print(f"[bench] {size} bytes: {st['last_out_cycle'] - st['first_in_cycle']} cycles; vdpctl run median {statistics.median(seconds):.3f} s", flush=True)
    router_design = os.path.join(work, "router-design")
    run([a.vdpctl, "fpga", a.router, "--board", os.path.join(work, "board4.toml"), "-o", router_design])
    for name, design in (("path", path_design), ("router", router_design)):
        t = time.perf_counter()
        results[name + "_area"] = json.loads(run([a.vdpctl, "fpga", "synth", design, "--json"]))
        results[name + "_synth_seconds"] = time.perf_counter() - t
        print(f"[bench] {name} synthesised in {results[name + '_synth_seconds']:.0f} s", flush=True)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


def report(a):
    with open(os.path.join(a.work, "results.json")) as f:
        r = json.load(f)
    clock_mhz = 200  # the board file's default clock (docs/fpga.md)
    out = []
    w = out.append
    w("# The FPGA level: simulated throughput and area")
    w("")
    w("Written by `make bench-fpga` (scripts/bench-fpga.sh, scripts/bench-fpga-report.py); every figure "
      "comes from the one run described here.")
    w("")
    w(f"Machine: {r['cpu']}, {r['platform']}. Path: `scripts/bench-fpga/ipv4-path.click` (Classifier, "
      "Strip, CheckIPHeader, LinearIPLookup, DecIPTTL, EtherEncap, Queue, ToDevice); the software runs it with `--system scripts/bench-fpga/system.toml` (Ethernet devices whose tunnels take 1500-byte frames). "
      f"Input: {r['frames']} IPv4 frames of each size (no FCS), all forwarded. Both levels sent the same "
      "frames in the same order for every size (checked by the benchmark).")
    w("")
    w("## Throughput")
    w("")
    w("FPGA: Verilator simulation of the generated design, frames sent back to back on the ingress "
      "port (`vdpctl fpga sim --stream`), the egress always ready; cycles from the first word in to "
      "the last word out. The simulation is cycle-exact and deterministic, so these counts have no "
      f"spread. Software: wall time of `vdpctl run` over the same capture, {r['repeat']} runs "
      "(median, and min to max), including its start, reading the capture and writing the output. "
      "\"Clock for 10 Gb/s\" carries 10 Gb/s of frame bytes; \"10 GbE line rate\" the frames of a full "
      "10 Gb/s Ethernet link, which also spends 20 bytes a frame on preamble and gap. The ratio "
      f"compares the design at the board's default clock ({clock_mhz} MHz) with `vdpctl run`, which is "
      "single-threaded and offline (docs/bench/elements.md), at its median (and at its slowest and "
      "fastest run).")
    w("")
    w("| frame | cycles | bits/cycle | clock for 10 Gb/s | clock for 10 GbE line rate | FPGA at "
      f"{clock_mhz} MHz | vdpctl run frames/s (min-max) | vdpctl run Gb/s (median) | FPGA at {clock_mhz} MHz / software (min-max) |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    for size in SIZES:
        s = r["sizes"][str(size)]
        st = s["stats"]
        cycles = st["last_out_cycle"] - st["first_in_cycle"]
        bits = st["bytes_in"] * 8
        bpc = bits / cycles
        clock = 10e9 / bpc / 1e6
        line = 10e9 * size / (size + 20) / bpc / 1e6  # preamble, start delimiter and gap: 20 bytes a frame
        fpga_gbps = bpc * clock_mhz * 1e6 / 1e9
        secs = s["software_seconds"]
        med = statistics.median(secs)
        fps = st["packets_in"] / med
        fps_lo, fps_hi = st["packets_in"] / max(secs), st["packets_in"] / min(secs)
        sw_gbps = bits / med / 1e9
        rows.append((size, bpc, clock, fpga_gbps, sw_gbps))
        w(f"| {size} B | {cycles} | {bpc:.2f} | {clock:.0f} MHz | {line:.0f} MHz | {fpga_gbps:.2f} Gb/s | "
          f"{fps:,.0f} ({fps_lo:,.0f}-{fps_hi:,.0f}) | {sw_gbps:.3f} | {fpga_gbps / sw_gbps:.1f}x ({fpga_gbps * min(secs) * 1e9 / bits:.1f}-{fpga_gbps * max(secs) * 1e9 / bits:.1f}x) |")
    w("")
    w("Every element is store-and-forward through its own two buffers (docs/fpga.md, \"Modules\"): a "
      "frame of n words costs an element n cycles in and n out, overlapped with the next frame, plus "
      "a few cycles a frame (its decision, and the fetch ahead of the realigning read); the column "
      "\"extra\" is the cycles a frame beyond its words, so short frames pay most for it.")
    w("")
    w("| frame | words a frame | cycles a frame | extra |")
    w("| ---: | ---: | ---: | ---: |")
    for size in SIZES:
        st = r["sizes"][str(size)]["stats"]
        words = (size + 7) // 8
        per = (st["last_out_cycle"] - st["first_in_cycle"]) / st["packets_in"]
        w(f"| {size} B | {words} | {per:.2f} | {per - words:.2f} |")
    w("")
    w("## Area")
    w("")
    w("Yosys 7-series synthesis (`vdpctl fpga synth`, hierarchy kept, no latches). A module's area "
      "includes its `vdp_shell` or `vdp_queue`; the block RAMs are 36 Kbit tiles (a shell's two "
      "2048-byte buffers take one; a Queue sizes its memory for CAPACITY frames of the board's "
      "largest, rounded up to a power of two of words).")
    w("")
    w("| module (class) | instance synthesised | LUTs | FFs | BRAM36 |")
    w("| --- | --- | ---: | ---: | ---: |")
    seen = set()
    for e in r["router_area"]["elements"]:
        if e["module"] in seen:
            continue
        seen.add(e["module"])
        area = e["area"]
        w(f"| `{e['module']}` ({e['class']}) | `{e['name']}` of the router | {area['luts']} | {area['flip_flops']} | {area['block_rams']:g} |")
    for name, label in (("path", "the bench's IPv4 path (scripts/bench-fpga/ipv4-path.click)"), ("router", "the simulation test's router (userspace/vdpctl/tests/fpga/router.click)")):
        area = r[name + "_area"]["total"]
        n = len(r[name + "_area"]["elements"])
        w(f"| whole design | {label}: {n} elements, synthesised in {r[name + '_synth_seconds']:.0f} s | {area['luts']} | {area['flip_flops']} | {area['block_rams']:g} |")
    w("")
    w("![bits per cycle and rates](fpga.png)")
    w("")
    with open(os.path.join(a.docs, "fpga.md"), "w") as f:
        f.write("\n".join(out))
    with open(os.path.join(a.work, "fpga.dat"), "w") as f:
        for size, bpc, clock, fpga_gbps, sw_gbps in rows:
            f.write(f"{size} {bpc:.4f} {clock:.2f} {fpga_gbps:.4f} {sw_gbps:.6f}\n")
    png = os.path.join(os.path.abspath(a.docs), "fpga.png")
    dat = os.path.join(os.path.abspath(a.work), "fpga.dat")
    with open(os.path.join(a.work, "fpga.gp"), "w") as f:
        f.write(f"""set terminal pngcairo size 1000,420 font ",10"
set output "{png}"
set multiplot layout 1,2
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set title "FPGA level: simulated bits per cycle (IPv4 path)"
set xlabel "frame size (bytes)"
set ylabel "bits per cycle"
set yrange [0:72]
set key top left
plot "{dat}" using 2:xtic(1) title "bits per cycle (of 64)" lc rgb "#3366aa"
set title "Rate: FPGA at {clock_mhz} MHz against vdpctl run (median)"
set ylabel "Gb/s (log scale)"
set logscale y
set yrange [*:*]
set key top right
plot "{dat}" using 4:xtic(1) title "FPGA, {clock_mhz} MHz" lc rgb "#3366aa", "" using 5 title "vdpctl run" lc rgb "#cc5522"
unset multiplot
""")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--vdpctl", required=True)
    m.add_argument("--work", required=True)
    m.add_argument("--frames", type=int, required=True)
    m.add_argument("--repeat", type=int, required=True)
    m.add_argument("--path", required=True)
    m.add_argument("--router", required=True)
    m.add_argument("--system", required=True)
    rp = sub.add_parser("report")
    rp.add_argument("--work", required=True)
    rp.add_argument("--docs", required=True)
    a = p.parse_args()
    measure(a) if a.cmd == "measure" else report(a)


if __name__ == "__main__":
    main()
