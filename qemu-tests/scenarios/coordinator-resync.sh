# timeout: 480
# The coordinator keeps every tenant's configuration: a daemon restart changes nothing that runs,
# a module reload under the running daemon and a reload while it is down both bring every graph
# back, with each tenant's threads in its cgroup; and a tenant's kthread is billed to its cgroup.
. /vdp/lib.sh
SYSTEM=/vdp/configs/coord-system.toml
RED=/vdp/red BLUE=/blue
load_vdp
physical_device eth0
start_coordinator $SYSTEM

usage() { sed -n 's/^usage_usec //p' "/sys/fs/cgroup$1/cpu.stat"; }
thread_pids() { vdpctl stats --tenant "$1" --json | tr -d ' \n' | sed -n 's/.*"thread_pids":\[\([0-9,]*\)\].*/\1/p' | tr , ' '; }
threads_in_place() { # threads_in_place ID CGROUP COUNT: the tenant runs COUNT threads, all in CGROUP
  local pids n=0
  pids=$(thread_pids "$1")
  for pid in $pids; do
    [ "$(cgroup_of "$pid")" = "$2" ] || fail "thread $pid ($(cat /proc/$pid/comm)) of tenant $1 is in $(cgroup_of "$pid"), want $2"
    n=$((n + 1))
  done
  [ "$n" = "$3" ] || fail "tenant $1 runs $n threads ($pids), want $3"
  echo "    tenant $1: threads $pids in $2"
}
wait_running() { # wait_running ID ELEMENT.HANDLER: the handler reads above 0 within 60 s
  local i=0 v=""
  while [ $i -lt 600 ]; do
    v=$(vdpctl handler read --tenant "$1" "$2" 2>/dev/null) && [ "$v" -gt 0 ] 2>/dev/null && return 0
    sleep 0.1; i=$((i + 1))
  done
  fail "tenant $1's $2 is '$v' after 60 s"
}
rmmod_vdp() { # the coordinator may be inside a request: retry while the module is busy
  local i=0
  until rmmod vdp 2>/dev/null; do [ $i -lt 100 ] || fail "rmmod vdp"; sleep 0.1; i=$((i + 1)); done
}

step "red installs a busy graph, blue a two-thread one"
in_container $RED vdpctl install /vdp/configs/coord-busy.click
in_container $BLUE vdpctl install /vdp/configs/coord-blue.click
threads_in_place 1 $RED/dataplane 1
threads_in_place 2 $BLUE/dataplane 2

step "red's kthread is billed to red's cgroup"
a=$(usage $RED); sleep 2; b=$(usage $RED)
echo "    $RED cpu.stat usage_usec $a -> $b (+$((b - a)) us in 2 s)"
[ $((b - a)) -gt 200000 ] || fail "red's cgroup was billed only $((b - a)) us in 2 s"
# Blue's rated source sends 100 packets a second, a few milliseconds of CPU. The window is
# the time blue takes to count 200 packets, so it always holds blue's work, and the TSC clock
# bills that work exactly (docs/cpu-shares.md); jiffies billed whole ticks and could miss it.
a=$(usage $BLUE); c0=$(read_handler 2 blue/c.count); i=0
while [ $(( $(read_handler 2 blue/c.count) - c0 )) -lt 200 ]; do
  [ $i -lt 100 ] || fail "blue counted fewer than 200 packets in 10 s"
  sleep 0.1; i=$((i + 1))
done
b=$(usage $BLUE); c1=$(read_handler 2 blue/c.count)
echo "    $BLUE cpu.stat usage_usec $a -> $b (+$((b - a)) us while blue counted $((c1 - c0)) packets)"
[ $((b - a)) -gt 0 ] || fail "blue's cgroup was billed nothing for $((c1 - c0)) packets"

step "restart the coordinator: what runs stays, nothing is reinstalled"
in_container $RED vdpctl install /vdp/configs/coord-red.click
before=$(read_handler 1 red/c.count)
stop_coordinator
start_coordinator $SYSTEM
sleep 1.5
out=$(in_container $RED vdpctl show); expect_match "$out" "configuration coord-red.click"
out=$(in_container $BLUE vdpctl show); expect_match "$out" "configuration coord-blue.click"
after=$(read_handler 1 red/c.count)
echo "    red/c.count $before before the restart, $after after"
[ "$after" -ge "$before" ] || fail "red's count went back from $before to $after: its graph was replaced"
grep -q "installed its saved configuration" /tmp/vdpd.log && fail "a restart reinstalled a running graph"
threads_in_place 1 $RED/dataplane 1
threads_in_place 2 $BLUE/dataplane 2

step "reload the module under the running coordinator: the graphs come back"
rmmod_vdp
out=$(expect_fail "install without the module" in_container $BLUE vdpctl install /vdp/configs/coord-red.click)
expect_match "$out" "the vdp module is not loaded"
rc=0; in_container $BLUE vdpctl install /vdp/configs/coord-red.click >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "an install without the module exits $rc, want 3"
start=$(cut -d' ' -f1 /proc/uptime)
load_vdp
wait_running 1 red/c.count
wait_running 2 blue/out.count
echo "    both graphs back $(awk -v s="$start" '{printf "%.1f", $1 - s}' /proc/uptime) s after insmod"
threads_in_place 1 $RED/dataplane 1
threads_in_place 2 $BLUE/dataplane 2
out=$(in_container $BLUE vdpctl show); expect_match "$out" "configuration coord-blue.click"

step "reload the module while the coordinator is down: its start brings the graphs back"
stop_coordinator
rmmod_vdp
load_vdp
expect_match "$(vdpctl info)" "tenants: 0"
start_coordinator $SYSTEM
wait_running 1 red/c.count
wait_running 2 blue/out.count
threads_in_place 1 $RED/dataplane 1
threads_in_place 2 $BLUE/dataplane 2
grep -c "installed its saved configuration" /tmp/vdpd.log | grep -qx 4 || fail "expected 4 reinstalls (2 tenants, 2 reloads)"

step "the state file holds both configurations"
cat /tmp/vdp-state.json | head -n 20
grep -q '"file_name": "coord-red.click"' /tmp/vdp-state.json || fail "red's configuration is not in the state file"
grep -q '"file_name": "coord-blue.click"' /tmp/vdp-state.json || fail "blue's configuration is not in the state file"

stop_coordinator
echo "--- coordinator log"; cat /tmp/vdpd.log
unload_vdp
echo "coordinator-resync ok"
