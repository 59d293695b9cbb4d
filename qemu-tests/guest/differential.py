"""The differential scenario's packets: the inputs, their trip through the kernel, the comparison.

  differential.py generate SEED COUNT GAP_MS DIR
      writes DIR/TENANT-DEV.pcap for red (eth1, eth2: bare IPv4) and blue (eth1, eth2: Ethernet),
      COUNT packets each, drawn from random.Random(SEED). Each tenant's eth1 inputs come first
      (phase 1), then its eth2 inputs (phase 2), GAP_MS apart, red and blue interleaved.
  differential.py capture IFACE DIR EXPECTED
      on IFACE (the far end of the physical veth) captures what vdp sends on every tunnel,
      strips the outer headers and writes DIR/TENANT-DEV.kernel.pcap. It writes DIR/capturing
      once it listens. EXPECTED names a file of "TENANT-DEV COUNT" lines (what the user engine
      sent): after the sender is done (DIR/sent), the capture ends once every device has sent as
      many and then nothing for a second, or after 3 quiet seconds.
  differential.py send IFACE DIR
      sends every DIR/TENANT-DEV.pcap record inside its device's GRE tunnel, at its timestamp's
      offset from the first, then writes DIR/sent.
  differential.py compare NAME KERNEL.pcap ENGINE.pcap
      compares the two captures record by record (bytes and order; times are ignored), prints
      the count, or every difference (at most a few in full), and exits 1 on a difference.
  differential.py count FILE.pcap
      prints the number of records.

Pcap files are written here byte by byte (classic format, microsecond timestamps, little-endian);
both classic magics and resolutions are read.
"""
import os
import random
import socket
import struct
import sys
import time

from packets import checksum  # the Internet checksum, shared with the GRE scenarios' traffic

LINK_ETHERNET = 1
LINK_IPV4 = 228

# The tunnels of qemu-tests/configs/gre-system.toml: (tenant, device) -> remote, key, carries.
LOCAL = "192.0.2.1"
TUNNELS = {
    ("red", "eth1"): ("192.0.2.11", 11, "ip"),
    ("red", "eth2"): ("192.0.2.12", 12, "ip"),
    ("blue", "eth1"): ("192.0.2.21", None, "ethernet"),
    ("blue", "eth2"): ("192.0.2.22", 22, "ethernet"),
}
PORT_MAC = bytes.fromhex("020000000001")  # phys0
BLUE_MACS = {"eth1": bytes.fromhex("02000000b101"), "eth2": bytes.fromhex("02000000b201")}
HOST_MACS = {"eth1": bytes.fromhex("02000000b102"), "eth2": bytes.fromhex("02000000b202")}
# Largest inner packet a tunnel delivers from a 1500-byte outer packet: 20 bytes of outer IPv4,
# then 4 bytes of GRE, 4 more with a key.
MTU = 1500
T0 = 1_700_000_000  # capture time of the first packet, seconds
PHASE_GAP_S = 1.5   # between phase 1 (eth1 inputs) and phase 2 (eth2 inputs)


def max_inner(key):
    return MTU - 20 - (8 if key is not None else 4)


# --- pcap ------------------------------------------------------------------------------------

