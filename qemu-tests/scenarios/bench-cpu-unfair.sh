# timeout: 600
# CPU benchmark (`make bench-cpu`, lean kernel; not part of `make test`): long-term unfairness.
# Two tenants share CPU 0, B capped at 15% by cpu.max, B's per-packet cost swept with Chew.
# Prints "BENCH unfair ..." lines that scripts/bench-cpu.sh turns into docs/bench/cpu-*.md.
. /vdp/lib.sh
load_vdp
# The shell sets up hundreds of tenants whose threads are all busy; at nice -20 it still gets
# the CPU it needs to do so in reasonable time. It sleeps while measuring.
renice -n -20 $$ >/dev/null 2>&1 || true
WINDOW=${BENCH_WINDOW:-3}

now() { cut -d" " -f1 /proc/uptime; }
# add_tenant NAME ID CONFIG: creates the tenant and installs CONFIG compiled for it alone.
add_tenant() {
  printf '[limits]\nmax_elements = 64\nmax_queue_capacity = 4096\nmax_table_entries = 10\nmax_threads = 8\ntask_budget_cycles = 100000000\n\n[[tenant]]\nname = "%s"\ncgroup = "/%s"\ncpu_share = 1\n' "$1" "$1" > /tmp/sys.toml
  vdpctl tenant add "$1" --id "$2" >/dev/null || fail "tenant add $1"
  vdpctl compile --system /tmp/sys.toml "$1=/vdp/configs/$3" -o /tmp/g.vdpg >/dev/null || fail "compile $3 for $1"
  vdpctl graph install --tenant "$2" /tmp/g.vdpg >/dev/null || fail "install for $1"
}
pid_of() { vdpctl tenant show --id "$1" --json | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p'; }
usage() { sed -n 's/^usage_usec //p' "/sys/fs/cgroup/$1/cpu.stat"; }
# Packets all tenants' sources sent so far: each busy run of a BURST 4 source sends 4.
all_packets() { vdpctl stats --json | sed -n 's/.*"task_runs": \([0-9]*\).*/\1/p' | awk '{ s += $1 } END { printf "%d\n", s * 4 }'; }

step "unfairness: A uncapped and B capped at 15% share CPU 0; B's per-packet cost grows"
add_tenant a 1 busy.click
add_tenant b 2 chew.click
for t in a b; do
  mkdir "/sys/fs/cgroup/$t"
  pid=$(pid_of $([ $t = a ] && echo 1 || echo 2))
  echo "$pid" > "/sys/fs/cgroup/$t/cgroup.procs"
  taskset -p 1 "$pid" >/dev/null || fail "pinning $t's thread to CPU 0"
done
echo "15000 100000" > /sys/fs/cgroup/b/cpu.max
for n in 0 1000 5000 10000 15000 20000 40000 80000 160000 320000; do
  vdpctl handler write --tenant 2 b/chew.cycles "$n"
  sleep 1
  ua0=$(usage a); ub0=$(usage b); cb0=$(read_handler 2 b/c.count); ca0=$(read_handler 1 a/c.count); t0=$(now)
  sleep "$WINDOW"
  ua1=$(usage a); ub1=$(usage b); cb1=$(read_handler 2 b/c.count); ca1=$(read_handler 1 a/c.count); t1=$(now)
  echo "$n $ua0 $ua1 $ub0 $ub1 $ca0 $ca1 $cb0 $cb1 $t0 $t1" | awk '{ w = ($11 - $10) * 1e6;
    printf "BENCH unfair cycles=%d b_share_permille=%d a_share_permille=%d b_pps=%d a_pps=%d\n",
      $1, 1000 * ($5 - $4) / w, 1000 * ($3 - $2) / w, ($9 - $8) * 1e6 / w, ($7 - $6) * 1e6 / w }'
done
vdpctl stats --tenant 2 | sed -n 2p
vdpctl tenant del --id 1; vdpctl tenant del --id 2
rmdir /sys/fs/cgroup/a /sys/fs/cgroup/b

echo "bench-cpu-unfair done"
