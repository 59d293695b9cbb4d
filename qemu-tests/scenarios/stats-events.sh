# The STATS dump (per tenant and per element with its packet counters, split over several
# messages when large) and the `events` multicast group (tenant creation and deletion, graph
# installs and removals, route-table changes), through `vdpctl stats` and `vdpctl monitor`.
. /vdp/lib.sh
load_vdp

# start_monitor COUNT: runs `vdpctl monitor` in the background until it has joined the group.
start_monitor() {
  rm -f /tmp/events /tmp/monitor.err
  vdpctl monitor --count "$1" --timeout 60 > /tmp/events 2> /tmp/monitor.err &
  monitor=$!
  local i=0
  until grep -q "monitoring events" /tmp/monitor.err 2>/dev/null; do
    [ $i -lt 100 ] || fail "monitor did not start: $(cat /tmp/monitor.err)"
    sleep 0.1; i=$((i + 1))
  done
}
# stop_monitor: waits for the monitor to see its events; they are left in $events.
stop_monitor() {
  local rc=0
  wait "$monitor" || rc=$?
  [ $rc = 0 ] || fail "monitor exited $rc: $(cat /tmp/monitor.err) after: $(cat /tmp/events)"
  events=$(cat /tmp/events)
  echo "$events"
}

step "events: tenants and graphs"
start_monitor 7
vdpctl tenant add red --id 1 >/dev/null
vdpctl tenant add blue --id 2 >/dev/null
compile_for red source-count.click /tmp/red.vdpg
vdpctl graph install --tenant 1 /tmp/red.vdpg >/dev/null
vdpctl graph remove --tenant 1
vdpctl graph install --tenant 1 /tmp/red.vdpg >/dev/null
vdpctl tenant del --id 1
stop_monitor
expect_match "$(echo "$events" | sed -n 1p)" "^tenant-new tenant=1 name=red pid=[0-9]+"
expect_match "$(echo "$events" | sed -n 2p)" "^tenant-new tenant=2 name=blue"
expect_match "$(echo "$events" | sed -n 3p)" "^graph-install tenant=1 elements=3 tasks=1$"
expect_match "$(echo "$events" | sed -n 4p)" "^graph-remove tenant=1$"
expect_match "$(echo "$events" | sed -n 5p)" "^graph-install tenant=1 elements=3 tasks=1$"
expect_match "$(echo "$events" | sed -n 6p)" "^graph-remove tenant=1$"
expect_match "$(echo "$events" | sed -n 7p)" "^tenant-del tenant=1 name=red$"

step "events need CAP_NET_ADMIN"
out=$(expect_fail "unprivileged monitor" su nobody -s /bin/sh -c "vdpctl monitor --count 1 --timeout 5")
expect_match "$out" "Operation not permitted"

step "events: route-table changes carry the write, other handler writes are silent"
printf 'rt :: RadixIPLookup(10.0.0.0/8 0);\nInfiniteSource(LIMIT 0) -> c :: Counter -> rt -> Discard;\n' > /tmp/rt.click
vdpctl compile --system /vdp/configs/engine-system.toml blue=/tmp/rt.click -o /tmp/rt.vdpg >/dev/null
vdpctl graph install --tenant 2 /tmp/rt.vdpg >/dev/null
start_monitor 2
vdpctl handler write --tenant 2 blue/c.reset
vdpctl handler write --tenant 2 blue/rt.add "192.168.0.0/16 0"
expect_fail "duplicate route" vdpctl handler write --tenant 2 blue/rt.add "192.168.0.0/16 0" >/dev/null
vdpctl handler write --tenant 2 blue/rt.remove "10.0.0.0/8"
stop_monitor
expect_match "$(echo "$events" | sed -n 1p)" '^table-change tenant=2 element=blue/rt handler=add value="192.168.0.0/16 0"$'
expect_match "$(echo "$events" | sed -n 2p)" '^table-change tenant=2 element=blue/rt handler=remove value="10.0.0.0/8"$'
vdpctl graph remove --tenant 2

