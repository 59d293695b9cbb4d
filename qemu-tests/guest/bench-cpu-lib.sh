# Helpers shared by the CPU benchmarks (bench-cpu-*.sh), sourced after lib.sh.
require_platform

# The shell sets up hundreds of tenants whose threads are all busy; at nice -20 it still gets
# the CPU it needs to do so in reasonable time. It sleeps while measuring.
renice -n -20 $$ >/dev/null 2>&1 || true

now() { cut -d" " -f1 /proc/uptime; }
# add_tenant NAME ID CONFIG: creates the tenant and installs CONFIG compiled for it alone.
add_tenant() {
  printf '[limits]\nmax_elements = 64\nmax_queue_capacity = 4096\nmax_table_entries = 10\nmax_threads = 8\ntask_budget_cycles = 100000000\n\n[[tenant]]\nname = "%s"\ncgroup = "/%s"\ncpu_share = 1\n' "$1" "$1" > /tmp/sys.toml
  vdpctl tenant add "$1" --id "$2" >/dev/null || fail "tenant add $1"
  vdpctl compile --system /tmp/sys.toml "$1=/vdp/configs/$3" -o /tmp/g.vdpg >/dev/null || fail "compile $3 for $1"
  vdpctl graph install --tenant "$2" /tmp/g.vdpg >/dev/null || fail "install for $1"
}
pid_of() { vdpctl tenant show --id "$1" -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p'; }
usage() { sed -n 's/^usage_usec //p' "/sys/fs/cgroup/$1/cpu.stat"; }
# Packets all tenants' sources sent so far: each busy run of a BURST 4 source sends 4.
all_packets() { vdpctl stats -j -p | sed -n 's/.*"task_runs": \([0-9]*\).*/\1/p' | awk '{ s += $1 } END { printf "%d\n", s * 4 }'; }
