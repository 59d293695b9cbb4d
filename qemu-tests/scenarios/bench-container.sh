# needs: python
# timeout: 2400
# The container level's benchmark (not a test; `make bench-container` runs it and writes
# docs/bench/container-level.md). 64-byte frames from pktgen on blue-a's gretap go over phys0
# into tenant blue and back out over GRE to blue-b, in five modes measured in turn in each round
# of one boot, each at offered rates raised until more than 0.1% is lost, then narrowed down
# between the last rate within 0.1% and the first beyond it:
#   kernel        blue's IPv4 router (gre-router.click) wholly in the kernel;
#   kernel-paint  the router with Counter -> Paint -> Counter on eth1's path, in the kernel;
#   crossing      the same with the Paint replaced by a custom element (vdp-test-engine's
#                 FlowSampler(COLOR 7), which paints and counts): one crossing kernel ->
#                 container -> kernel per packet;
#   container     the router with container_level = "all": everything but the devices and the
#                 queues they pull from runs in blue's container engine (the stock vdp-engine),
#                 started from inside blue's container;
#   plain         the same, with the engine started by root outside any container (Keller's
#                 comparison of the engine in and out of a container).
# Each measurement prints a VDP-BENCH line the host collects.
. /vdp/lib.sh
. /vdp/gre-topology.sh

require_platform
load_vdp
# vdp.bench_rounds= on the kernel command line (scripts/bench-container.sh).
param() { sed -n "s/.*vdp\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
ROUNDS=$(param bench_rounds); ROUNDS=${ROUNDS:-3}
# vdp.bench_modes=kernel,container measures only those modes (all five by default).
MODES=$(param bench_modes | tr ',' ' '); MODES=${MODES:-kernel kernel-paint crossing container plain}
wanted() { case " $MODES " in *" $1 "*) return 0 ;; esac; return 1; }
DIR=/run/vdp-engine
for t in red blue; do mkdir -p /sys/fs/cgroup/vdp/$t; done

# The system configs: blue's data plane may use 90% of a CPU (red, idle, keeps 10%); in one of
# them blue's whole graph goes to the container level.
awk '/^name = / { tenant = $3 } /^cpu_share = / { $0 = "cpu_share = " (tenant == "\"blue\"" ? 90 : 10) } { print }' "$SYSTEM" > /tmp/sys-kernel.toml
grep -q '^cpu_share = 90$' /tmp/sys-kernel.toml || fail "could not write the kernel-level system config"
awk '{ print } /^name = "blue"$/ { print "container_level = \"all\"" }' /tmp/sys-kernel.toml > /tmp/sys-all.toml
grep -q 'container_level = "all"' /tmp/sys-all.toml || fail "could not write the container-level system config"
sed 's/sampler :: FlowSampler(COLOR 7)/sampler :: Paint(7)/' /vdp/configs/container-blue.click > /tmp/kernel-paint.click
grep -q 'Paint(7)' /tmp/kernel-paint.click || fail "could not write the kernel-paint config"

cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
proc_ticks() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && awk '{ print $14 + $15 }' "/proc/$1/stat" || echo 0; }
wakeups() { vdpctl stats --tenant 2 -j -p | sed -n 's/.*"wakeups": \([0-9]*\).*/\1/p'; }
# isqrt N: the integer square root (busybox awk has no sqrt).
isqrt() {
  local n=$1 x=$1 y
  y=$(( (x + 1) / 2 ))
  while [ "$y" -lt "$x" ]; do x=$y; y=$(( (x + n / x) / 2 )); done
  echo "$x"
}
rx_at_b() { in_ns blue-b cat /sys/class/net/t-blue-b/statistics/rx_packets; }
install_blue() { # FILE [ENGINE]
  local engine=""
  [ -z "${2:-}" ] || engine="--engine $2"
  out=$(in_container /vdp/blue vdpctl install $engine "$1" 2>&1) || fail "blue's install of $1 failed: $out"
}

