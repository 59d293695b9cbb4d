"""Probes of the icmp and std-router scenarios (ICMP errors, fragments, path MTU).

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
