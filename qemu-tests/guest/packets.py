"""Traffic for the GRE scenarios: UDP both ways, and hostile GRE frames written byte by byte.

  packets.py udp-recv PORT COUNT SECONDS [READY_FILE]
      prints how many datagrams arrived; creates READY_FILE once its socket is bound
  packets.py udp-send ADDRESS PORT COUNT [PER_SECOND]
  packets.py hostile IFACE DST_MAC SRC_IP DST_IP KEY COUNT
      sends COUNT frames of each hostile kind (and one good keyed GRE header pattern) on IFACE,
      aimed at the tunnel SRC_IP -> DST_IP whose key is KEY; prints the kinds in order.
  packets.py arp-replies IFACE DST_MAC DST_IP PREFIX COUNT
      sends COUNT unasked ARP replies on IFACE to DST_MAC/DST_IP, each from its own address
      PREFIX.x.y and Ethernet address 02:00:5a:00:x:y; prints how many were sent.
"""
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src, dst, payload, flags_fragment=0x4000, total=None, bad_checksum=False):
    length = total if total is not None else 20 + len(payload)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, 1, flags_fragment, 64, 47, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    sum_ = checksum(header) ^ (0x00FF if bad_checksum else 0)
    return header[:10] + struct.pack("!H", sum_) + header[12:] + payload


def gre(flags_version, protocol, extra=b""):
    return struct.pack("!HH", flags_version, protocol) + extra


INNER = ipv4("10.1.0.2", "10.2.0.2", b"\x08\x00\xf7\xff" + b"\0" * 4)


def hostile(src, dst, key):
    keyed = struct.pack("!I", key)
    good_gre = gre(0x2000, 0x0800, keyed)
    bad_sum = struct.pack("!HH", 0x1234, 0)
    return [
        # GRE header cut short: the IP header says 22 bytes, half a GRE header.
        ("truncated", ipv4(src, dst, b"\x20\x00")),
        # A key no tunnel between these endpoints uses.
        ("unknown_key", ipv4(src, dst, gre(0x2000, 0x0800, struct.pack("!I", key + 1000)) + INNER)),
        # GRE version 1 (PPTP).
        ("unsupported_gre_version", ipv4(src, dst, gre(0x2001, 0x0800, keyed) + INNER)),
        # The routing-present bit (RFC 1701).
        ("unsupported_gre_flags", ipv4(src, dst, gre(0x6000, 0x0800, bad_sum + keyed) + INNER)),
        # A checksum-present packet whose checksum is wrong.
        ("bad_gre_checksum", ipv4(src, dst, gre(0xA000, 0x0800, bad_sum + keyed) + INNER)),
        # The first fragment of an outer packet (MF set).
        ("outer_fragment", ipv4(src, dst, good_gre + INNER, flags_fragment=0x2000)),
        # A corrupted outer IPv4 header checksum.
        ("bad_ip_checksum", ipv4(src, dst, good_gre + INNER, bad_checksum=True)),
    ]


def main(argv):
    mode = argv[1]
    if mode == "udp-recv":
        port, count, seconds = int(argv[2]), int(argv[3]), float(argv[4])
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Room for several seconds of a paced stream, so that a receiver starved of CPU for a
        # while (TCG on a busy host) loses nothing; as root, past net.core.rmem_max.
        try:
            sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind(("0.0.0.0", port))
        if len(argv) > 5:
            open(argv[5], "w").close()
        sock.settimeout(seconds)
        got = 0
        try:
            while got < count:
                sock.recvfrom(2048)
                got += 1
        except socket.timeout:
            pass
        print(got)
    elif mode == "udp-send":
        # udp-send ADDRESS PORT COUNT [PER_SECOND]: with a rate, datagram i leaves at i/rate s
        # after the start (late ones go at once, so the average holds).
        address, port, count = argv[2], int(argv[3]), int(argv[4])
        rate = float(argv[5]) if len(argv) > 5 else 0
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        start = time.monotonic()
        for i in range(count):
            if rate > 0:
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            sock.sendto(b"vdp %d" % i, (address, port))
    elif mode == "hostile":
        iface, dst_mac, src, dst, key, count = argv[2], argv[3], argv[4], argv[5], int(argv[6]), int(argv[7])
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        sock.bind((iface, 0))
        src_mac = open("/sys/class/net/%s/address" % iface).read().strip()
        ether = bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", "")) + b"\x08\x00"
        for kind, packet in hostile(src, dst, key):
            for _ in range(count):
                sock.send(ether + packet)
            print(kind)
    elif mode == "arp-replies":
        iface, dst_mac, dst_ip, prefix, count = argv[2], argv[3], argv[4], argv[5], int(argv[6])
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        sock.bind((iface, 0))
        target = bytes.fromhex(dst_mac.replace(":", ""))
        for i in range(count):
            high, low = (i >> 8) & 0xFF, i & 0xFF
            sender = bytes([0x02, 0x00, 0x5A, 0x00, high, low])
            ip = socket.inet_aton("%s.%d.%d" % (prefix, high, low))
            message = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + sender + ip + target + socket.inet_aton(dst_ip)
            sock.send(target + sender + b"\x08\x06" + message)
        print(count)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main(sys.argv)