def write_pcap(path, link, records):
    """records: (time in ns, bytes)."""
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, link))
        for time_ns, data in records:
            sec, ns = divmod(time_ns, 1_000_000_000)
            f.write(struct.pack("<IIII", sec, ns // 1000, len(data), len(data)))
            f.write(data)
    os.rename(path + ".tmp", path)


def read_pcap(path):
    """Returns (link type, [(time in ns, bytes)])."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 24:
        sys.exit("%s: not a pcap file (%d bytes)" % (path, len(blob)))
    magic_le = struct.unpack("<I", blob[:4])[0]
    magics = {0xA1B2C3D4: ("<", 1000), 0xA1B23C4D: ("<", 1)}
    swapped = {0xD4C3B2A1: (">", 1000), 0x4D3CB2A1: (">", 1)}
    if magic_le in magics:
        order, scale = magics[magic_le]
    elif magic_le in swapped:
        order, scale = swapped[magic_le]
    else:
        sys.exit("%s: bad pcap magic %08x" % (path, magic_le))
    link = struct.unpack(order + "I", blob[20:24])[0]
    records, at = [], 24
    while at < len(blob):
        if at + 16 > len(blob):
            sys.exit("%s: truncated record header at byte %d" % (path, at))
        sec, frac, caplen, _ = struct.unpack(order + "IIII", blob[at:at + 16])
        at += 16
        if at + caplen > len(blob):
            sys.exit("%s: truncated record at byte %d" % (path, at))
        records.append((sec * 1_000_000_000 + frac * scale, blob[at:at + caplen]))
        at += caplen
    return link, records


# --- packets ---------------------------------------------------------------------------------

def addr(text):
    return socket.inet_aton(text)


def transport(rng, proto, length):
    """A transport header and payload of `length` bytes for `proto` (shorter when it must be)."""
    if proto == 1:  # ICMP: echo request or reply, or another type
        kind = rng.choice([8, 8, 8, 0, 3, 11, 13])
        body = bytes(rng.getrandbits(8) for _ in range(max(0, length - 8)))
        head = struct.pack("!BBHHH", kind, 0, 0, rng.getrandbits(16), rng.getrandbits(16))
        packet = head + body
        return packet[:2] + struct.pack("!H", checksum(packet)) + packet[4:]
    if proto == 17:  # UDP, often DNS
        sport = rng.choice([53, 1024 + rng.getrandbits(12), 5000])
        dport = rng.choice([53, 53, 123, 5000, rng.getrandbits(16)])
        body = bytes(rng.getrandbits(8) for _ in range(max(0, length - 8)))
        return struct.pack("!HHHH", sport, dport, 8 + len(body), 0) + body
    if proto == 6:  # TCP with some flags
        flags = rng.choice([0x02, 0x12, 0x10, 0x18, 0x11, 0x04])
        head = struct.pack("!HHIIBBHHH", rng.choice([80, 443, 1024 + rng.getrandbits(10)]),
                           rng.choice([80, 22, rng.getrandbits(16)]), rng.getrandbits(32),
                           rng.getrandbits(32), 0x50, flags, 8192, 0, 0)
        body = bytes(rng.getrandbits(8) for _ in range(max(0, length - 20)))
        return head + body
    return bytes(rng.getrandbits(8) for _ in range(length))


# Half the destinations are on the two devices' subnets, which every configuration routes; the
# rest hit the configurations' other routes, or none.
DESTINATIONS = [
    "10.1.0.2", "10.1.0.2", "10.1.0.2", "10.1.0.77", "10.1.0.77", "10.1.0.255",
    "10.2.0.2", "10.2.0.2", "10.2.0.2", "10.2.0.200", "10.2.0.130", "10.2.0.66",
    "10.3.5.5", "10.7.7.7", "192.168.4.4", "8.8.8.8", "172.16.0.9", "224.0.0.5",
    "255.255.255.255", "0.0.0.0",
]
SOURCES = ["10.1.0.2", "10.2.0.2", "10.1.0.9", "10.2.0.150", "192.168.1.1", "172.20.0.1"]
# Sources CheckIPHeader refuses: broadcast, multicast, BADSRC (red) or a subnet broadcast
# (blue's INTERFACES).
BAD_SOURCES = ["255.255.255.255", "224.1.2.3", "10.9.9.9", "10.1.0.255", "10.2.0.255"]


def ipv4(rng, limit, kind):
    """One IPv4 packet of `kind`, at most `limit` bytes."""
    proto = rng.choice([1, 1, 17, 17, 17, 6, 6, 47, 4, 132, 253])
    ttl = rng.choice([0, 1, 1, 2, 3, 64, 64, 64, 128, 255])
    src = rng.choice(SOURCES)
    dst = rng.choice(DESTINATIONS)
    tos = rng.choice([0, 0, 0, 0x10, 0xB8])
    ident = rng.getrandbits(16)
    frag = rng.choice([0x4000, 0x4000, 0x0000])
    options = b""
    size = rng.choice(["small", "small", "small", "medium", "large", "max"])
    if kind == "options":
        words = rng.randint(1, 10)
        options = bytes(rng.choice([1, 1, 1, 0, 7, 68, 148]) for _ in range(words * 4))
    if kind == "bad_source":
        src = rng.choice(BAD_SOURCES)
    if kind == "fragment":
        frag = rng.choice([0x2000, 0x2000 | 185, 185, 0x4000 | 1])
    header_len = 20 + len(options)
    payload_room = limit - header_len
    if size == "small":
        length = rng.randint(0, 64)
    elif size == "medium":
        length = rng.randint(64, 600)
    elif size == "large":
        length = rng.randint(1300, payload_room)
    else:
        length = payload_room
    length = min(length, payload_room)
    payload = transport(rng, proto, length)
    ihl = header_len // 4
    version = 4
    total = header_len + len(payload)
    trailer = b""
    if kind == "bad_version":
        version = rng.choice([0, 5, 6, 15])
    if kind == "bad_ihl":
        ihl = rng.choice([0, 1, 4])
    if kind == "long_total":  # claims more than arrived
        total += rng.randint(1, 200)
    if kind == "short_total":  # total length shorter than the header
        total = rng.randint(0, header_len - 1)
    if kind == "padded":  # link-layer padding past the total length
        trailer = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 30)))
        if header_len + len(payload) + len(trailer) > limit:
            payload = payload[:max(0, limit - header_len - len(trailer))]
            total = header_len + len(payload)
    header = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, tos, total & 0xFFFF, ident, frag,
                         ttl, proto, 0, addr(src), addr(dst)) + options
    sum_ = checksum(header)
    if kind == "bad_checksum":
        sum_ ^= rng.choice([0x0001, 0x8000, 0x00FF, 0xFFFF])
    header = header[:10] + struct.pack("!H", sum_) + header[12:]
    packet = header + payload + trailer
    if kind == "truncated":  # cut anywhere, often inside the header
        packet = packet[:rng.randint(1, min(len(packet), 40))]
    return packet[:limit]


IP_KINDS = ["good"] * 14 + ["options", "options", "bad_checksum", "bad_checksum", "bad_ihl",
                            "long_total", "short_total", "padded", "padded", "truncated",
                            "bad_source", "fragment"]


def ip_input(rng, limit):
    """An input for an IP device: bare IPv4 (vdpctl run takes only version 4 there)."""
    return ipv4(rng, limit, rng.choice(IP_KINDS))


def ether_input(rng, device, limit):
    """An input for an Ethernet device: a frame, IPv4 or not, for this device's address or not."""
    me, host = BLUE_MACS[device], HOST_MACS[device]
    other = BLUE_MACS["eth2" if device == "eth1" else "eth1"]
    dst = rng.choice([me] * 6 + [other, b"\xff" * 6, bytes.fromhex("01005e000005"),
                                 bytes.fromhex("02000000cafe")])
    roll = rng.random()
    if roll < 0.70:
        kind = rng.choice(IP_KINDS + ["bad_version", "bad_version"])
        return dst + host + b"\x08\x00" + ipv4(rng, limit - 14, kind)
    if roll < 0.80:  # ARP request or reply
        sender = addr(rng.choice(SOURCES))
        target = addr(rng.choice(DESTINATIONS))
        body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, rng.choice([1, 2]), host, sender,
                           b"\0" * 6, target)
        return rng.choice([b"\xff" * 6, me]) + host + b"\x08\x06" + body + b"\0" * rng.choice([0, 18])
    if roll < 0.86:  # IPv6
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(40, 120)))
        return dst + host + b"\x86\xdd" + body
    if roll < 0.92:  # another EtherType, of any length that fits
        ethertype = rng.choice([b"\x88\xcc", b"\x81\x00", b"\x00\x2e", b"\x90\x00"])
        body = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 20, 46, 50, 300])))
        return (dst + host + ethertype + body)[:limit]
    # Shorter than a header, or just one.
    return (dst + host + b"\x08\x00")[:rng.randint(0, 14)]


