# timeout: 300
# vdp's tracepoints (docs/tracing.md), read with the kernel's own tracefs files: the vdp event
# system and its formats; an install, a hotswap and a removal each give one event with the
# graph's figures; every packet counted in an element's drops (a full Queue, a Discard) or a
# device's (frames over the tunnel's MTU) gives exactly one vdp_drop; a capped tenant's budget
# sleeps give vdp_throttle events that add up to its throttled time; a disabled event records
# nothing.
. /vdp/lib.sh
T=/sys/kernel/tracing
SYSTEM=/vdp/configs/trace-system.toml
[ -d "$T/events" ] || mount -t tracefs tracefs "$T" || fail "cannot mount tracefs on $T"
load_vdp

# events NAME: the fields of every recorded NAME event, one line each: in the buffer (`trace`),
# or in the file READ names (what `trace_pipe` gave).
READ=$T/trace
events() { awk -v tag=" $1: " 'index($0, tag) { print substr($0, index($0, tag) + length(tag)) }' "$READ"; }
# sample NAME: the first NAME event's whole line, as tracefs prints it, for the log.
sample() { awk -v tag=" $1: " 'index($0, tag) { print "    " $0; exit }' "$READ"; }
# count NAME: how many NAME events the buffer holds.
count() { events "$1" | awk 'END { print NR }'; }
# field NAME KEY: KEY's value in every recorded NAME event.
field() { events "$1" | awk -v key="$2" '{ for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) print substr($i, length(key) + 2) }'; }
# clear: empties the buffer; the run fails later if it ever lost an event.
clear() { : > "$T/trace"; }
# no_overrun: no event was overwritten, so the counts below are all there were.
no_overrun() {
  lost=$(cat "$T"/per_cpu/cpu*/stats | awk '/^overrun:/ { s += $2 } END { print s + 0 }')
  [ "$lost" = 0 ] || fail "the trace buffer overwrote $lost events"
}
enable() { echo "$2" > "$T/events/vdp/$1/enable" || fail "cannot set $1's enable to $2"; }
stats_json() { vdpctl stats --tenant "$1" --json | tr -d ' \n'; }
json_num() { echo "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }
# index_of TENANT ELEMENT: the element's index in the tenant's running graph (STATS lists the
# elements in graph order).
index_of() { stats_json "$1" | grep -o '"name":"[^"]*","class"' | awk -v n="\"name\":\"$2\",\"class\"" '$0 == n { print NR - 1 }'; }
# element_drops TENANT: the sum of the drops of every element of the tenant's graph.
element_drops() { stats_json "$1" | grep -o '"drops":[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }'; }

step "the vdp event system and its formats are in tracefs"
for e in vdp_install vdp_swap vdp_uninstall vdp_drop vdp_throttle; do
  [ -f "$T/events/vdp/$e/format" ] || fail "no $T/events/vdp/$e"
  [ "$(cat "$T/events/vdp/$e/enable")" = 0 ] || fail "$e is enabled by default"
done
format=$(cat "$T/events/vdp/vdp_drop/format"); echo "$format"
for f in "u32 tenant" "s32 element" "u8 kind" "__data_loc char\[\] at" "__data_loc char\[\] reason"; do
  expect_match "$format" "field:$f;"
done
expect_match "$(cat "$T/events/vdp/vdp_install/format")" 'print fmt: "tenant=%u name=%s old_elements=%u elements=%u tasks=%u threads=%u bytes=%llu old_serial=%llu serial=%llu duration_ns=%llu"'
expect_match "$(cat "$T/events/vdp/vdp_throttle/format")" "field:u64 throttled_ns;"
echo 1 > "$T/tracing_on"

step "set up: tenant red (id 7) with eth1 over phys0, tenant blue (id 8)"
/usr/sbin/ip link add phys0 type veth peer name wire
/usr/sbin/ip link set phys0 address 02:00:00:00:00:01
/usr/sbin/ip link set wire up
/usr/sbin/ip link set phys0 up
vdpctl tenant add red --id 7 >/dev/null
vdpctl tenant add blue --id 8 >/dev/null
vdpctl port attach phys0 >/dev/null
vdpctl vdev add --tenant 7 eth1 --port phys0 --local 192.0.2.1 --remote 192.0.2.11 --carries ethernet --peer-mac 02:00:00:00:ff:01 >/dev/null
# 250 packets into a Queue of 100 whose Unqueue is off: the Queue drops 150.
printf 'src :: InfiniteSource(LIMIT 250, BURST 10) -> c :: Counter -> q :: Queue(100) -> u :: Unqueue(ACTIVE false) -> d :: Discard;\n' > /tmp/queue.click
# The same with every element renamed: the swap carries no state over.
printf 'src2 :: InfiniteSource(LIMIT 250, BURST 10) -> c2 :: Counter -> q2 :: Queue(100) -> u2 :: Unqueue(ACTIVE false) -> d2 :: Discard;\n' > /tmp/queue2.click
# 40 frames of 1600 bytes into eth1, whose tunnel carries at most 1500: all dropped, counted.
printf 'InfiniteSource(LENGTH 1600, LIMIT 40, BURST 5) -> Queue(100) -> tx :: ToDevice(eth1);\n' > /tmp/big.click
for g in queue queue2 big; do
  vdpctl compile --system "$SYSTEM" "red=/tmp/$g.click" -o "/tmp/$g.vdpg" >/dev/null || fail "compile $g"
done
vdpctl compile --system "$SYSTEM" "blue=/vdp/configs/busy.click" -o /tmp/busy.vdpg >/dev/null || fail "compile busy"

step "disabled events record nothing"
clear
vdpctl graph install --tenant 7 /tmp/queue.vdpg >/dev/null
wait_for_value 7 red/q.drops 150
vdpctl graph install --tenant 7 /tmp/queue2.vdpg >/dev/null
vdpctl graph remove --tenant 7
n=$(awk '/ vdp_[a-z]*: / { n++ } END { print n + 0 }' "$T/trace")
[ "$n" = 0 ] || fail "$n vdp events recorded while disabled: $(head -n 5 "$T/trace")"

step "vdp_install: one event with the tenant, its name and the graph's figures"
echo 1 > "$T/events/vdp/enable"
clear
vdpctl graph install --tenant 7 /tmp/queue.vdpg >/dev/null
wait_for_value 7 red/q.drops 150
events vdp_install
[ "$(count vdp_install)" = 1 ] || fail "$(count vdp_install) install events"
[ "$(count vdp_swap)" = 0 ] || fail "an install of a first graph gave a swap event"
json=$(stats_json 7)
elements=$(json_num "$json" element_count); tasks=$(json_num "$json" task_count)
expect_match "$(events vdp_install)" "^tenant=7 name=red old_elements=0 elements=$elements tasks=$tasks threads=1 bytes=$(wc -c < /tmp/queue.vdpg) old_serial=0 serial=[0-9]+ duration_ns=[0-9]+$"
serial=$(field vdp_install serial)

step "vdp_drop: one event per packet the Queue dropped, at its index"
no_overrun
drops=$(count vdp_drop)
echo "    $drops drop events, element drops $(element_drops 7)"
[ "$drops" = 150 ] || fail "$drops drop events, the Queue counted 150"
[ "$drops" = "$(element_drops 7)" ] || fail "$drops drop events, the elements counted $(element_drops 7)"
sample vdp_install
sample vdp_drop
q=$(index_of 7 red/q)
[ -n "$q" ] || fail "no index for red/q"
n=$(events vdp_drop | awk -v want="tenant=7 kind=element element=$q at=red/q reason=lost" '$0 == want { n++ } END { print n + 0 }')
[ "$n" = 150 ] || fail "$n of the drop events read 'tenant=7 kind=element element=$q at=red/q reason=lost': $(events vdp_drop | sort | uniq -c)"

step "vdp_drop: Discard's drops are reported as discarded, and the events match the counters"
clear
vdpctl handler write --tenant 7 red/u.active true
wait_for_value 7 red/d.count 100
no_overrun
d=$(index_of 7 red/d)
n=$(events vdp_drop | awk -v want="tenant=7 kind=element element=$d at=red/d reason=discarded" '$0 == want { n++ } END { print n + 0 }')
[ "$n" = 100 ] || fail "$n discarded events for red/d, want 100: $(events vdp_drop | sort | uniq -c)"
[ "$(count vdp_drop)" = 100 ] || fail "$(count vdp_drop) drop events, want 100"
[ "$(element_drops 7)" = 250 ] || fail "element drops $(element_drops 7), want 250"

step "vdp_swap: one event with the old and new figures, read through trace_pipe"
clear
cat "$T/trace_pipe" > /tmp/pipe & pipe=$!
vdpctl graph install --tenant 7 /tmp/queue2.vdpg >/dev/null
wait_for_value 7 red/q2.drops 150
# trace_pipe consumes what it reads: the events of this step are in /tmp/pipe, not in `trace`.
READ=/tmp/pipe
i=0
until [ "$(count vdp_drop)" -ge 150 ]; do
  [ $i -lt 100 ] || fail "trace_pipe gave $(count vdp_drop) drop events, want 150"
  sleep 0.1; i=$((i + 1))
done
kill "$pipe"; wait "$pipe" 2>/dev/null || :
no_overrun
[ "$(count vdp_swap)" = 1 ] || fail "$(count vdp_swap) swap events"
sample vdp_swap
[ "$(count vdp_install)" = 0 ] || fail "a swap gave an install event"
json=$(stats_json 7)
expect_match "$(events vdp_swap)" "^tenant=7 name=red old_elements=$elements elements=$(json_num "$json" element_count) tasks=$(json_num "$json" task_count) threads=1 bytes=$(wc -c < /tmp/queue2.vdpg) old_serial=$serial serial=[0-9]+ duration_ns=[0-9]+$"
new_serial=$(field vdp_swap serial)
[ "$new_serial" -gt "$serial" ] || fail "the new graph's serial $new_serial is not above $serial"
q2=$(index_of 7 red/q2)
n=$(events vdp_drop | awk -v want="tenant=7 kind=element element=$q2 at=red/q2 reason=lost" '$0 == want { n++ } END { print n + 0 }')
[ "$n" = 150 ] || fail "$n drop events for red/q2 after the swap, want 150"
[ "$(count vdp_drop)" = 150 ] || fail "$(count vdp_drop) drop events after the swap, want 150"
READ=$T/trace

step "vdp_uninstall: the removed graph's figures"
clear
vdpctl graph remove --tenant 7
expect_match "$(events vdp_uninstall)" "^tenant=7 name=red elements=$(json_num "$json" element_count) serial=$new_serial$"
[ "$(count vdp_uninstall)" = 1 ] || fail "$(count vdp_uninstall) uninstall events"

step "vdp_drop at a device: every frame over eth1's MTU, counted by the device"
clear
vdpctl graph install --tenant 7 /tmp/big.vdpg >/dev/null
i=0
until [ "$(vdpctl vdev show --tenant 7 eth1 | tr ',' '\n' | awk '$1 == "tx_exceeds_mtu" { print $2 }')" = 40 ]; do
  [ $i -lt 300 ] || fail "eth1 did not count 40 tx_exceeds_mtu: $(vdpctl vdev show --tenant 7 eth1); $(vdpctl stats --tenant 7 -s)"
  sleep 0.1; i=$((i + 1))
done
no_overrun
vdpctl vdev show --tenant 7 eth1
sample vdp_drop
n=$(events vdp_drop | awk '$0 == "tenant=7 kind=device_tx element=-1 at=eth1 reason=exceeds_mtu" { n++ } END { print n + 0 }')
[ "$n" = 40 ] || fail "$n device drop events, the device counted 40: $(events vdp_drop | sort | uniq -c)"
[ "$(count vdp_drop)" = 40 ] || fail "$(count vdp_drop) drop events, want 40"
vdpctl graph remove --tenant 7

step "vdp_throttle: a capped tenant's sleeps, adding up to its throttled time"
# Only vdp_throttle: the busy tenant's Discard drops millions of packets.
echo 0 > "$T/events/vdp/enable"
enable vdp_throttle 1
blue_pid=$(vdpctl tenant show --id 8 -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
mkdir /sys/fs/cgroup/blue
echo "$blue_pid" > /sys/fs/cgroup/blue/cgroup.procs
echo "20000 100000" > /sys/fs/cgroup/blue/cpu.max
clear
vdpctl graph install --tenant 8 /tmp/busy.vdpg >/dev/null
sleep 3
vdpctl graph remove --tenant 8
# A sleep under way when the graph went finishes within a period, and is recorded.
sleep 0.5
no_overrun
json=$(stats_json 8)
throttled_ns=$(json_num "$json" throttled_ns); periods=$(json_num "$json" throttled_periods)
n=$(count vdp_throttle)
echo "    $n throttle events; STATS: throttled $throttled_ns ns in $periods periods"
events vdp_throttle | tail -n 3
sample vdp_throttle
[ "$n" -ge 5 ] || fail "only $n throttle events in 3 s at 20%"
bad=$(events vdp_throttle | awk '!/^tenant=8 thread=0 slept_ns=[0-9]+ throttled_periods=[0-9]+ throttled_ns=[0-9]+ quota_ns=20000000 period_ns=100000000$/' | head -n 1)
[ -z "$bad" ] || fail "unexpected throttle event: $bad"
# Each event's throttled_ns is the total after its sleep, its own slept_ns the last step; the
# tenant's first throttle is in this trace, so the sums agree exactly, and with STATS.
sum=$(field vdp_throttle slept_ns | awk '{ s += $1 } END { printf "%.0f\n", s }')
last=$(field vdp_throttle throttled_ns | tail -n 1)
[ "$sum" = "$last" ] || fail "the sleeps add up to $sum ns, the last event says $last"
[ "$last" = "$throttled_ns" ] || fail "the last event says $last ns throttled, STATS $throttled_ns"
field vdp_throttle throttled_periods | awk -v max="$periods" 'NR > 1 && $1 < prev { print "throttled_periods went down"; exit 1 } $1 > max { print "throttled_periods above STATS"; exit 1 } { prev = $1 }' \
  || fail "throttled_periods not non-decreasing up to STATS' $periods"
[ "$periods" -gt 0 ] || fail "no throttled periods"

step "disabled again: nothing is recorded"
enable vdp_throttle 0
clear
vdpctl graph install --tenant 8 /tmp/busy.vdpg >/dev/null
vdpctl graph install --tenant 7 /tmp/queue.vdpg >/dev/null
wait_for_value 7 red/q.drops 150
sleep 1
vdpctl graph remove --tenant 8
vdpctl graph remove --tenant 7
n=$(awk '/ vdp_[a-z]*: / { n++ } END { print n + 0 }' "$T/trace")
[ "$n" = 0 ] || fail "$n vdp events recorded with every event disabled"

step "tenant deletion with a graph gives vdp_uninstall"
enable vdp_uninstall 1
vdpctl graph install --tenant 7 /tmp/queue.vdpg >/dev/null
clear
vdpctl tenant del --id 7
expect_match "$(events vdp_uninstall)" "^tenant=7 name=red elements=$elements serial=[0-9]+$"
enable vdp_uninstall 0

vdpctl tenant del --id 8
vdpctl port detach phys0 >/dev/null
unload_vdp
[ ! -d "$T/events/vdp" ] || fail "the vdp events outlived the module"
echo "tracepoints ok"
