# timeout: 420
# The element graph engine: installing compiled graphs, running tasks on the tenant's thread,
# push and pull through a Queue, handlers, hotswap, refusal of bad graphs with the old graph
# still running, per-tenant scoping, and teardown with graphs running.
. /vdp/lib.sh
load_vdp
vdpctl tenant add red --id 1 >/dev/null
vdpctl tenant add blue --id 2 >/dev/null

step "GET_INFO announces the implemented classes"
out=$(vdpctl info)
echo "$out"
expect_match "$out" "InfiniteSource"
expect_match "$out" "Queue"
expect_match "$out" "Counter"

step "InfiniteSource(LIMIT 5000) -> Counter -> Discard counts exactly 5000"
compile_for red source-count.click /tmp/red1.vdpg
vdpctl graph install --tenant 1 /tmp/red1.vdpg
wait_for_value 1 red/c.count 5000
[ "$(read_handler 1 red/c.byte_count)" = "80000" ] || fail "byte_count"
[ "$(read_handler 1 red/src.count)" = "5000" ] || fail "source count"

step "the graph reads back as installed"
vdpctl graph get --tenant 1 -o /tmp/red1.back >/dev/null
cmp /tmp/red1.vdpg /tmp/red1.back || fail "GRAPH_GET returned a different blob"

step "replace it: Queue + Unqueue deliver every packet"
compile_for red queue-unqueue.click /tmp/red2.vdpg
vdpctl graph install --tenant 1 /tmp/red2.vdpg
wait_for_value 1 red/out.count 3000
[ "$(read_handler 1 red/in.count)" = "3000" ] || fail "in count"
[ "$(read_handler 1 red/q.length)" = "0" ] || fail "queue not drained"
[ "$(read_handler 1 red/q.drops)" = "0" ] || fail "queue drops"
[ "$(read_handler 1 red/q.capacity)" = "4096" ] || fail "queue capacity"
hw=$(read_handler 1 red/q.highwater_length)
[ "$hw" -ge 1 ] && [ "$hw" -le 4096 ] || fail "highwater $hw"

step "handler writes"
vdpctl handler write --tenant 1 red/out.reset
[ "$(read_handler 1 red/out.count)" = "0" ] || fail "reset"
vdpctl handler write --tenant 1 red/src.reset
wait_for_value 1 red/out.count 3000
vdpctl handler write --tenant 1 red/q.capacity 10
[ "$(read_handler 1 red/q.capacity)" = "10" ] || fail "capacity write"
out=$(expect_fail "bad value" vdpctl handler write --tenant 1 red/q.capacity zero)
expect_match "$out" "expected an integer"
out=$(expect_fail "unknown handler" vdpctl handler read --tenant 1 red/q.nonsense)
expect_match "$out" "no such handler"
out=$(expect_fail "unknown element" vdpctl handler read --tenant 1 red/nothing.count)
expect_match "$out" "no element of this name"

step "a second tenant runs beside the first and sees only its own elements"
compile_for blue blue-idle.click /tmp/blue.vdpg
vdpctl graph install --tenant 2 /tmp/blue.vdpg
[ "$(read_handler 2 blue/c.count)" = "0" ] || fail "inactive source sent packets"
vdpctl handler write --tenant 2 blue/src.limit 100
vdpctl handler write --tenant 2 blue/src.active true
wait_for_value 2 blue/c.count 100
out=$(expect_fail "cross-tenant read" vdpctl handler read --tenant 2 red/out.count)
expect_match "$out" "no element of this name"
out=$(expect_fail "cross-tenant write" vdpctl handler write --tenant 1 blue/c.reset)
expect_match "$out" "no element of this name"

step "bad graphs are refused and the running graph is untouched"
before=$(read_handler 1 red/out.count)
head -c 100 /tmp/red2.vdpg > /tmp/truncated.vdpg
out=$(expect_fail "truncated graph" vdpctl graph install --tenant 1 /tmp/truncated.vdpg)
expect_match "$out" "invalid compiled graph"
{ head -c 4 /tmp/red2.vdpg; printf '\143\000'; tail -c +7 /tmp/red2.vdpg; } > /tmp/version.vdpg
out=$(expect_fail "wrong version" vdpctl graph install --tenant 1 /tmp/version.vdpg)
expect_match "$out" "UnsupportedVersion"
out=$(expect_fail "another tenant's graph" vdpctl graph install --tenant 1 /tmp/blue.vdpg)
expect_match "$out" "belongs to tenant 'blue'"
printf 'not a graph at all' > /tmp/garbage.vdpg
out=$(expect_fail "garbage" vdpctl graph install --tenant 1 /tmp/garbage.vdpg)
expect_match "$out" "invalid compiled graph"
[ "$(read_handler 1 red/out.count)" = "$before" ] || fail "red's graph changed"
vdpctl graph get --tenant 1 -o /tmp/red2.back >/dev/null
cmp /tmp/red2.vdpg /tmp/red2.back || fail "red's installed graph changed"

step "unprivileged users cannot install or call handlers"
out=$(expect_fail "unprivileged install" su nobody -s /bin/sh -c "vdpctl graph install --tenant 1 /tmp/red1.vdpg")
expect_match "$out" "Operation not permitted"
out=$(expect_fail "unprivileged handler read" su nobody -s /bin/sh -c "vdpctl handler read --tenant 1 red/out.count")
expect_match "$out" "Operation not permitted"

step "remove, and 30 install/remove cycles (kmemleak checks them at the end)"
vdpctl graph remove --tenant 1
out=$(expect_fail "read without graph" vdpctl handler read --tenant 1 red/out.count)
expect_match "$out" "no graph installed"
i=0
while [ $i -lt 30 ]; do
  vdpctl graph install --tenant 1 /tmp/red1.vdpg >/dev/null || fail "install $i"
  vdpctl graph remove --tenant 1 || fail "remove $i"
  i=$((i + 1))
done

step "unload with a graph still running"
vdpctl handler write --tenant 2 blue/src.limit -1
unload_vdp
echo "engine ok"
