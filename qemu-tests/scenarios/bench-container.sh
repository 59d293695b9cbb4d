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
. /vdp/bench-sweep.sh

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

wakeups() { vdpctl stats --tenant 2 -j -p | sed -n 's/.*"wakeups": \([0-9]*\).*/\1/p'; }
# What each trial counts besides the CPU: blue's tenant thread, its engine, the thread's wake-ups.
sweep_counters() { echo "thread=$(proc_ticks "$THREAD_PID") engine=$(proc_ticks "$ENGINE_PID") wakeups=$(wakeups)"; }
install_blue() { # FILE [ENGINE]
  local engine=""
  [ -z "${2:-}" ] || engine="--engine $2"
  out=$(in_container /vdp/blue vdpctl install $engine "$1" 2>&1) || fail "blue's install of $1 failed: $out"
}

# measure MODE: the offered-rate sweep (bench-sweep.sh) of blue's router in mode MODE.
measure() {
  wanted "$1" || return 0
  in_ns blue-a ping -c 2 -w 20 10.2.0.2 >/dev/null || fail "$1: blue does not forward"
  THREAD_PID=$(vdpctl tenant show --id 2 -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
  ENGINE_PID=""
  [ ! -f "$DIR/blue.pid" ] || ENGINE_PID=$(cat "$DIR/blue.pid")
  [ "$1" = kernel ] || [ "$1" = kernel-paint ] || [ -n "$ENGINE_PID" ] || fail "$1: blue has no engine"
  sweep "$1"
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
