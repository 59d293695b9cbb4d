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

cat > /tmp/probe.py <<'EOF'
"""Probes of the icmp scenario.

  probe.py ttl1 DST PORT             a datagram with TTL 1; prints the time-exceeded it gets
  probe.py send DST PORT SIZE        one datagram of SIZE IP bytes, don't-fragment clear
  probe.py recv PORT SIZE SECONDS    waits for one datagram; checks its size and bytes
  probe.py needfrag DST PORT SIZE    one datagram with don't-fragment; prints the
                                     fragmentation-needed it gets and the socket's path MTU
  probe.py frames IFACE MAC COUNT    COUNT Ethernet frames (EtherType 0x88b5) each to the
                                     broadcast address, a group address, MAC and another host
Each exits non-zero when what it waits for does not come.
"""
import socket
import struct
import sys
import time

IP_MTU_DISCOVER, IP_PMTUDISC_DONT, IP_PMTUDISC_DO, IP_MTU = 10, 0, 2, 14


def payload(size):
    return bytes((i * 7 + 3) & 0xFF for i in range(size - 28))


def wait_icmp(raw, want_type, dst, port, seconds):
    """The first ICMP message of `want_type` that quotes a UDP datagram to dst:port."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        raw.settimeout(max(0.1, deadline - time.time()))
        try:
            packet, (source, _) = raw.recvfrom(4096)
        except socket.timeout:
            break
        hl = (packet[0] & 15) * 4
        icmp = packet[hl:]
        if len(icmp) < 8 + 28 or icmp[0] != want_type:
            continue
        quoted = icmp[8:]
        qhl = (quoted[0] & 15) * 4
        if socket.inet_ntoa(quoted[16:20]) != dst or quoted[9] != 17:
            continue
        if struct.unpack("!H", quoted[qhl + 2:qhl + 4])[0] != port:
            continue
        return source, icmp
    return None, None


def main(argv):
    mode = argv[1]
    if mode == "ttl1":
        dst, port = argv[2], int(argv[3])
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
        udp.sendto(payload(60), (dst, port))
        source, icmp = wait_icmp(raw, 11, dst, port, 10)
        if source is None:
            print("no time-exceeded came back")
            return 1
        print("time-exceeded from %s code %d" % (source, icmp[1]))
        return 0
    if mode == "send":
        dst, port, size = argv[2], int(argv[3]), int(argv[4])
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
        udp.sendto(payload(size), (dst, port))
        return 0
    if mode == "recv":
        port, size, seconds = int(argv[2]), int(argv[3]), float(argv[4])
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("0.0.0.0", port))
        udp.settimeout(seconds)
        try:
            data, _ = udp.recvfrom(65536)
        except socket.timeout:
            print("no datagram arrived")
            return 1
        ok = data == payload(size)
        print("received %d bytes, %s" % (len(data), "intact" if ok else "corrupted"))
        return 0 if ok else 1
    if mode == "needfrag":
        dst, port, size = argv[2], int(argv[3]), int(argv[4])
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        udp.connect((dst, port))
        udp.send(payload(size))
        source, icmp = wait_icmp(raw, 3, dst, port, 10)
        if source is None or icmp[1] != 4:
            print("no fragmentation-needed came back")
            return 1
        mtu = struct.unpack("!H", icmp[6:8])[0]
        print("fragmentation-needed from %s mtu %d" % (source, mtu))
        # The socket learns the path MTU from it (Linux's ICMP error handling for UDP).
        time.sleep(0.5)
        print("socket path mtu %d" % udp.getsockopt(socket.IPPROTO_IP, IP_MTU))
        try:
            udp.send(payload(size))
            print("a second %d-byte datagram was sent with don't-fragment" % size)
            return 1
        except OSError as error:
            print("a second %d-byte datagram is refused: %s" % (size, error.strerror))
        return 0
    if mode == "frames":
        iface, own, count = argv[2], bytes.fromhex(argv[3].replace(":", "")), int(argv[4])
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        sock.bind((iface, 0))
        source = sock.getsockname()[4]
        for destination in [b"\xff" * 6, bytes.fromhex("01005e000001"), own, bytes.fromhex("020000009999")]:
            for _ in range(count):
                sock.send(destination + source + b"\x88\xb5" + bytes(46))
        return 0
    print("unknown mode " + mode)
    return 2


sys.exit(main(sys.argv))
EOF
PY="python3 /tmp/probe.py"

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
