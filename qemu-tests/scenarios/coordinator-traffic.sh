# needs: python
# timeout: 600
# The coordinator with real traffic: both containers install their routers at once, and their GRE
# devices carry pings and UDP; each tenant's kthread is billed to its cgroup while it forwards; a
# configuration naming a device the tenant does not have is refused while the running router
# keeps forwarding.
. /vdp/lib.sh
. /vdp/gre-topology.sh
PY="python3 /vdp/packets.py"
load_vdp
start_coordinator $SYSTEM
for t in red blue; do mkdir -p /sys/fs/cgroup/vdp/$t; done

step "both containers install the router at the same moment"
in_container /vdp/red vdpctl install /vdp/configs/gre-router.click > /tmp/red.out 2>&1 & r=$!
in_container /vdp/blue vdpctl install /vdp/configs/gre-router.click > /tmp/blue.out 2>&1 & b=$!
wait $r || { cat /tmp/red.out; fail "red's install failed"; }
wait $b || { cat /tmp/blue.out; fail "blue's install failed"; }
cat /tmp/red.out /tmp/blue.out

step "traffic crosses both tenants' routers"
in_ns red-a ping -c 3 -w 30 10.2.0.2 >/dev/null || fail "red ping"
in_ns blue-a ping -c 3 -w 30 10.2.0.2 >/dev/null || fail "blue ping"
[ "$(in_container /vdp/red vdpctl read p2/tx.count)" = 3 ] || fail "red's eth2 did not send 3 frames"

step "each tenant's data plane holds its cpu_share as cpu.max; its processes sit beside it"
for t in red blue; do
  [ "$(cat /sys/fs/cgroup/vdp/$t/dataplane/cpu.max)" = "40000 100000" ] || fail "$t's dataplane cpu.max is $(cat /sys/fs/cgroup/vdp/$t/dataplane/cpu.max)"
  [ "$(cat /sys/fs/cgroup/vdp/$t/cpu.max)" = "max 100000" ] || fail "$t's own cpu.max is $(cat /sys/fs/cgroup/vdp/$t/cpu.max), want max"
  [ -z "$(cat /sys/fs/cgroup/vdp/$t/cgroup.procs)" ] || fail "$t's cgroup holds processes itself: $(cat /sys/fs/cgroup/vdp/$t/cgroup.procs)"
done

step "red's cgroup is billed while red forwards"
usage() { sed -n 's/usage_usec //p' /sys/fs/cgroup/vdp/$1/cpu.stat; }
pid=$(vdpctl tenant show --id 1 -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
[ "$(cgroup_of "$pid")" = /vdp/red/dataplane ] || fail "red's thread is in $(cgroup_of "$pid")"
before=$(usage red)
thread_before=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
udp_receiver red-b 5000 3000 20 /tmp/udp
in_ns red-a $PY udp-send 10.2.0.2 5000 3000
wait $RECEIVER  # not a bare wait: the coordinator runs in the background too
after=$(usage red)
thread_after=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
echo "    red forwarded $(cat /tmp/udp) datagrams; cgroup usage +$((after - before)) us, thread +$((thread_after - thread_before)) ticks"
[ "$(cat /tmp/udp)" -gt 0 ] || fail "no datagram crossed red's router"
[ "$after" -gt "$before" ] || fail "red's cgroup was not billed"

step "a configuration naming a device red does not have is refused; red keeps forwarding"
printf 'FromDevice(eth7) -> Discard;\n' > /tmp/bad.click
out=$(in_container /vdp/red vdpctl install /tmp/bad.click 2>&1) && fail "the install was accepted: $out"
echo "$out"
expect_match "$out" "eth7"
in_ns red-a ping -c 2 -w 20 10.2.0.2 >/dev/null || fail "red stopped forwarding after the refusal"

stop_coordinator
vdpctl tenant del --id 1 >/dev/null
vdpctl tenant del --id 2 >/dev/null
unload_vdp
