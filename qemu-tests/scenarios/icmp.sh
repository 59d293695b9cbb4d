# needs: python
# timeout: 300
# ICMP errors and fragmentation in the kernel, against Linux hosts: a tenant runs Click's IP
# router (configs/icmp-router.click) between red-a (10.1.0.2, behind eth1, link MTU 1500) and
# red-b (10.2.0.2, behind eth2, link MTU 1400), both Linux gre tunnels in namespaces of their
# own. A datagram with TTL 1 gets a time-exceeded from the router's address on red-a's side; a
# 1500-byte datagram without DF reaches red-b in fragments that Linux reassembles; with DF, red-a
# gets a fragmentation-needed with MTU 1400 and its route cache then shows mtu 1400. Frames from
# a gretap behind eth3 show the link-level packet type the kernel sets on receive.
. /vdp/lib.sh
load_vdp
ip() { /usr/sbin/ip "$@"; }
in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }
SYSTEM=/vdp/configs/icmp-system.toml

step "topology: phys0 <-> far (tunnel endpoints), red-a and red-b behind Linux gre tunnels, a gretap"
# The wire carries 1500-byte inner packets in their outer headers.
ip link add phys0 mtu 1600 type veth peer name wire mtu 1600
ip link set phys0 address 02:00:00:00:00:01
ip addr add 192.0.2.1/24 dev phys0
ip link set phys0 up
ip netns add far
ip link set wire netns far
ip -n far link set wire address 02:00:00:00:ff:01
for a in 11 12 13; do ip -n far addr add 192.0.2.$a/24 dev wire; done
ip -n far link set wire up
leaf() { # leaf NAME LOCAL ADDRESS KEY MTU
  ip netns add "$1"
  ip -n "$1" link set lo up
  ip -n far link add "t-$1" type gre local "$2" remote 192.0.2.1 key "$4"
  ip -n far link set "t-$1" netns "$1"
  ip -n "$1" link set "t-$1" mtu "$5"
  ip -n "$1" addr add "$3/24" dev "t-$1"
  ip -n "$1" link set "t-$1" up
  ip -n "$1" route add default dev "t-$1"
}
leaf red-a 192.0.2.11 10.1.0.2 11 1500
leaf red-b 192.0.2.12 10.2.0.2 12 1400
# eth3's far end is a gretap in far itself: only its frames are needed.
ip -n far link add t-red-c type gretap local 192.0.2.13 remote 192.0.2.1 key 13
ip -n far link set t-red-c up

step "red installs the IP router"
vdpctl system apply "$SYSTEM" >/dev/null
vdpctl compile --system "$SYSTEM" red=/vdp/configs/icmp-router.click -o /tmp/red.vdpg >/dev/null
vdpctl graph install --tenant 1 /tmp/red.vdpg >/dev/null

PY="python3 /vdp/probe.py"

step "a datagram with TTL 1 gets a time-exceeded from the router's address on its own side"
out=$(in_ns red-a $PY ttl1 10.2.0.2 5000) || fail "ttl1: $out"
echo "    $out"
expect_match "$out" "^time-exceeded from 10\.1\.0\.1 code 0$"
[ "$(read_handler 1 red/expired.count)" = 1 ] || fail "DecIPTTL did not expire exactly one packet"

step "a 1500-byte datagram without DF crosses the 1400-byte link in fragments; red-b reassembles it"
# ReasmOKs: Linux's count of datagrams reassembled, in red-b's namespace.
reasm_oks() { in_ns red-b awk '$1 == "Ip:" && !n { for (i = 2; i <= NF; i++) if ($i == "ReasmOKs") n = i; next } $1 == "Ip:" { print $n }' /proc/net/snmp; }
reasm_before=$(reasm_oks)
in_ns red-b $PY recv 5001 1500 20 > /tmp/recv.out & recv_pid=$!
sleep 2
in_ns red-a $PY send 10.2.0.2 5001 1500
wait $recv_pid || fail "red-b: $(cat /tmp/recv.out)"
echo "    $(cat /tmp/recv.out)"
expect_match "$(cat /tmp/recv.out)" "^received 1472 bytes, intact$"
[ "$(read_handler 1 red/fr2.fragments)" = 2 ] || fail "IPFragmenter made $(read_handler 1 red/fr2.fragments) fragments, want 2"
reasm_after=$(reasm_oks)
[ "$reasm_after" -eq $((reasm_before + 1)) ] || fail "red-b's ReasmOKs went from $reasm_before to $reasm_after"
echo "    red-b reassembled it (ReasmOKs $reasm_before -> $reasm_after)"

step "with DF the sender gets fragmentation-needed with MTU 1400, and its route cache keeps it"
out=$(in_ns red-a $PY needfrag 10.2.0.2 5002 1500) || fail "needfrag: $out"
echo "$out" | sed 's/^/    /'
expect_match "$out" "fragmentation-needed from 10\.1\.0\.1 mtu 1400"
expect_match "$out" "socket path mtu 1400"
[ "$(read_handler 1 red/fr2.drops)" = 1 ] || fail "IPFragmenter sent $(read_handler 1 red/fr2.drops) packets to output 1, want 1"
route=$(in_ns red-a ip route get 10.2.0.2)
echo "$route" | sed 's/^/    /'
expect_match "$route" "mtu 1400"

step "the kernel sets each frame's link-level type from its destination, as the user engine does"
in_ns far $PY frames t-red-c 02:00:00:00:c3:01 3
wait_for_value 1 red/uc_passed.count 6 20
for counter in bc_dropped mc_dropped; do
  [ "$(read_handler 1 "red/$counter.count")" = 3 ] || fail "$counter is $(read_handler 1 "red/$counter.count"), want 3"
done
for counter in bc_passed mc_passed uc_dropped; do
  [ "$(read_handler 1 "red/$counter.count")" = 0 ] || fail "$counter is $(read_handler 1 "red/$counter.count"), want 0"
done
echo "    broadcast and group frames dropped (3 and 3), unicast ones passed (6)"

step "teardown"
vdpctl tenant del --id 1
unload_vdp