def generate(seed, count, gap_ms, directory):
    rng = random.Random(seed)
    gap_ns = int(gap_ms * 1_000_000)
    files = {}
    at = T0 * 1_000_000_000
    for phase, device in enumerate(["eth1", "eth2"]):
        if phase:
            at += int(PHASE_GAP_S * 1e9)
        for tenant in ["red", "blue"]:
            files[(tenant, device)] = []
        for i in range(count):
            for tenant in ["red", "blue"]:
                _, key, carries = TUNNELS[(tenant, device)]
                limit = max_inner(key)
                if carries == "ip":
                    packet = ip_input(rng, limit)
                else:
                    packet = ether_input(rng, device, limit)
                files[(tenant, device)].append((at, packet))
                at += gap_ns
    for (tenant, device), records in files.items():
        link = LINK_IPV4 if TUNNELS[(tenant, device)][2] == "ip" else LINK_ETHERNET
        write_pcap(os.path.join(directory, "%s-%s.pcap" % (tenant, device)), link, records)
        print("%s-%s %d" % (tenant, device, len(records)))


# --- through the kernel ----------------------------------------------------------------------

def encapsulate(tenant, device, inner, ident, source_mac):
    """The frame the far end sends: Ethernet to phys0, IPv4 from the tunnel's remote end, GRE."""
    remote, key, carries = TUNNELS[(tenant, device)]
    protocol = 0x0800 if carries == "ip" else 0x6558
    gre = struct.pack("!HH", 0x2000 if key is not None else 0, protocol)
    if key is not None:
        gre += struct.pack("!I", key)
    total = 20 + len(gre) + len(inner)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident & 0xFFFF, 0x4000, 64, 47, 0,
                         addr(remote), addr(LOCAL))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return PORT_MAC + source_mac + b"\x08\x00" + header + gre + inner


