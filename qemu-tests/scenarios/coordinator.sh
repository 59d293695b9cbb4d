# timeout: 420
# needs: python
# The coordinator (vdpctl daemon) and the in-container commands: tenants created and their
# threads placed, two containers installing at the same moment, refusals that name their rule
# (a device not assigned, another tenant's handlers, callers in no tenant), unprivileged users
# kept off the family, a stalled client that blocks no one, and a clean SIGTERM.
. /vdp/lib.sh
SYSTEM=/vdp/configs/coord-system.toml
RED=/vdp/red BLUE=/blue
load_vdp
physical_device eth0
start_coordinator $SYSTEM

step "the coordinator created both tenants and placed their threads in their data-plane cgroups"
out=$(vdpctl stats); echo "$out"
expect_match "$out" "tenant 1 red"
expect_match "$out" "tenant 2 blue"
for id in 1 2; do
  pid=$(vdpctl tenant show --id $id -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
  want=$RED/dataplane; [ $id = 2 ] && want=$BLUE/dataplane
  [ "$(cgroup_of "$pid")" = "$want" ] || fail "tenant $id's thread $pid is in $(cgroup_of "$pid"), want $want"
done

step "both containers install at the same moment; both graphs run"
in_container $RED vdpctl install /vdp/configs/coord-red.click > /tmp/red.out 2>&1 & r=$!
in_container $BLUE vdpctl install /vdp/configs/coord-blue.click > /tmp/blue.out 2>&1 & b=$!
wait $r || { cat /tmp/red.out; fail "red's install failed"; }
wait $b || { cat /tmp/blue.out; fail "blue's install failed"; }
cat /tmp/red.out /tmp/blue.out
expect_match "$(cat /tmp/red.out)" "installed coord-red.click for tenant red: 3 elements, 1 tasks"
expect_match "$(cat /tmp/blue.out)" "installed coord-blue.click for tenant blue: 7 elements, 2 tasks, threads [0-9]+ [0-9]+"
rising() { # rising CGROUP ELEMENT.HANDLER: the value grows while we watch
  local a b
  a=$(in_container "$1" vdpctl read "$2") || fail "reading $2 in $1"
  sleep 1
  b=$(in_container "$1" vdpctl read "$2") || fail "reading $2 in $1"
  [ "$b" -gt "$a" ] || fail "$2 in $1 does not rise: $a then $b"
  echo "    $1 $2: $a -> $b"
}
rising $RED c.count
rising $BLUE out.count
step "the thread the install added is in blue's cgroup too"
sleep 1.5  # the coordinator places threads at install and checks every second
for pid in $(vdpctl stats --tenant 2 --json | tr -d ' \n' | sed -n 's/.*"thread_pids":\[\([0-9,]*\)\].*/\1/p' | tr , ' '); do
  echo "    blue thread $pid ($(cat /proc/$pid/comm)) in $(cgroup_of $pid)"
  [ "$(cgroup_of "$pid")" = "$BLUE/dataplane" ] || fail "blue thread $pid is in $(cgroup_of "$pid")"
done

step "show: the installed configuration, its tasks and their threads"
out=$(in_container $BLUE vdpctl show); echo "$out"
expect_match "$out" "tenant blue \(id 2\), cgroup /blue"
expect_match "$out" "thread 1: pid [0-9]+ \(vdp-blue/1\), cgroup /blue/dataplane$"
expect_match "$out" "u \(Unqueue\) on thread 1"
expect_match "$out" "src \(RatedSource\) on thread 0"
expect_match "$out" "\| StaticThreadSched\(u 1\);"

step "show --dot: the installed graph as Graphviz text, with the threads its tasks run on"
out=$(in_container $BLUE vdpctl show --dot); echo "$out" | head -3
expect_match "$out" '^digraph vdp \{$'
expect_match "$out" '^  subgraph "cluster_tenant_blue" \{$'
for e in src c q u out; do expect_match "$out" "^    \"blue/$e\" \[label=<"; done
expect_match "$out" '^  "blue/c":"o0" -> "blue/q":"i0" \[style=solid\];$'
expect_match "$out" '^  "blue/q":"o0" -> "blue/u":"i0" \[style=dashed\];$'
expect_match "$out" '<B>u</B>.*task on thread 1, pinned, [0-9]+ cycles'
expect_match "$out" '<B>src</B>.*task on thread 0, [0-9]+ cycles'
echo "$out" | grep -q 'red/' && fail "blue's picture shows red"
out=$(in_container $RED vdpctl stats); echo "$out"
expect_match "$out" "tenant 1 red: threads [0-9]+"
expect_match "$out" "    c +Counter"
echo "$out" | grep -q blue && fail "red's stats show blue"

step "a device not assigned to the tenant is refused; the previous graph keeps running"
out=$(expect_fail "blue uses eth1" in_container $BLUE vdpctl install /vdp/configs/coord-eth1.click)
expect_match "$out" "device 'eth1' is not assigned to this tenant"
expect_match "$out" "was not installed"
rising $BLUE out.count
out=$(in_container $BLUE vdpctl show); expect_match "$out" "configuration coord-blue.click"

step "another tenant's handlers are out of reach"
out=$(expect_fail "blue reads red's counter" in_container $BLUE vdpctl read red/c.count)
expect_match "$out" "rule: a tenant reads and writes only its own handlers"
out=$(expect_fail "blue resets red's counter" in_container $BLUE vdpctl write red/c.reset)
expect_match "$out" "rule: a tenant reads and writes only its own handlers"
out=$(expect_fail "blue names tenant red" in_container $BLUE vdpctl read --tenant red c.count)
expect_match "$out" "rule: a tenant acts only on itself"
out=$(expect_fail "blue removes red's graph" in_container $BLUE vdpctl remove --tenant red)
expect_match "$out" "rule: a tenant acts only on itself"
rc=0; in_container $BLUE vdpctl read red/c.count >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a refusal exits 1, got ${rc:-0}"
out=$(expect_fail "no such element" in_container $BLUE vdpctl read nothing.count)
expect_match "$out" "no element of this name"
rising $RED c.count

step "callers in no tenant cgroup are refused unless they are the root context"
out=$(expect_fail "root cgroup, other netns" unshare -n vdpctl show --tenant red)
expect_match "$out" "rule: callers are tenants or the root context"
expect_match "$out" "another network namespace"
out=$(expect_fail "nobody in the root netns" su nobody -s /bin/sh -c "vdpctl show --tenant red")
expect_match "$out" "is not uid 0"
out=$(vdpctl show --tenant red); expect_match "$out" "configuration coord-red.click"
[ "$(vdpctl read --tenant red c.count)" -gt 0 ] || fail "the root context reads red's counter"
# A tenant named by its id: the module's tenant 1 is red.
[ "$(vdpctl read --tenant 1 c.count)" -gt 0 ] || fail "the root context reads tenant 1's counter"
out=$(vdpctl show --tenant 1 -s); echo "$out" | tail -4
expect_match "$out" "configuration coord-red.click"
expect_match "$out" "^statistics:$"
expect_match "$out" "^  tenant 1 red: threads [0-9]+, tasks_per_yield [a-z0-9]+, wakeups [0-9]+, task runs [0-9]+$"
out=$(vdpctl -j show -s --tenant red)
[ "$(echo "$out" | wc -l)" = 1 ] || fail "show -j -s is not one line"
expect_match "$out" '"file_name":"coord-red.click"'
expect_match "$out" '"stats":\{.*"name":"red"'
out=$(expect_fail "an id the module does not have" vdpctl show --tenant 9)
expect_match "$out" "the module has no tenant with id 9"
out=$(expect_fail "root without --tenant" vdpctl show)
expect_match "$out" "pass --tenant NAME"

step "unprivileged users cannot change the module directly"
vdpctl compile --system $SYSTEM red=/vdp/configs/coord-busy.click -o /tmp/busy.vdpg >/dev/null
for cmd in "graph install --tenant 1 /tmp/busy.vdpg" "graph remove --tenant 1" "handler write --tenant 1 red/c.reset" \
           "handler read --tenant 1 red/c.count" "tenant del --id 1" "tenant add evil --id 9"; do
  out=$(expect_fail "nobody: vdpctl $cmd" su nobody -s /bin/sh -c "vdpctl $cmd")
  expect_match "$out" "Operation not permitted"
done
rising $RED c.count

step "a stalled client blocks no one, and is cut off after the read timeout"
python3 - <<'PY' &
import socket, time
s = socket.socket(socket.AF_UNIX)
s.connect("/run/vdp/vdpd.sock")
start = time.time()
open("/tmp/stalled-connected", "w").close()
data = s.recv(4096)  # sends nothing; the coordinator must give up on us
print("stalled client answered after %.1f s: %s" % (time.time() - start, data.decode().strip()))
PY
slow=$!
i=0; while [ ! -e /tmp/stalled-connected ]; do [ $i -lt 300 ] || fail "python did not connect"; sleep 0.1; i=$((i + 1)); done
readers=""
for i in 1 2; do
  in_container $RED vdpctl read c.count >/dev/null & readers="$readers $!"
  in_container $BLUE vdpctl read out.count >/dev/null & readers="$readers $!"
done
for p in $readers; do wait "$p" || fail "a concurrent read failed"; done
kill -0 $slow 2>/dev/null || fail "the reads were not answered while the stalled client still held its connection"
echo "    4 concurrent reads answered while the stalled client holds its connection"
wait $slow
grep -q "no complete request within" /tmp/vdpd.log || fail "the coordinator did not time the stalled client out"

step "a container with its own mount and PID namespaces reaches the socket through a bind mount"
mkdir -p /tmp/ctr-vdp
out=$(unshare -n -m -p -f sh -c '
  echo $$ > /sys/fs/cgroup/blue/control/cgroup.procs || exit 3
  mount --bind /run/vdp /tmp/ctr-vdp && mount -t tmpfs tmpfs /run || exit 3
  [ ! -e /run/vdp/vdpd.sock ] || { echo "the default socket is still visible"; exit 3; }
  echo "pid in the container: $$"
  VDP_SOCKET=/tmp/ctr-vdp/vdpd.sock exec vdpctl show')
echo "$out"
expect_match "$out" "pid in the container: 1"
expect_match "$out" "tenant blue \(id 2\)"

step "many installs from both containers at once: what runs is what the state file says"
writers=""
for i in 1 2 3; do
  in_container $RED vdpctl install /vdp/configs/coord-busy.click >/dev/null & writers="$writers $!"
  in_container $RED vdpctl install /vdp/configs/coord-red.click >/dev/null & writers="$writers $!"
  in_container $BLUE vdpctl install /vdp/configs/coord-blue.click >/dev/null & writers="$writers $!"
done
for p in $writers; do wait "$p" || fail "a concurrent install failed"; done
for t in "red 1" "blue 2"; do
  set -- $t
  file=$(vdpctl show --tenant "$1" -j -p | sed -n 's/.*"file_name": "\([^"]*\)".*/\1/p' | head -n1)
  vdpctl compile --system $SYSTEM "$1=/vdp/configs/$file" -o "/tmp/$1-saved.vdpg" >/dev/null
  vdpctl graph get --tenant "$2" -o "/tmp/$1-running.vdpg" >/dev/null
  cmp "/tmp/$1-saved.vdpg" "/tmp/$1-running.vdpg" || fail "tenant $1 runs something other than its saved $file"
  echo "    tenant $1 runs its saved $file"
done
in_container $RED vdpctl install /vdp/configs/coord-red.click >/dev/null
rising $RED c.count

step "remove: blue's graph goes, red's stays"
out=$(in_container $BLUE vdpctl remove); expect_match "$out" "removed coord-blue.click of tenant blue"
out=$(vdpctl stats --tenant 2); expect_match "$out" "no graph"
out=$(in_container $BLUE vdpctl show); expect_match "$out" "no configuration installed"
out=$(expect_fail "remove twice" in_container $BLUE vdpctl remove); expect_match "$out" "has no configuration installed"
rising $RED c.count
grep -q '"red"' /tmp/vdp-state.json || fail "red missing from the state file"
grep -q '"blue"' /tmp/vdp-state.json && fail "blue still in the state file"

step "exit codes: usage 2, coordinator unreachable 3"
rc=0; in_container $RED vdpctl install >/dev/null 2>&1 || rc=$?; [ "$rc" = 2 ] || fail "usage error exits $rc"
rc=0; VDP_SOCKET=/tmp/none.sock vdpctl show --tenant red >/dev/null 2>&1 || rc=$?; [ "$rc" = 3 ] || fail "no coordinator exits $rc"

step "SIGTERM: clean exit, socket removed, graphs keep running"
stop_coordinator
out=$(expect_fail "no coordinator" in_container $RED vdpctl show); expect_match "$out" "cannot reach the coordinator"
[ "$(read_handler 1 red/c.count)" -gt 0 ] || fail "red stopped"
echo "--- coordinator log"; cat /tmp/vdpd.log
for pid in $(cat /sys/fs/cgroup/vdp/red/*/cgroup.procs /sys/fs/cgroup/blue/*/cgroup.procs); do
  echo "$pid" > /sys/fs/cgroup/cgroup.procs 2>/dev/null || true
done
unload_vdp
echo "coordinator ok"
