# The STATS dump (per tenant and per element, split over several messages when large) and the
# `events` multicast group (tenant creation and deletion, graph installs and removals, route-table
# changes), through `vdpctl stats` and `vdpctl monitor`.
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
out=$(expect_fail "unknown tenant" vdpctl stats --tenant 9)
expect_match "$out" "no tenant with this id"
runs=$(vdpctl stats --tenant 1 -j -p | sed -n 's/.*"task_runs": \([0-9]*\).*/\1/p')
[ "$runs" -gt 0 ] || fail "task runs $runs"

step "STATS: large graphs span several messages and come back whole"
# 60 counters with long names: two tenants' elements do not fit one netlink message.
long=$(printf 'c%.0s' $(seq 1 180))
for t in red blue; do
  {
    printf 'src :: InfiniteSource(LIMIT 0);\n'
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
