#!/usr/bin/env python3
"""Helpers for the coordinator-flood scenario. Only os, select, socket, sys and time: the
guest's Python layer carries the modules the YNL CLI needs, little more.

  coord-flood.py flood N STATUS STOP   open N idle connections to the coordinator's socket and,
                                       until the file STOP exists, reopen each one the moment
                                       it is answered (waiting in poll, not spinning: it
                                       floods as fast as the coordinator answers, and leaves
                                       the CPU to others otherwise); counters go to STATUS
  coord-flood.py time LIMIT COUNT SECONDS CMD...
                                       run CMD at least COUNT times and for at least SECONDS,
                                       one after another, timing each with the monotonic clock;
                                       exits 1 if any run fails or takes LIMIT seconds or more
                                       (a LIMIT of 0: no limit). With $RAW_REQUEST set (a
                                       request's JSON), each run is followed by that request
                                       sent straight to the socket, timed and bounded by
                                       $RAW_LIMIT seconds (unset or 0: no limit): the
                                       coordinator's share of a run, without starting vdpctl
"""
import os
import select
import socket
import sys
import time

SOCKET = os.environ.get("VDP_SOCKET") or "/run/vdp/vdpd.sock"


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCKET)
    s.setblocking(False)
    return {"sock": s, "opened": time.monotonic(), "data": b""}


def classify(answer):
    if not answer:
        return "closed"
    if "refused (limit: " in answer:
        return "limit"
    if "no complete request within" in answer:
        return "timeout"
    if "the coordinator is busy" in answer:
        return "busy"
    return "other"


def write_status(path, counts, waiting, first):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("waiting=%d %s\n" % (waiting, " ".join("%s=%d" % kv for kv in sorted(counts.items()))))
        for kind, answer in sorted(first.items()):
            f.write("first %s: %s\n" % (kind, answer))
    os.rename(tmp, path)


def flood(n, status, stop):
    counts = {"limit": 0, "timeout": 0, "busy": 0, "other": 0, "closed": 0}
    first = {}  # the first answer of each kind, for the log
    poller = select.poll()
    conns = {}  # fd -> connection

    def add():
        c = connect()
        conns[c["sock"].fileno()] = c
        poller.register(c["sock"], select.POLLIN)

    for _ in range(n):
        add()
    last_status = 0.0
    while not os.path.exists(stop):
        for fd, _ in poller.poll(200):
            c = conns[fd]
            try:
                chunk = c["sock"].recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            c["data"] += chunk
            if chunk and not c["data"].endswith(b"\n"):
                continue
            answer = c["data"].decode(errors="replace").strip()
            kind = classify(answer)
            counts[kind] += 1
            first.setdefault(kind, answer)
            poller.unregister(fd)
            del conns[fd]
            c["sock"].close()
            add()
        now = time.monotonic()
        if now - last_status >= 0.2:
            write_status(status, counts, sum(1 for c in conns.values() if not c["data"]), first)
            last_status = now
    write_status(status, counts, sum(1 for c in conns.values() if not c["data"]), first)


def raw_request(line):
    """Sends one request line, returns (seconds, answer)."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCKET)
    s.sendall(line.encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return time.monotonic() - t0, data.decode(errors="replace").strip()


def summary(what, values, start):
    ordered = sorted(values)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    print("LATENCY %s: %d runs over %.1f s, median %.3f s, max %.3f s"
          % (what, len(ordered), time.monotonic() - start, median, ordered[-1]))


def timed(limit, count, seconds, cmd):
    latencies, failures, raw = [], [], []
    raw_line = os.environ.get("RAW_REQUEST")
    raw_limit = float(os.environ.get("RAW_LIMIT") or 0)
    start = time.monotonic()
    while len(latencies) < count or time.monotonic() - start < seconds:
        r, w = os.pipe()
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.dup2(w, 1)
            os.dup2(w, 2)
            os.close(r)
            os.close(w)
            try:
                os.execvp(cmd[0], cmd)
            finally:
                os._exit(127)
        os.close(w)
        out = b""
        while True:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            out += chunk
        os.close(r)
        _, st = os.waitpid(pid, 0)
        dt = time.monotonic() - t0
        latencies.append(dt)
        code = os.waitstatus_to_exitcode(st)
        text = out.decode(errors="replace").strip()
        print("    %-2d %.3f s exit %d: %s" % (len(latencies), dt, code, text[:200]))
        if raw_line:
            rdt, answer = raw_request(raw_line)
            raw.append(rdt)
            print("       raw request %.3f s: %s" % (rdt, answer[:200]))
            if '"status":"ok"' not in answer:
                failures.append("raw request %d: %s" % (len(raw), answer))
            elif raw_limit and rdt >= raw_limit:
                failures.append("raw request %d took %.3f s" % (len(raw), rdt))
        if code != 0:
            failures.append("run %d exited %d: %s" % (len(latencies), code, text))
        elif limit and dt >= limit:
            failures.append("run %d took %.3f s" % (len(latencies), dt))
    summary(" ".join(cmd), latencies, start)
    if raw:
        summary("raw request " + raw_line, raw, start)
    for f in failures:
        print("FAILED: " + f)
    return 1 if failures else 0


def main(argv):
    if len(argv) == 5 and argv[1] == "flood":
        flood(int(argv[2]), argv[3], argv[4])
        return 0
    if len(argv) >= 6 and argv[1] == "time":
        return timed(float(argv[2]), int(argv[3]), float(argv[4]), argv[5:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
