# timeout: 1500
# Element-cost benchmark (`make bench-elements`, lean kernel; not part of `make test`): cycles per
# packet of one tenant's graph on one pinned CPU, for a bare source-to-sink graph, the same with a
# Counter, with a RadixIPLookup holding the benchmark's route table, and the IPv4 router
# configuration. Prints "BENCH kernel ..." lines that scripts/bench-elements.sh turns into
# docs/bench/elements.md. The graphs, routes and packets are made by vdp-bench, the same binary
# and seed as the user-level run, and each is logged with its hash.
#
# Kernel command-line knobs (scripts/bench-elements.sh passes them through VDP_GUEST_ARGS):
# vdp.bench_routes (167000), vdp.bench_rounds (12), vdp.bench_window (seconds, 3),
# vdp.bench_settle (seconds, 1).
. /vdp/lib.sh
require_platform
load_vdp

param() { sed -n "s/.*vdp\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
ROUTES=$(param bench_routes); ROUTES=${ROUTES:-167000}
ROUNDS=$(param bench_rounds); ROUNDS=${ROUNDS:-12}
WINDOW=$(param bench_window); WINDOW=${WINDOW:-3}
SETTLE=$(param bench_settle); SETTLE=${SETTLE:-1}
TSC_KHZ=$(sed -n "s/.*tsc_early_khz=\([0-9]*\).*/\1/p" /proc/cmdline)
[ -n "$TSC_KHZ" ] || fail "no tsc_early_khz= on the command line: the guest's TSC rate is unknown"
SYSTEM=/vdp/configs/bench-elements-system.toml
echo "BENCH kernel setup routes=$ROUTES rounds=$ROUNDS window_s=$WINDOW settle_s=$SETTLE tsc_khz=$TSC_KHZ"

# The shell and every vdpctl it runs stay on CPU 0; the tenant's thread gets CPU 1 to itself.
taskset -p 1 $$ >/dev/null || fail "pinning the shell to CPU 0"
renice -n -20 $$ >/dev/null || fail "raising the shell's priority"
now() { cut -d" " -f1 /proc/uptime; }

step "making the routes and graphs (vdp-bench, seed as on the host)"
vdp-bench routes --count "$ROUTES" > /tmp/routes 2>/tmp/routes.log || fail "vdp-bench routes"
sed 's/^vdp-bench: /BENCH kernel routes /' /tmp/routes.log
for kind in base counter radix; do
  vdp-bench config "$kind" --routes "$ROUTES" > "/tmp/$kind.click" || fail "vdp-bench config $kind"
  out=$(vdp-bench blob "/tmp/$kind.click" --system "$SYSTEM" -o "/tmp/$kind.vdpg") || fail "compiling $kind"
  echo "BENCH kernel blob case=$kind ${out#* }"
done
out=$(vdp-bench blob /vdp/configs/ip-router.click --system "$SYSTEM" -o /tmp/router.vdpg) || fail "compiling the router"
echo "BENCH kernel blob case=router ${out#* }"

vdpctl tenant add bench --id 1 >/dev/null || fail "tenant add"
mkdir /sys/fs/cgroup/bench
thread_pids() { vdpctl tenant show --id 1 --json | tr -d ' \n' | sed -n 's/.*"thread_pids":\[\([0-9,]*\)\].*/\1/p' | tr ',' ' '; }
usage() { sed -n 's/^usage_usec //p' /sys/fs/cgroup/bench/cpu.stat; }
# Packets the graph finished with: the sink counts them; the router's two sources count theirs.
packets() {
  case "$1" in
    router) echo $(( $(read_handler 1 bench/udp.count) + $(read_handler 1 bench/tcp.count) )) ;;
    *) read_handler 1 bench/sink.count ;;
  esac
}
# edge KIND: "uptime usage packets usage uptime", read in that order.
edge() {
  local ta ua p ub tb
  ta=$(now); ua=$(usage); p=$(packets "$1"); ub=$(usage); tb=$(now)
  echo "$ta $ua $p $ub $tb"
}
# The module's own view of the tenant: task runs and thread runtime.
stats() { vdpctl stats --tenant 1 --json | tr -d ' \n' | sed -n 's/.*"task_runs":\([0-9]*\).*"runtime_ns":\([0-9]*\).*/\1 \2/p'; }

# The graphs take turns, in the reverse order every other round, so that a drift of the host's
# speed over a round does not favour the graphs measured first.
for round in $(seq 1 "$ROUNDS"); do
  order="base counter radix router"
  [ $((round % 2)) -eq 0 ] && order="router radix counter base"
  for kind in $order; do
    vdpctl graph install --tenant 1 "/tmp/$kind.vdpg" >/dev/null || fail "installing $kind"
    for pid in $(thread_pids); do
      echo "$pid" > /sys/fs/cgroup/bench/cgroup.procs || fail "moving thread $pid into /bench"
      taskset -p 2 "$pid" >/dev/null || fail "pinning thread $pid to CPU 1"
    done
    case "$kind" in
      radix)
        # The table is too large for the compiled graph (see the user-level log): it is loaded
        # through the `add` handler, in as few writes as fit a handler value, while the graph runs.
        t0=$(now)
        vdpctl handler write --tenant 1 bench/lookup.add --file /tmp/routes || fail "loading $ROUTES routes"
        t1=$(now)
        echo "BENCH kernel route_load round=$round routes=$ROUTES seconds=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')"
        ;;
      router)
        vdpctl handler write --tenant 1 bench/udp.limit -1 || fail "udp.limit"
        vdpctl handler write --tenant 1 bench/tcp.limit -1 || fail "tcp.limit"
        ;;
    esac
    sleep "$SETTLE"
    # Each edge of the window: the packet count, bracketed by the clock and the CPU time read just
    # before and just after it (a vdpctl read takes a while under TCG); the midpoints go with the
    # count. The module's STATS dump gives its own task runs and thread runtime, from one message.
    a0=$(edge "$kind"); s0=$(stats)
    sleep "$WINDOW"
    a1=$(edge "$kind"); s1=$(stats)
    echo "$kind $round $a0 $a1 $s0 $s1" | awk '{
      t0 = ($3 + $7) / 2; u0 = ($4 + $6) / 2; t1 = ($8 + $12) / 2; u1 = ($9 + $11) / 2
      bracket = ($6 - $4 > $11 - $9) ? $6 - $4 : $11 - $9
      printf "BENCH kernel sample case=%s round=%d packets=%.0f usage_us=%.0f window_s=%.3f bracket_us=%.0f task_runs=%.0f runtime_ns=%.0f\n",
        $1, $2, $10 - $5, u1 - u0, t1 - t0, bracket, $15 - $13, $16 - $14 }'
  done
done
vdpctl tenant del --id 1
rmdir /sys/fs/cgroup/bench
echo "bench-elements done"
