#!/usr/bin/env bash
# `make bench-fpga`: the FPGA level's simulated throughput on the IPv4 path
# (scripts/bench-fpga/ipv4-path.click) in bits per cycle at 64, 512 and 1500-byte frames and the
# clock it needs for 10 Gb/s, beside `vdpctl run`'s rate for the same path and the same
# captures measured in the same run; and the area (Yosys) of every element class's module and
# of the whole router of the simulation test. Writes docs/bench/fpga.md and docs/bench/fpga.png.
# Not a test: it records what one run measured.
#
# Knobs (environment): BENCH_FPGA_FRAMES (frames a size, 20000), BENCH_FPGA_REPEAT (timed
# software runs a size, 5), VDPCTL (userspace/target/release/vdpctl).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${VDP_OUT:-$PWD/out}
DOCS=docs/bench
WORK=$OUT/bench-fpga
VDPCTL=${VDPCTL:-userspace/target/release/vdpctl}
FRAMES=${BENCH_FPGA_FRAMES:-20000}
REPEAT=${BENCH_FPGA_REPEAT:-5}

# Plots need gnuplot; only the benchmark targets install it.
if ! command -v gnuplot >/dev/null; then
  echo "[bench] installing gnuplot-nox"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends gnuplot-nox \
    || { echo "[bench] cannot install gnuplot-nox" >&2; exit 1; }
fi
for tool in verilator yosys; do
  command -v $tool >/dev/null || { echo "[bench] $tool is missing: scripts/deps.sh installs it" >&2; exit 1; }
done
[ -x "$VDPCTL" ] || { echo "[bench] build first: make userspace (want $VDPCTL)" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK" "$DOCS"
python3 scripts/bench-fpga-report.py measure --vdpctl "$VDPCTL" --work "$WORK" --frames "$FRAMES" --repeat "$REPEAT" \
  --path scripts/bench-fpga/ipv4-path.click --router userspace/vdpctl/tests/fpga/router.click --system scripts/bench-fpga/system.toml
python3 scripts/bench-fpga-report.py report --work "$WORK" --docs "$DOCS"
gnuplot "$WORK/fpga.gp"
echo "[bench] wrote $DOCS/fpga.md and $DOCS/fpga.png"
