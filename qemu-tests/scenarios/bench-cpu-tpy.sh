# timeout: 900
# CPU benchmark (`make bench-cpu`): aggregate rate of 1, 2, 5 and 10 busy tenants over a sweep of
# tasks_per_yield, and with the time-sized default (auto). Prints "BENCH tpy ..." lines.
. /vdp/lib.sh
load_vdp
# The shell sets up hundreds of tenants whose threads are all busy; at nice -20 it still gets
# the CPU it needs to do so in reasonable time. It sleeps while measuring.
renice -n -20 $$ >/dev/null 2>&1 || true
WINDOW=${BENCH_WINDOW:-5}

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

step "tasks per yield: aggregate rate of 1, 2, 5 and 10 busy tenants"
have=0
for tenants in 1 2 5 10; do
  while [ "$have" -lt "$tenants" ]; do have=$((have + 1)); add_tenant "t$have" $((100 + have)) busy.click; done
  for tpy in 1 4 16 64 128 512 2048 auto; do
    for i in $(seq 1 "$tenants"); do vdpctl sched set --tenant $((100 + i)) --tasks-per-yield "$tpy" >/dev/null; done
    sleep 1
    p0=$(all_packets); t0=$(now)
    sleep "$WINDOW"
    p1=$(all_packets); t1=$(now)
    echo "$tenants $tpy $p0 $p1 $t0 $t1" | awk '{ printf "BENCH tpy tenants=%d tpy=%s pps=%d\n", $1, $2, ($4 - $3) / ($6 - $5) }'
  done
done

echo "bench-cpu-tpy done"