step "STATS: one line per tenant, elements with their classes"
vdpctl tenant add red --id 1 >/dev/null
vdpctl graph install --tenant 1 /tmp/red.vdpg >/dev/null
out=$(vdpctl stats)
echo "$out"
expect_match "$out" "tenant 1 red: thread [0-9]+, tasks_per_yield auto, threads 1, wakeups [0-9]+, task runs [0-9]+"
expect_match "$out" "graph: 3 elements, 1 tasks"
expect_match "$out" "red/src +InfiniteSource"
expect_match "$out" "tenant 2 blue: .*"
expect_match "$out" "  no graph"
pid=$(vdpctl tenant show --id 1 | sed -n 's/.*thread \([0-9]*\).*/\1/p' | head -n1)
out=$(vdpctl stats --tenant 1 -j -p)
expect_match "$out" "\"thread_pid\": $pid"
expect_match "$out" '"class": "Counter"'
echo "$out" | grep -q '"name": "blue"' && fail "--tenant 1 showed blue"
out=$(su nobody -s /bin/sh -c "vdpctl stats") || fail "STATS needs no privilege: $out"
expect_match "$out" "tenant 1 red"
# The devices' caps come from VDEV_GET, which needs CAP_NET_ADMIN: said, not an error.
expect_match "$out" "devices: their caps and counters need CAP_NET_ADMIN"
out=$(vdpctl stats)
echo "$out" | grep -q "need CAP_NET_ADMIN" && fail "root's stats said the devices need CAP_NET_ADMIN"
out=$(expect_fail "unknown tenant" vdpctl stats --tenant 9)
expect_match "$out" "no tenant with this id"
runs=$(vdpctl stats --tenant 1 -j -p | sed -n 's/.*"task_runs": \([0-9]*\).*/\1/p')
[ "$runs" -gt 0 ] || fail "task runs $runs"

