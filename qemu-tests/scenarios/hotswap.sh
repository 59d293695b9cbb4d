# Hotswap keeps the state of elements that keep their name and class: the Queue's packets move to
# the new graph's Queue, and counters (Counter, Unqueue's and Discard's counts) go on from where
# they were, also when the graph is replaced under a running source. Sources start afresh.
. /vdp/lib.sh
load_vdp
vdpctl tenant add red --id 1 >/dev/null
for g in held drain running; do compile_for red hotswap-$g.click /tmp/$g.vdpg; done

step "first graph: the source fills the queue, nothing drains it"
vdpctl graph install --tenant 1 /tmp/held.vdpg >/dev/null
wait_for_value 1 red/q.length 1000
[ "$(read_handler 1 red/in.count)" = "1000" ] || fail "in count"
[ "$(read_handler 1 red/out.count)" = "0" ] || fail "packets left the held queue"

step "swap in a graph that drains: the queued packets come out of the new graph"
vdpctl graph install --tenant 1 /tmp/drain.vdpg >/dev/null
wait_for_value 1 red/out.count 1000
[ "$(read_handler 1 red/q.length)" = "0" ] || fail "queue not drained"
[ "$(read_handler 1 red/q.drops)" = "0" ] || fail "queue drops"
[ "$(read_handler 1 red/q.highwater_length)" = "1000" ] || fail "highwater did not carry over"
[ "$(read_handler 1 red/in.count)" = "1000" ] || fail "Counter count did not carry over"
[ "$(read_handler 1 red/in.byte_count)" = "64000" ] || fail "Counter byte_count did not carry over"
[ "$(read_handler 1 red/src.count)" = "0" ] || fail "the new source did not start afresh"
[ "$(read_handler 1 red/uq.count)" = "1000" ] || fail "Unqueue count"

step "swap again while the source runs: no packet is lost or counted twice"
vdpctl handler write --tenant 1 red/src.limit 100000
wait_running() {
  local i=0 n
  while [ $i -lt 300 ]; do
    n=$(read_handler 1 red/in.count)
    [ "$n" -gt 3000 ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  fail "source did not run (in.count $n)"
}
wait_running
before=$(read_handler 1 red/src.count)
vdpctl graph install --tenant 1 /tmp/running.vdpg >/dev/null
echo "    old source had sent $before packets shortly before the install"
[ "$before" -lt 100000 ] || fail "the source finished before the swap"
wait_for_value 1 red/src.count 20000 120
wait_for_value 1 red/q.length 0
in=$(read_handler 1 red/in.count); out=$(read_handler 1 red/out.count); drops=$(read_handler 1 red/q.drops)
echo "    in $in, out $out, queue drops $drops"
# Everything counted in went through the shared queue and came out, or was dropped there.
[ $((out + drops)) = "$in" ] || fail "out $out + drops $drops != in $in"
[ "$in" -ge $((1000 + before + 20000)) ] || fail "in.count $in lost packets counted before the swap"
[ "$(read_handler 1 red/q.capacity)" = "2048" ] || fail "new capacity"

step "a renamed element starts afresh"
sed 's/out :: Counter/out2 :: Counter/; s/-> out ->/-> out2 ->/' /vdp/configs/hotswap-running.click | sed "s/LIMIT 20000/LIMIT 0/" > /tmp/renamed.click
vdpctl compile --system /vdp/configs/engine-system.toml red=/tmp/renamed.click -o /tmp/renamed.vdpg >/dev/null
vdpctl graph install --tenant 1 /tmp/renamed.vdpg >/dev/null
[ "$(read_handler 1 red/out2.count)" = "0" ] || fail "out2 inherited a count"
[ "$(read_handler 1 red/in.count)" = "$in" ] || fail "in.count lost"

unload_vdp
echo "hotswap ok"
