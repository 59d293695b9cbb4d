# timeout: 300
# cpu_share through the coordinator (docs/cpu-shares.md): the tenant's kernel threads sit in its
# dataplane/ cgroup, whose cpu.max is the share, and the tenant's processes in control/ beside
# it. A busy data plane is held to its share, and the tenant's own processes are not starved by
# it: an in-container install completes promptly and a busy process in the container gets CPU.
. /vdp/lib.sh
SYSTEM=/vdp/configs/shares-system.toml
RED=/shares/red
load_vdp
start_coordinator $SYSTEM

now() { cut -d" " -f1 /proc/uptime; }
usage() { sed -n 's/^usage_usec //p' "/sys/fs/cgroup$1/cpu.stat"; }
# percent CGROUP SECONDS: the percentage of one CPU CGROUP used over SECONDS (an integer).
percent() {
  local u0 u1 t0 t1
  u0=$(usage "$1"); t0=$(now)
  sleep "$2"
  u1=$(usage "$1"); t1=$(now)
  echo "$u0 $u1 $t0 $t1" | awk '{ printf "%d\n", ($2 - $1) / 10000 / ($4 - $3) }'
}

# synced: returns once the coordinator's start-up sync is done. It opens its socket first and
# serves requests under the lock the sync holds, so any answer comes after the sync.
synced() { vdpctl show --tenant red >/dev/null || fail "the coordinator does not answer"; }
# placed CGROUP PID: PID is in CGROUP.
placed() { [ "$(cgroup_of "$2")" = "$1" ] || fail "thread $2 is in $(cgroup_of "$2"), want $1"; }
synced

