# needs: python
# timeout: 300
# Click's standard IP router, as Click's documentation lays it out (configs/std-router.click),
# runs in a tenant between Linux hosts behind two gretap tunnels, with no static neighbour entry
# anywhere: ARP on both sides, a time-exceeded for TTL 1, a 1500-byte datagram fragmented for
# eth2's 1400-byte link when DF is clear, fragmentation-needed with MTU 1400 when DF is set
# (and the sender's route cache keeps it), and the router's own packets out to its host device.
. /vdp/lib.sh
load_vdp
. /vdp/gre-topology.sh
SYSTEM=/vdp/configs/std-router-system.toml
PY="python3 /vdp/probe.py"
T=1

step "topology: gretap hosts blue-a (MTU 1500) and blue-b (MTU 1400), blue-h for the host device"
# The wire carries 1500-byte inner frames in their outer headers.
ip link set phys0 mtu 1600
ip -n far link set wire mtu 1600
ip -n far addr add 192.0.2.23/24 dev wire
leaf blue-h gretap 192.0.2.23 10.9.0.2 23 02:00:00:00:b9:02
ip -n blue-a link set t-blue-a mtu 1500
ip -n blue-b link set t-blue-b mtu 1400
# gre-topology.sh gives the hosts static entries for their router; this scenario has none.
ip -n blue-a neigh del 10.1.0.1 dev t-blue-a
ip -n blue-b neigh del 10.2.0.1 dev t-blue-b
for ns in blue-a blue-b; do
  n=$(ip -n "$ns" neigh show | wc -l)
  [ "$n" = 0 ] || fail "$ns keeps neighbour entries: $(ip -n "$ns" neigh show)"
done

step "blue installs the router; each ICMPError's way back to the table gets a queue"
vdpctl system apply "$SYSTEM" >/dev/null
vdpctl compile --system "$SYSTEM" blue=/vdp/configs/std-router.click -o /tmp/blue.vdpg 2>/tmp/compile.err >/dev/null \
  || fail "compile: $(cat /tmp/compile.err)"
n=$(grep -c "feeds back into the graph it came from" /tmp/compile.err)
[ "$n" = 8 ] || fail "$n feedback queues reported, want one for each of the 8 ICMPErrors: $(cat /tmp/compile.err)"
vdpctl graph install --tenant $T /tmp/blue.vdpg >/dev/null

step "ARP: the hosts and the router find each other; pings cross the router"
in_ns blue-a ping -c 3 -W 2 -w 30 10.2.0.2 >/dev/null || fail "blue-a cannot ping blue-b through the router"
n=$(in_ns blue-a ip neigh show 10.1.0.1 dev t-blue-a); echo "    blue-a: $n"
expect_match "$n" "lladdr 02:00:00:00:b1:01"
case "$n" in *PERMANENT*) fail "blue-a's entry is static" ;; esac
n=$(in_ns blue-b ip neigh show 10.2.0.1 dev t-blue-b); echo "    blue-b: $n"
expect_match "$n" "lladdr 02:00:00:00:b2:01"
expect_match "$(read_handler $T blue/arpq1.table)" "^10\.1\.0\.2 1 02-00-00-00-B1-02 "
expect_match "$(read_handler $T blue/arpq2.table)" "^10\.2\.0\.2 1 02-00-00-00-B2-02 "

step "TTL 1 through the router: time-exceeded from the router's address on the sender's side"
out=$(in_ns blue-a $PY ttl1 10.2.0.2 5000) || fail "ttl1: $out"
echo "    $out"
expect_match "$out" "^time-exceeded from 10\.1\.0\.1 code 0$"

step "1500 bytes without DF to the 1400-byte link: two fragments, reassembled by blue-b"
reasm_oks() { in_ns blue-b awk '$1 == "Ip:" && !n { for (i = 2; i <= NF; i++) if ($i == "ReasmOKs") n = i; next } $1 == "Ip:" { print $n }' /proc/net/snmp; }
before=$(reasm_oks)
in_ns blue-b $PY recv 5001 1500 20 > /tmp/recv.out & recv_pid=$!
sleep 2
in_ns blue-a $PY send 10.2.0.2 5001 1500
wait $recv_pid || fail "blue-b: $(cat /tmp/recv.out)"
expect_match "$(cat /tmp/recv.out)" "^received 1472 bytes, intact$"
[ "$(read_handler $T blue/fr2.fragments)" = 2 ] || fail "fr2 made $(read_handler $T blue/fr2.fragments) fragments, want 2"
after=$(reasm_oks)
[ "$after" -eq $((before + 1)) ] || fail "blue-b's ReasmOKs went from $before to $after"

step "1500 bytes with DF: fragmentation-needed with MTU 1400, kept in the sender's route cache"
out=$(in_ns blue-a $PY needfrag 10.2.0.2 5002 1500) || fail "needfrag: $out"
echo "$out" | sed 's/^/    /'
expect_match "$out" "fragmentation-needed from 10\.1\.0\.1 mtu 1400"
expect_match "$out" "socket path mtu 1400"
route=$(in_ns blue-a ip route get 10.2.0.2); echo "    $route"
expect_match "$route" "mtu 1400"

step "packets for the router itself, and ARP replies, go out on the host device"
host_rx() { in_ns blue-h cat /sys/class/net/t-blue-h/statistics/rx_packets; }
before=$(host_rx)
in_ns blue-a ping -c 3 -W 1 -w 5 10.1.0.1 >/dev/null 2>&1 && fail "the router answered a ping itself: ToHost should take it"
after=$(host_rx)
[ "$after" -ge $((before + 3)) ] || fail "blue-h received $((after - before)) frames from ToHost, want at least 3"
[ "$(counter $T host tx_packets)" -ge 3 ] || fail "the host device sent $(counter $T host tx_packets) frames"

step "teardown"
vdpctl tenant del --id $T
unload_vdp