step "STATS -s: each element's packets in, out and drops, and a queue's length, exactly"
# 250 packets into a Queue of 100 whose Unqueue is off: the queue holds 100 and drops 150.
vdpctl graph remove --tenant 1
printf 'src :: InfiniteSource(LIMIT 250, BURST 10) -> c :: Counter -> q :: Queue(100) -> u :: Unqueue(ACTIVE false) -> d :: Discard;\n' > /tmp/counted.click
vdpctl compile --system /vdp/configs/engine-system.toml red=/tmp/counted.click -o /tmp/counted.vdpg >/dev/null || fail "compile counted"
vdpctl graph install --tenant 1 /tmp/counted.vdpg >/dev/null
wait_for_value 1 red/c.count 250
wait_for_value 1 red/q.drops 150
# row ELEMENT: its in, out, drops and queue columns in `vdpctl stats -s`.
row() { vdpctl stats --tenant 1 -s | awk -v name="red/$1" '$1 == name { print $3, $4, $5, $6 }'; }
# expect_row ELEMENT IN OUT DROPS QUEUE: polls briefly (the thread may still be finishing the
# push that the handler already counted), then insists.
expect_row() {
  local i=0 got
  while got=$(row "$1"); [ "$got" != "$2 $3 $4 $5" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
  [ "$got" = "$2 $3 $4 $5" ] || fail "red/$1: in out drops queue '$got', want '$2 $3 $4 $5'"
}
vdpctl stats --tenant 1 -s
expect_match "$(vdpctl stats --tenant 1 -s)" "^    name +class +in +out +drops +queue$"
expect_row src 0 250 0 -
expect_row c 250 250 0 -
expect_row q 250 0 150 100/100
expect_row u 0 0 0 -
vdpctl handler write --tenant 1 red/u.active true
wait_for_value 1 red/d.count 100
expect_row q 250 100 150 0/100
expect_row u 100 100 0 -
expect_row d 100 0 100 -
out=$(vdpctl stats --tenant 1 --json | tr -d ' \n')
expect_match "$out" '"name":"red/q","class":"Queue","root":false,"packets_in":250,"packets_out":100,"drops":150,"queue":\{"length":0,"capacity":100\}'
expect_match "$out" '"name":"red/c","class":"Counter","root":false,"packets_in":250,"packets_out":250,"drops":0,"queue":null'
vdpctl graph remove --tenant 1

step "STATS: large graphs span several messages and come back whole"
# 60 counters with long names: two tenants' elements do not fit one netlink message.
long=$(printf 'c%.0s' $(seq 1 180))
for t in red blue; do
  {
    printf 'src :: InfiniteSource(LIMIT 7);\n'
    i=1; while [ $i -le 60 ]; do printf '%s%02d :: Counter;\n' "$long" $i; i=$((i + 1)); done
    printf 'src'; i=1; while [ $i -le 60 ]; do printf ' -> %s%02d' "$long" $i; i=$((i + 1)); done
    printf ' -> Discard;\n'
  } > /tmp/big-$t.click
  sed 's/max_elements = 64/max_elements = 64/' /vdp/configs/engine-system.toml > /tmp/system.toml
  vdpctl compile --system /tmp/system.toml $t=/tmp/big-$t.click -o /tmp/big-$t.vdpg >/dev/null || fail "compile big $t"
done
vdpctl graph install --tenant 1 /tmp/big-red.vdpg >/dev/null
vdpctl graph install --tenant 2 /tmp/big-blue.vdpg >/dev/null
vdpctl stats -j -p > /tmp/stats.json
[ "$(grep -c '"class": "Counter"' /tmp/stats.json)" = 120 ] || fail "counters in the dump: $(grep -c '"class": "Counter"' /tmp/stats.json)"
# 62 elements in one push chain, deeper than the kernel's 32: the front end splits it once
# (a Queue and an Unqueue), so each graph holds 64.
[ "$(grep -c '"element_count": 64' /tmp/stats.json)" = 2 ] || fail "element counts"
[ "$(grep -c "\"name\": \"red/${long}37\"" /tmp/stats.json)" = 1 ] || fail "an element repeated or missing"
# Each source sent 7 packets down its chain: every element after it took 7 in (the 60
# Counters, the Queue and Unqueue of the split, the Discard) and every one before the Discard
# passed 7 on, in every part of the dump.
i=0
until [ "$(grep -c '"packets_in": 7,' /tmp/stats.json)" = 126 ] || [ $i -ge 50 ]; do
  sleep 0.2; i=$((i + 1)); vdpctl stats --json > /tmp/stats.json
done
[ "$(grep -c '"packets_in": 7,' /tmp/stats.json)" = 126 ] || fail "elements with 7 packets in: $(grep -c '"packets_in": 7,' /tmp/stats.json), want 126"
[ "$(grep -c '"packets_out": 7,' /tmp/stats.json)" = 126 ] || fail "elements with 7 packets out: $(grep -c '"packets_out": 7,' /tmp/stats.json), want 126"
[ "$(grep -c '"drops": 7,' /tmp/stats.json)" = 2 ] || fail "Discards with 7 drops: $(grep -c '"drops": 7,' /tmp/stats.json), want 2"

step "the dump ends after the highest tenant id"
# The dump's position is the next tenant id, one past u32::MAX after tenant 4294967295; it once
# wrapped back to that tenant and the dump never ended.
vdpctl tenant add top --id 4294967295 >/dev/null || fail "tenant add --id 4294967295"
timeout 30 vdpctl stats -j -p > /tmp/stats-top.json || fail "STATS with tenant 4294967295 did not end (exit $?)"
[ "$(grep -c '"id": 4294967295' /tmp/stats-top.json)" = 1 ] || fail "tenant 4294967295 not in the dump once: $(grep -c '"id": 4294967295' /tmp/stats-top.json)"
[ "$(grep -c '"class": "Counter"' /tmp/stats-top.json)" = 120 ] || fail "the other tenants' counters after tenant 4294967295"
vdpctl tenant del --id 4294967295 >/dev/null || fail "tenant del --id 4294967295"

unload_vdp
echo "stats-events ok"