step "the layout: threads in dataplane/ with the share, the tenant cgroup holds no process"
pid=$(vdpctl tenant show --id 1 -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
placed $RED/dataplane "$pid"
placed /shares/blue/dataplane "$(vdpctl tenant show --id 2 -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')"
[ "$(cat /sys/fs/cgroup$RED/dataplane/cpu.max)" = "20000 100000" ] || fail "red's dataplane cpu.max is $(cat /sys/fs/cgroup$RED/dataplane/cpu.max)"
[ "$(cat /sys/fs/cgroup/shares/blue/dataplane/cpu.max)" = "30000 100000" ] || fail "blue's dataplane cpu.max is $(cat /sys/fs/cgroup/shares/blue/dataplane/cpu.max)"
[ "$(cat /sys/fs/cgroup$RED/dataplane/memory.max)" = "8388608" ] || fail "red's dataplane memory.max is $(cat /sys/fs/cgroup$RED/dataplane/memory.max)"
[ "$(cat /sys/fs/cgroup/shares/blue/dataplane/memory.max)" = "max" ] || fail "blue's dataplane memory.max is $(cat /sys/fs/cgroup/shares/blue/dataplane/memory.max)"
[ -z "$(cat /sys/fs/cgroup$RED/cgroup.procs)" ] || fail "red's cgroup holds processes itself: $(cat /sys/fs/cgroup$RED/cgroup.procs)"

step "a runtime that put the container's processes in the tenant cgroup itself: moved to control/"
# Blue's cgroup is laid out already; a fresh tenant cgroup with a process in it is the case.
stop_coordinator
sleep 1000 & sleeper=$!
echo "$pid" > /sys/fs/cgroup/cgroup.procs
rmdir /sys/fs/cgroup$RED/dataplane /sys/fs/cgroup$RED/control
echo "-cpu -memory" > /sys/fs/cgroup$RED/cgroup.subtree_control
echo "$sleeper" > /sys/fs/cgroup$RED/cgroup.procs
start_coordinator $SYSTEM
synced
placed $RED/dataplane "$pid"
[ "$(cgroup_of "$sleeper")" = "$RED/control" ] || fail "the process in red's own cgroup is in $(cgroup_of "$sleeper"), want $RED/control"
grep -q "moved process $sleeper" /tmp/vdpd.log || fail "the coordinator did not log moving process $sleeper"
kill "$sleeper"

# busy_share: the share of a CPU a busy process in red's container gets over its run.
busy_share() {
  local u0 u1 t0 t1
  u0=$(usage $RED/control); t0=$(now)
  in_container $RED sh -c 'i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done'
  u1=$(usage $RED/control); t1=$(now)
  echo "$u0 $u1 $t0 $t1" | awk '{ printf "%d", ($2 - $1) / 10000 / ($4 - $3) }'
}
idle=$(busy_share)

step "red installs a busy graph from its container; the data plane is held to 20%"
in_container $RED vdpctl install /vdp/configs/coord-busy.click
sleep 1
s=$(percent $RED/dataplane 5)
echo "    red's data plane: $s% of a CPU over 5 s"
vdpctl stats --tenant 1 | sed -n 2p
[ "$s" -le 22 ] || fail "red's data plane, capped at 20%, used $s%"
[ "$s" -ge 16 ] || fail "red's data plane, capped at 20%, got only $s%"

step "while it runs, the container's own processes are not starved"
t0=$(now)
in_container $RED vdpctl install /vdp/configs/coord-busy.click > /tmp/install.out 2>&1 || { cat /tmp/install.out; fail "red's second install failed"; }
t1=$(now)
took=$(echo "$t0 $t1" | awk '{ printf "%d", ($2 - $1) * 1000 }')
echo "    in-container install took $took ms while the data plane was busy"
[ "$took" -lt 5000 ] || fail "the in-container install took $took ms"
busy=$(busy_share)
echo "    a busy process in red's container got $busy% of a CPU beside the busy data plane ($idle% beside an idle one)"
# In one cgroup with the data plane's quota the process would get what the data plane leaves
# of 20%, a few percent; the host's load moves both figures, so the bound is relative.
[ $((busy * 2)) -ge "$idle" ] || fail "red's busy process got $busy% of a CPU beside the busy data plane, $idle% beside an idle one"
grep -q '^nr_throttled 0$' /sys/fs/cgroup$RED/control/cpu.stat || fail "red's processes were throttled: $(cat /sys/fs/cgroup$RED/control/cpu.stat)"
s=$(percent $RED/dataplane 5)
echo "    red's data plane meanwhile: $s% over 5 s"
[ "$s" -le 22 ] || fail "red's data plane used $s% after the reinstall"

step "memory: the data plane's graphs are charged to dataplane/, held to memory_max"
mem() { cat "/sys/fs/cgroup$1/dataplane/memory.current"; }
m0=$(mem $RED)
in_container $RED vdpctl install /vdp/configs/mem-small.click
m1=$(mem $RED)
echo "    red's dataplane memory.current $m0 -> $m1 bytes after a 2 MiB queue"
[ $((m1 - m0)) -ge 2000000 ] || fail "installing a 2 MiB queue charged red's data plane only $((m1 - m0)) bytes"
out=$(expect_fail "a 10 MiB graph over red's 8 MiB" in_container $RED vdpctl install /vdp/configs/mem-big.click)
expect_match "$out" "out of memory \\(the tenant's memory.max, or the system's\\) building 'red/q[0-9]'"
out=$(in_container $RED vdpctl show); expect_match "$out" "configuration mem-small.click"
a=$(in_container $RED vdpctl read c.count); sleep 1; b=$(in_container $RED vdpctl read c.count)
[ "$b" -gt "$a" ] || fail "red's running graph stopped after the refused install: c.count $a then $b"
echo "    red's small graph keeps running (c.count $a -> $b)"
grep -q '^max [1-9]' "/sys/fs/cgroup$RED/dataplane/memory.events" || fail "memory.events of red's data plane records no limit hit: $(cat /sys/fs/cgroup$RED/dataplane/memory.events)"
in_container /shares/blue vdpctl install /vdp/configs/mem-big.click
echo "    blue, with no memory_max, installs the 10 MiB graph: memory.current $(mem /shares/blue)"
in_container /shares/blue vdpctl remove
in_container $RED vdpctl remove
m2=$(mem $RED)
echo "    red's dataplane memory.current after removal: $m2 bytes"
[ "$m2" -lt $((m1 - 1000000)) ] || fail "red's data-plane memory was not given back: $m2 bytes after removal, $m1 with the graph"

step "unload"
stop_coordinator
unload_vdp
echo "coordinator-shares ok"