def decapsulate(frame, problems):
    """(tenant, device, inner) for a GRE frame vdp sent, or None for anything else."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    if ip[0] != 0x45 or ip[9] != 47 or ip[12:16] != addr(LOCAL):
        return None
    total = struct.unpack("!H", ip[2:4])[0]
    remote = socket.inet_ntoa(ip[16:20])
    if checksum(ip[:20]) != 0:
        problems.append("outer IPv4 checksum wrong on a frame to %s" % remote)
    if total > len(ip):
        problems.append("outer IPv4 packet to %s claims %d bytes, %d arrived" % (remote, total, len(ip)))
        return None
    ip = ip[:total]
    flags, protocol = struct.unpack("!HH", ip[20:24])
    at = 24
    if flags & 0x8000:
        at += 4
    key = None
    if flags & 0x2000:
        key = struct.unpack("!I", ip[at:at + 4])[0]
        at += 4
    for (tenant, device), (t_remote, t_key, carries) in TUNNELS.items():
        if t_remote == remote and t_key == key:
            want = 0x0800 if carries == "ip" else 0x6558
            if protocol != want:
                problems.append("%s/%s: GRE protocol %04x, want %04x" % (tenant, device, protocol, want))
            return tenant, device, ip[at:]
    problems.append("a GRE frame to %s with key %s matches no tunnel" % (remote, key))
    return None


def capture(iface, directory, expected_file):
    """Captures what vdp sends on every tunnel until the sender is done and the kernel is too."""
    expected = {}
    with open(expected_file) as f:
        for line in f:
            name, count = line.split()
            expected[name] = int(count)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    try:
        sock.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    sock.bind((iface, 0))
    sock.settimeout(0.2)
    sent_marker = os.path.join(directory, "sent")
    with open(os.path.join(directory, "capturing"), "w") as f:
        f.write("%d\n" % os.getpid())
    got = {"%s-%s" % t: [] for t in TUNNELS}
    problems = []
    others = 0
    sent_at = None
    last = time.monotonic()
    deadline = last + 300
    while time.monotonic() < deadline:
        try:
            frame, address = sock.recvfrom(65536)
        except socket.timeout:
            frame = None
        if frame is not None and address[2] != socket.PACKET_OUTGOING:
            found = decapsulate(frame, problems)
            if found is None:
                others += 1
            else:
                tenant, device, inner = found
                got["%s-%s" % (tenant, device)].append((time.time_ns(), inner))
                last = time.monotonic()
        if sent_at is None and os.path.exists(sent_marker):
            sent_at = time.monotonic()
        if sent_at is not None:
            quiet = time.monotonic() - max(last, sent_at)
            complete = all(len(got[name]) >= expected.get(name, 0) for name in got)
            if (complete and quiet > 1.0) or quiet > 3.0:
                break
    else:
        problems.append("the capture ran out of time (300 s)")
    for name, records in got.items():
        carries = TUNNELS[tuple(name.split("-"))][2]
        write_pcap(os.path.join(directory, name + ".kernel.pcap"),
                   LINK_IPV4 if carries == "ip" else LINK_ETHERNET, records)
    print("captured %s; %d other frames" % (", ".join("%s %d" % (n, len(r)) for n, r in got.items()), others))
    for problem in problems[:10]:
        print("PROBLEM: " + problem)
    if problems:
        sys.exit(1)


def send(iface, directory):
    """Sends every input inside its tunnel, paced by the inputs' timestamps."""
    sends = []
    for (tenant, device) in TUNNELS:
        _, records = read_pcap(os.path.join(directory, "%s-%s.pcap" % (tenant, device)))
        for number, (time_ns, data) in enumerate(records):
            sends.append((time_ns, tenant, device, number, data))
    sends.sort(key=lambda s: (s[0], s[1], s[2], s[3]))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    with open("/sys/class/net/%s/address" % iface) as f:
        source_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    start = time.monotonic()
    first = sends[0][0] if sends else 0
    late = 0
    for ident, (time_ns, tenant, device, _, data) in enumerate(sends):
        delay = start + (time_ns - first) / 1e9 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -0.05:
            late += 1
        sock.send(encapsulate(tenant, device, data, ident, source_mac))
    summary = "sent %d frames in %.1f s (%d more than 50 ms late)" % (len(sends), time.monotonic() - start, late)
    with open(os.path.join(directory, "sent"), "w") as f:
        f.write(summary + "\n")
    print(summary)