# trial MODE RATE THREAD ENGINE: pktgen sends 2 s of frames at RATE per second (at least 1000);
# counts what arrives at blue-b and the CPU ticks from the start of the send to 1 s after its end
# (the queues drained). Prints a VDP-BENCH line; returns 1 if more than 0.1% was lost.
trial() {
  local frames=$(( $2 * 2 )) delay=$(( 1000000000 / $2 ))
  [ "$frames" -ge 1000 ] || frames=1000
  in_ns blue-a sh -c "
    echo rem_device_all > /proc/net/pktgen/kpktgend_0
    echo add_device t-blue-a > /proc/net/pktgen/kpktgend_0
    d=/proc/net/pktgen/t-blue-a
    echo 'count $frames' > \$d
    echo 'pkt_size 64' > \$d
    echo 'delay $delay' > \$d
    echo 'dst 10.2.0.2' > \$d
    echo 'dst_mac 02:00:00:00:b1:01' > \$d
    echo 'udp_dst_min 9' > \$d
    echo 'udp_dst_max 9' > \$d"
  local rx0 busy0 soft0 all0 t0 e0 w0 usec received
  w0=$(wakeups); rx0=$(rx_at_b); set -- "$1" "$2" "$3" "$4" $(cpu_ticks); busy0=$5 soft0=$6 all0=$7; t0=$(proc_ticks "$3"); e0=$(proc_ticks "$4")
  in_ns blue-a sh -c 'echo start > /proc/net/pktgen/pgctrl'
  sleep 1
  set -- "$1" "$2" "$3" "$4" $(cpu_ticks)
  received=$(( $(rx_at_b) - rx0 ))
  usec=$(in_ns blue-a sed -n 's/.*Result: OK: \([0-9]*\)(c.*/\1/p' /proc/net/pktgen/t-blue-a)
  echo "VDP-BENCH round=$round mode=$1 rate=$2 sent=$frames received=$received usec=$usec busy=$(($5 - busy0)) softirq=$(($6 - soft0)) ticks=$(($7 - all0)) thread=$(($(proc_ticks "$3") - t0)) engine=$(($(proc_ticks "$4") - e0)) wakeups=$(($(wakeups) - w0))"
  [ $(( (frames - received) * 1000 )) -le "$frames" ]
}

# measure MODE: raises the offered rate by half each step from 2000 frames per second until more
# than 0.1% is lost (Keller's peak rate at 0.1% loss), one trial per step; then three trials at
# the geometric middle of the highest rate within 0.1% and the lowest beyond it narrow the peak
# down to within 5%.
measure() {
  wanted "$1" || return 0
  in_ns blue-a ping -c 2 -w 20 10.2.0.2 >/dev/null || fail "$1: blue does not forward"
  local thread engine rate=2000
  thread=$(vdpctl tenant show --id 2 -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
  engine=""
  [ ! -f "$DIR/blue.pid" ] || engine=$(cat "$DIR/blue.pid")
  [ "$1" = kernel ] || [ "$1" = kernel-paint ] || [ -n "$engine" ] || fail "$1: blue has no engine"
  while [ "$rate" -le 200000 ] && trial "$1" "$rate" "$thread" "$engine"; do
    rate=$(( rate * 3 / 2 ))
  done
  [ "$rate" -le 200000 ] && [ "$rate" -gt 2000 ] || return 0
  local good=$(( rate * 2 / 3 )) bad=$rate mid step
  for step in 1 2 3; do
    mid=$(isqrt $((good * bad)))
    if trial "$1" "$mid" "$thread" "$engine"; then good=$mid; else bad=$mid; fi
  done
}

round=1
while [ "$round" -le "$ROUNDS" ]; do
  start_coordinator /tmp/sys-kernel.toml
  install_blue /vdp/configs/gre-router.click
  measure kernel
  if wanted kernel-paint; then
    install_blue /tmp/kernel-paint.click
    measure kernel-paint
  fi
  if wanted crossing; then
    install_blue /vdp/configs/container-blue.click /usr/bin/vdp-test-engine
    expect_match "$out" "container part"
    measure crossing
  fi
  stop_coordinator
  start_coordinator /tmp/sys-all.toml
  install_blue /vdp/configs/gre-router.click
  expect_match "$out" "container part"
  [ "$(cgroup_of "$(cat $DIR/blue.pid)")" = /vdp/blue/control ] || fail "blue's engine is not in blue's container"
  measure container
  if wanted plain; then
    out=$(vdpctl engine start --tenant blue 2>&1) || fail "root could not start blue's engine: $out"
    [ "$(cgroup_of "$(cat $DIR/blue.pid)")" = / ] || fail "the plain engine runs in $(cgroup_of "$(cat $DIR/blue.pid)")"
    measure plain
  fi
  in_container /vdp/blue vdpctl engine stop --tenant blue >/dev/null || fail "blue's engine did not stop"
  stop_coordinator
  round=$((round + 1))
done
# Where the container level's packets were lost: the boundaries' counters of the last round.
vdpctl vdev show --tenant 2
vdpctl tenant del --id 1 >/dev/null
vdpctl tenant del --id 2 >/dev/null
unload_vdp
