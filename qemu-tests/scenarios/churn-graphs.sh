# needs: python
# timeout: 900
# Graph churn beside exact forwarding: blue installs and removes its graph CHURN_ITERATIONS
# times in a tight loop (vdpctl graph cycle: one process, one netlink socket, so the figure is
# the module's rate and not process start-up), while red's router forwards a paced UDP stream over
# its GRE tunnels. Every datagram must arrive: red's eth1 rx, red's Counter, red's eth2 tx, the
# receiving host's tunnel device and its UDP socket all count the number sent.
CHURN_ITERATIONS=10000
# red's stream: PACKETS datagrams at RATE per second, well within red's share of the CPU.
PACKETS=4000
RATE=100
. /vdp/lib.sh
PY="python3 /vdp/packets.py"
load_vdp
. /vdp/gre-topology.sh

step "red runs its router over eth1/eth2; blue's churn graph runs a few packets each time"
vdpctl system apply "$SYSTEM" >/dev/null
vdpctl compile --system "$SYSTEM" "red=/vdp/configs/gre-router.click" -o /tmp/red.vdpg >/dev/null
vdpctl graph install --tenant 1 /tmp/red.vdpg >/dev/null
# A source, a queue and a task: each install starts blue's thread on a few packets.
cat > /tmp/churn.click <<'EOF'
src :: InfiniteSource(LENGTH 60, LIMIT 20, BURST 4);
src -> c :: Counter -> q :: Queue(64) -> Unqueue(BURST 8) -> Discard;
EOF
vdpctl compile --system "$SYSTEM" "blue=/tmp/churn.click" -o /tmp/blue.vdpg >/dev/null
in_ns red-a ping -c 2 -w 20 10.2.0.2 >/dev/null || fail "red's router does not forward before the churn"
base_rx=$(counter 1 eth1 rx_packets) base_tx=$(counter 1 eth2 tx_packets)
base_count=$(read_handler 1 red/p1/frames.count)
# host_rx: packets red-b's own tunnel device received (after GRE decapsulation).
host_rx() { /usr/sbin/ip -n red-b -s link show t-red-b | awk '/RX:/ { getline; print $2 }'; }
base_host=$(host_rx)

step "blue: $CHURN_ITERATIONS installs and removals; red: $PACKETS datagrams at $RATE/s meanwhile"
vdpctl graph cycle --tenant 2 /tmp/blue.vdpg --count "$CHURN_ITERATIONS" > /tmp/churn.out 2>&1 &
CHURN=$!
udp_receiver red-b 7100 "$PACKETS" 30 /tmp/udp-b; RECV=$RECEIVER
send_start=$(cut -d' ' -f1 /proc/uptime)
/usr/sbin/ip netns exec red-a $PY udp-send 10.2.0.2 7100 "$PACKETS" "$RATE"
send_end=$(cut -d' ' -f1 /proc/uptime)
churning=yes
kill -0 "$CHURN" 2>/dev/null || churning=no
echo "    sent $PACKETS datagrams from ${send_start}s to ${send_end}s; churn still running at the end: $churning"
wait "$RECV"
wait "$CHURN" || { cat /tmp/churn.out; fail "the churn failed"; }
cat /tmp/churn.out
grep -q "^$CHURN_ITERATIONS install/remove cycles in " /tmp/churn.out \
  || fail "the churn did not complete $CHURN_ITERATIONS installs and removals"
[ "$churning" = yes ] || fail "the churn ended before the stream did: raise CHURN_ITERATIONS or lower PACKETS"

step "0 lost: every datagram counted at every point"
got=$(cat /tmp/udp-b)
rx=$(( $(counter 1 eth1 rx_packets) - base_rx ))
tx=$(( $(counter 1 eth2 tx_packets) - base_tx ))
count=$(( $(read_handler 1 red/p1/frames.count) - base_count ))
host=$(( $(host_rx) - base_host ))
echo "CHURN-GRAPHS sent=$PACKETS eth1_rx=$rx counter=$count eth2_tx=$tx host_rx=$host received=$got"
vdpctl vdev show --tenant 1
in_ns red-b cat /proc/net/snmp | grep '^Udp:'
in_ns far ip -s link show wire
[ "$rx" = "$PACKETS" ] || fail "red's eth1 received $rx of $PACKETS"
[ "$count" = "$PACKETS" ] || fail "red's Counter counted $count of $PACKETS"
[ "$tx" = "$PACKETS" ] || fail "red's eth2 sent $tx of $PACKETS"
[ "$host" = "$PACKETS" ] || fail "red-b's tunnel device received $host of $PACKETS"
[ "$got" = "$PACKETS" ] || fail "red-b's UDP socket received $got of $PACKETS"
expect_fail "blue's graph should be gone" vdpctl graph get --tenant 2 >/dev/null

step "teardown"
unload_vdp
