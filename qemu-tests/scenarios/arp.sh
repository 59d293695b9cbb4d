# needs: python
# timeout: 300
# ARP in the kernel against Linux's own: a tenant router whose two devices are gretap tunnels,
# with Linux hosts behind them and no static neighbour entry anywhere. The hosts find the
# router's addresses through its ARPResponders (arping, then their default routes), the router
# finds the hosts through its ARPQueriers, pings cross it, and the tables and counters say so.
# An address nobody answers for keeps its packets held; a flood of unasked replies stays within
# ENTRY_CAPACITY; a hotswap keeps the tables.
. /vdp/lib.sh
load_vdp
PY="python3 /vdp/packets.py"
ip() { /usr/sbin/ip "$@"; }
in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }
SYSTEM=/vdp/configs/arp-system.toml
T=1

step "topology: phys0 <-> far, a gretap host behind each of green's tunnels, no static neighbours"
phys0_and_far 31 32
gretap_host arp-a 192.0.2.31 10.1.0.2 02:00:00:00:a1:02
gretap_host arp-b 192.0.2.32 10.2.0.2 02:00:00:00:a2:02 32
ip -n arp-a route add default via 10.1.0.1
ip -n arp-b route add default via 10.2.0.1
for ns in arp-a arp-b; do
  n=$(ip -n "$ns" neigh show | wc -l)
  [ "$n" = 0 ] || fail "$ns starts with neighbour entries: $(ip -n "$ns" neigh show)"
done

step "green installs a router that knows no host's Ethernet address"
vdpctl system apply "$SYSTEM" >/dev/null
vdpctl compile --system "$SYSTEM" "green=/vdp/configs/arp-router.click" -o /tmp/green.vdpg >/dev/null
vdpctl graph install --tenant $T /tmp/green.vdpg >/dev/null
[ "$(read_handler $T green/p1/responder.table)" = "10.1.0.1/32 02-00-00-00-A1-01" ] || fail "p1's responder table: $(read_handler $T green/p1/responder.table)"

step "arping from arp-a: green's ARPResponder answers for 10.1.0.1 with its own address"
out=$(in_ns arp-a arping -c 2 -w 20 -I t-arp-a 10.1.0.1 2>&1) || fail "arping got no reply: $out"
echo "$out"
echo "$out" | grep -qiE "reply from 10\.1\.0\.1 \[02:00:00:00:a1:01\]" || fail "arping's replies are not from green's address"
expect_match "$out" "Received 2 (reply|replies|response)"
[ "$(read_handler $T green/p1/replies.count)" = 2 ] || fail "p1's responder sent $(read_handler $T green/p1/replies.count) replies, arping got 2"
# A request is not a reply: the querier learned nothing from them.
[ "$(read_handler $T green/p1/arpq.count)" = 0 ] || fail "ARP requests reached p1's table"

step "arp-a pings arp-b across green: every hop resolved by ARP"
out=$(in_ns arp-a ping -c 3 -w 30 10.2.0.2 2>&1) || fail "ping across green: $out"
echo "$out"
expect_match "$out" "3 packets received"
# Linux learned green's addresses from the replies (not static: not PERMANENT).
n=$(in_ns arp-a ip neigh show 10.1.0.1 dev t-arp-a); echo "    arp-a: $n"
expect_match "$n" "lladdr 02:00:00:00:a1:01"
echo "$n" | grep -q PERMANENT && fail "arp-a's entry for its router is static"
n=$(in_ns arp-b ip neigh show 10.2.0.1 dev t-arp-b); echo "    arp-b: $n"
expect_match "$n" "lladdr 02:00:00:00:a2:01"
# green learned the hosts' addresses from their replies to its queries.
t1=$(read_handler $T green/p1/arpq.table); echo "    p1: $t1"
t2=$(read_handler $T green/p2/arpq.table); echo "    p2: $t2"
expect_match "$t1" "^10\.1\.0\.2 1 02-00-00-00-A1-02 "
expect_match "$t2" "^10\.2\.0\.2 1 02-00-00-00-A2-02 "
# One query and one reply each way; nothing held, nothing dropped.
for side in p1 p2; do
  got="$(read_handler $T green/$side/arpq.stats) $(read_handler $T green/$side/arpq.responses) $(read_handler $T green/$side/arpq.count) $(read_handler $T green/$side/arpq.length)"
  [ "$got" = "0 packets killed
1 ARP queries sent 1 1 0" ] || fail "$side's ARPQuerier: stats, responses, count, length are: $got"
done

step "an address nobody answers for: its packets are held, and queried for, not sent"
before=$(read_handler $T green/p2/arpq.queries)
in_ns arp-a ping -c 3 -i 0.2 -w 2 -W 1 10.2.0.99 >/dev/null 2>&1 && fail "a ping to 10.2.0.99 got a reply"
after=$(read_handler $T green/p2/arpq.queries)
[ "$after" -gt "$before" ] || fail "no query went out for 10.2.0.99"
expect_match "$(read_handler $T green/p2/arpq.table)" "10\.2\.0\.99 0 FF-FF-FF-FF-FF-FF "
[ "$(read_handler $T green/p2/arpq.length)" = 3 ] || fail "p2 holds $(read_handler $T green/p2/arpq.length) packets for 10.2.0.99, want 3"

step "a flood of 500 unasked replies: the table stays within ENTRY_CAPACITY 64"
before=$(read_handler $T green/p2/arpq.responses)
sent=$(in_ns arp-b $PY arp-replies t-arp-b 02:00:00:00:a2:01 10.2.0.1 10.77 500)
[ "$sent" = 500 ] || fail "sent $sent replies"
want=$((before + 500))
i=0
while [ "$(read_handler $T green/p2/arpq.responses)" -lt $want ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
resp=$(read_handler $T green/p2/arpq.responses)
[ "$resp" = $want ] || fail "p2 saw $resp responses, want $want"
count=$(read_handler $T green/p2/arpq.count)
[ "$count" = 64 ] || fail "p2's table holds $count entries, want ENTRY_CAPACITY 64"
# The oldest entries went first, and the held packets with them.
[ "$(read_handler $T green/p2/arpq.length)" = 0 ] || fail "held packets outlived their entry"
expect_match "$(read_handler $T green/p2/arpq.stats)" "^3 packets killed"
expect_match "$(read_handler $T green/p2/arpq.table)" "10\.77\.1\.243 1 02-00-5A-00-01-F3"
read_handler $T green/p2/arpq.table | grep -q "^10\.2\.0\.2 " && fail "the oldest entry survived the flood"
# The router finds arp-b again by asking.
in_ns arp-a ping -c 1 -w 20 10.2.0.2 >/dev/null || fail "ping after the flood"

step "a hotswap keeps the tables: the next pings need no query"
q1=$(read_handler $T green/p1/arpq.queries)
q2=$(read_handler $T green/p2/arpq.queries)
vdpctl graph install --tenant $T /tmp/green.vdpg >/dev/null
expect_match "$(read_handler $T green/p1/arpq.table)" "^10\.1\.0\.2 1 02-00-00-00-A1-02 "
out=$(in_ns arp-a ping -c 2 -w 20 10.2.0.2 2>&1) || fail "ping after the hotswap: $out"
expect_match "$out" "2 packets received"
[ "$(read_handler $T green/p1/arpq.queries)" = "$q1" ] || fail "p1 queried again after the hotswap"
[ "$(read_handler $T green/p2/arpq.queries)" = "$q2" ] || fail "p2 queried again after the hotswap"

step "teardown"
vdpctl tenant del --id $T
unload_vdp