# --- comparison ------------------------------------------------------------------------------

def hexdump(data, start, length=48):
    return data[start:start + length].hex(" ")


def compare(name, kernel_path, engine_path):
    _, kernel = read_pcap(kernel_path)
    _, engine = read_pcap(engine_path)
    kernel = [data for _, data in kernel]
    engine = [data for _, data in engine]
    differences = []
    for i in range(max(len(kernel), len(engine))):
        k = kernel[i] if i < len(kernel) else None
        e = engine[i] if i < len(engine) else None
        if k != e:
            differences.append((i, k, e))
    if not differences:
        print("%s: %d packets, identical in the kernel and vdpctl run" % (name, len(kernel)))
        return
    print("%s: the kernel sent %d packets, vdpctl run %d; %d positions differ"
          % (name, len(kernel), len(engine), len(differences)))
    for i, k, e in differences[:5]:
        if k is None:
            print("  #%d only vdpctl run sent it (%d bytes): %s" % (i + 1, len(e), hexdump(e, 0)))
            continue
        if e is None:
            print("  #%d only the kernel sent it (%d bytes): %s" % (i + 1, len(k), hexdump(k, 0)))
            continue
        at = next((j for j in range(min(len(k), len(e))) if k[j] != e[j]), min(len(k), len(e)))
        begin = max(0, at - 8)
        print("  #%d: kernel %d bytes, vdpctl run %d bytes, first difference at byte %d" % (i + 1, len(k), len(e), at))
        print("    kernel   @%d: %s" % (begin, hexdump(k, begin)))
        print("    vdpctl   @%d: %s" % (begin, hexdump(e, begin)))
        # Where did the kernel's packet go in the engine's output, if anywhere?
        if k in engine:
            print("    (the kernel's packet is #%d of vdpctl run's)" % (engine.index(k) + 1))
    sys.exit(1)


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "generate":
        generate(int(argv[2]), int(argv[3]), float(argv[4]), argv[5])
    elif mode == "capture":
        capture(argv[2], argv[3], argv[4])
    elif mode == "send":
        send(argv[2], argv[3])
    elif mode == "compare":
        compare(argv[2], argv[3], argv[4])
    elif mode == "count":
        print(len(read_pcap(argv[2])[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
