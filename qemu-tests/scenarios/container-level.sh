# needs: python
# timeout: 900
# The container level (docs/multi-level.md): each tenant's configuration has a custom element
# between kernel elements. The coordinator cuts it out into the tenant's container engine,
# started by `vdpctl install --engine` inside the container, joined to the kernel part by the
# tenant's channel. GRE traffic crosses kernel -> container -> kernel and leaves over GRE to
# Linux's own tunnel, counted alike at every stage. Killing an engine under traffic costs its
# tenant only the packets that cross (counted), the other tenant nothing; a restart picks up
# again. Two tenants' classes of one name stay apart, and an element that hangs stops only its
# own engine, within the time limit.
. /vdp/lib.sh
. /vdp/gre-topology.sh
PY="python3 /vdp/packets.py"
load_vdp
# Blue's channel has rings of 64 slots (channel_slots), red's the default 256.
awk '{ print } /^name = "blue"$/ { print "channel_slots = 64" }' "$SYSTEM" > /tmp/system.toml
grep -q '^channel_slots = 64$' /tmp/system.toml || fail "could not write the system config"
start_coordinator /tmp/system.toml
for t in red blue; do mkdir -p /sys/fs/cgroup/vdp/$t; done
DIR=/run/vdp-engine

# engine_pid TENANT: the pid of the tenant's running engine, from its pid file.
engine_pid() { cat "$DIR/$1.pid"; }
# kread TENANT ELEMENT.HANDLER: a handler of the tenant's kernel part, read from its container.
kread() { t=$1; shift; in_container /vdp/$t vdpctl read "$@"; }
# cread TENANT ELEMENT.HANDLER: a handler of the tenant's container part, read from its engine.
cread() { t=$1; shift; in_container /vdp/$t vdpctl engine read --tenant "$t" "$@"; }
# udp TENANT COUNT RATE: COUNT datagrams from TENANT-a to TENANT-b; prints how many arrived.
udp() {
  udp_receiver "$1-b" 5000 "$2" 30 "/tmp/udp-$1"
  in_ns "$1-a" $PY udp-send 10.2.0.2 5000 "$2" "$3"
  wait $RECEIVER || fail "$1's receiver failed"
  cat "/tmp/udp-$1"
}

step "red installs its router with FlowSampler from inside its container; its engine starts"
out=$(in_container /vdp/red vdpctl install --engine /usr/bin/flow-sampler-engine /vdp/configs/container-red.click 2>&1) \
  || fail "red's install failed: $out"
echo "$out"
expect_match "$out" "container part: 3 elements, 2 boundaries"
expect_match "$out" "container engine of tenant red runs as pid"
pid=$(engine_pid red)
[ "$(cgroup_of "$pid")" = /vdp/red/control ] || fail "red's engine runs in $(cgroup_of "$pid"), not red's container"
[ "$(readlink /proc/$pid/fd/3)" = /dev/vdp ] || fail "red's engine holds $(readlink /proc/$pid/fd/3) as its channel"
show=$(in_container /vdp/red vdpctl show)
expect_match "$show" "container engine: 3 elements"
expect_match "$show" "sampler \(FlowSampler\): pinned: class FlowSampler runs only in the container"
expect_match "$show" "replaces c_in \[0\] -> \[0\] sampler \(container-red.click:[0-9]+:[0-9]+\)"

step "blue installs a plain router (kernel only)"
out=$(in_container /vdp/blue vdpctl install /vdp/configs/gre-router.click 2>&1) || fail "blue's install failed: $out"
expect_match "$out" "threads"
echo "$out" | grep -q "container part" && fail "blue's plain router got a container part: $out"

step "red's traffic crosses kernel -> container -> kernel, counted alike at every stage"
in_ns red-a ping -c 3 -w 30 10.2.0.2 >/dev/null || fail "red's ping through its container engine"
got=$(udp red 200 100)
echo "    red: $got of 200 datagrams arrived"
if [ "$got" != 200 ]; then
  # Where they went: the boundaries' and devices' counters, and the engine's log.
  vdpctl vdev show --tenant 1; vdpctl stats --tenant 1; cat /run/vdp-engine/red.log
  fail "red lost datagrams with its engine running: $got of 200"
fi
n=$(kread red c_in.count)
[ "$n" -ge 203 ] || fail "c_in counted $n, want at least 203"
for stage in "kread red k2c0@boundary.count" "cread red k2c0@boundary.count" "cread red sampler.seen" "cread red sampler.sampled" \
             "cread red c2k0@boundary.count" "kread red c2k0@boundary.count" "kread red c_out.count"; do
  v=$($stage) || fail "$stage failed"
  echo "    $stage = $v"
  [ "$v" = "$n" ] || fail "$stage is $v, but c_in counted $n"
done
[ "$(kread red k2c0@boundary.drops)" = 0 ] || fail "red's boundary dropped with the engine running"
# `vdpctl read` and `write` reach the container part too: the coordinator says the element runs
# in red's engine, and the client asks the engine in red's container.
[ "$(kread red sampler.seen)" = "$n" ] || fail "vdpctl read sampler.seen gave $(kread red sampler.seen), want $n"
in_container /vdp/red vdpctl write sampler.n 2 || fail "vdpctl write sampler.n from red's container"
[ "$(cread red sampler.n)" = 2 ] || fail "vdpctl write did not reach red's engine: n is $(cread red sampler.n)"
out=$(expect_fail "a read of a handler the engine's element lacks" in_container /vdp/red vdpctl read sampler.nosuch)
expect_match "$out" "sampler.nosuch: no such handler"
in_container /vdp/red vdpctl write sampler.n 1 || fail "vdpctl write sampler.n 1"

step "red's engine is killed under traffic: red's kernel part counts the drops, blue loses nothing"
udp_receiver red-b 5000 400 20 /tmp/udp-red; red_rx=$RECEIVER
udp_receiver blue-b 5001 400 20 /tmp/udp-blue; blue_rx=$RECEIVER
in_ns red-a $PY udp-send 10.2.0.2 5000 400 40 & red_tx=$!
in_ns blue-a $PY udp-send 10.2.0.2 5001 400 40 & blue_tx=$!
sleep 3
kill -KILL "$(engine_pid red)"
wait $red_tx; wait $blue_tx
wait $red_rx || fail "red's receiver failed"
wait $blue_rx || fail "blue's receiver failed"
echo "    during the kill: red got $(cat /tmp/udp-red) of 400, blue $(cat /tmp/udp-blue) of 400"
[ "$(cat /tmp/udp-blue)" = 400 ] || fail "blue lost datagrams while red's engine died: $(cat /tmp/udp-blue) of 400"
[ "$(cat /tmp/udp-red)" -lt 400 ] || fail "red got every datagram although its engine was killed"
stats=$(kread red k2c0@boundary.stats)
echo "$stats" | sed 's/^/    /'
drops=$(kread red k2c0@boundary.drops)
[ "$drops" -gt 0 ] || fail "red's ToContainer counted no drops with its engine dead"
in_container /vdp/red vdpctl engine status --tenant red >/dev/null && fail "red's engine status says it runs"

step "the engine restarts on a fresh channel and red's traffic resumes"
out=$(in_container /vdp/red vdpctl engine start --engine /usr/bin/flow-sampler-engine 2>&1) || fail "the restart failed: $out"
echo "$out"
# The new engine starts its own counts; the kernel's go on.
c_in_at_restart=$(kread red c_in.count)
in_ns red-a ping -c 3 -w 30 10.2.0.2 >/dev/null || fail "red does not forward after its engine restarted"
got=$(udp red 100 100)
[ "$got" = 100 ] || fail "red lost datagrams after the restart: $got of 100"
[ "$(kread red k2c0@boundary.drops)" = "$drops" ] || fail "red's boundary dropped again after the restart"

step "two tenants' FlowSampler classes stay apart"
out=$(in_container /vdp/red vdpctl install --engine /usr/bin/flow-sampler-engine /vdp/configs/container-blue.click 2>&1) \
  && fail "red's engine accepted blue's FlowSampler(COLOR 7): $out"
echo "$out" | head -3
expect_match "$out" "container-blue.click:[0-9]+:[0-9]+"
out=$(in_container /vdp/blue vdpctl install --engine /usr/bin/vdp-test-engine /vdp/configs/container-blue.click 2>&1) \
  || fail "blue's install with its own FlowSampler failed: $out"
echo "$out"
grep -q "over a channel of 1 rings of 64 slots" "$DIR/blue.log" || fail "blue's channel is not of 64 slots: $(cat "$DIR/blue.log")"
grep -q "over a channel of 1 rings of 256 slots" "$DIR/red.log" || fail "red's channel is not of 256 slots: $(cat "$DIR/red.log")"
got=$(udp blue 50 100)
[ "$got" = 50 ] || fail "blue lost datagrams through its engine: $got of 50"
red_seen=$(cread red sampler.seen)
blue_painted=$(cread blue sampler.painted)
echo "    red's sampler saw $red_seen, blue's painted $blue_painted"
[ "$blue_painted" = "$(kread blue c_in.count)" ] || fail "blue's FlowSampler painted $blue_painted, blue's c_in counted $(kread blue c_in.count)"
since=$(( $(kread red c_in.count) - c_in_at_restart ))
[ "$red_seen" = "$since" ] || fail "red's FlowSampler saw $red_seen since its restart, red's c_in counted $since"
cread red sampler.painted >/dev/null 2>&1 && fail "red's engine answers blue's handler"

step "an element that hangs stops only its own engine, within the time limit"
out=$(in_container /vdp/blue vdpctl install --engine /usr/bin/vdp-test-engine --time-limit-ms 300 /vdp/configs/container-hang.click 2>&1) \
  || fail "blue's install with Hang failed: $out"
hung=$(engine_pid blue)
in_ns blue-a ping -c 6 -i 0.5 -w 10 10.2.0.2 > /tmp/hang-ping 2>&1 && fail "all six pings came back through an element that hangs: $(cat /tmp/hang-ping)"
expect_match "$(cat /tmp/hang-ping)" " 3 packets received"
i=0
while [ -d /proc/$hung ]; do
  [ "$i" -lt 100 ] || fail "blue's hung engine still runs 10 s after its element hung"
  sleep 0.1; i=$((i + 1))
done
log=$(cat $DIR/blue.log)
expect_match "$log" "time limit"
expect_match "$log" "'blue/h' \(Hang\)"
echo "$log" | grep -E "time limit" | tail -1 | sed 's/^/    /'
got=$(udp red 100 100)
[ "$got" = 100 ] || fail "red lost datagrams after blue's engine hung: $got of 100"
before=$(kread blue k2c0@boundary.drops)
in_ns blue-a ping -c 2 -w 3 10.2.0.2 >/dev/null 2>&1 && fail "blue's pings crossed a container part whose engine is gone"
after=$(kread blue k2c0@boundary.drops)
[ "$after" -gt "$before" ] || fail "blue's kernel part did not count the packets its dead engine could not take ($before, then $after)"

out=$(in_container /vdp/red vdpctl engine stop --tenant red) || fail "red's engine did not stop"
expect_match "$out" "stopped the container engine of tenant red"
stop_coordinator
vdpctl tenant del --id 1 >/dev/null
vdpctl tenant del --id 2 >/dev/null
unload_vdp
