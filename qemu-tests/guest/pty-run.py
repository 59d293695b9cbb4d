"""Runs a command on a pseudo-terminal, as a person's terminal would hold it (the guest has no
`script`), and keeps what it drew.

    python3 pty-run.py OUT COLUMNS ROWS SECONDS KEYS CMD...

The terminal is COLUMNS x ROWS with TERM=xterm. Everything the command writes goes to OUT. KEYS
("-" for none) are typed one a second, the first a second after the command first wrote. The
command is killed (and this exits 124) if it has not ended SECONDS after its start. The exit
status is the command's, 128 + the signal's number if a signal ended it.

OUT.screen gets what the alternate screen showed when it was left (a program that draws only
the cells that changed, as ratatui does, never writes a whole screen at once): the output is
played on a grid that understands cursor moves, clears and text, and ignores colours and modes.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def play(text, rows, columns):
    """The grid `text` leaves on a ROWS x COLUMNS terminal, and the grid when the alternate screen
    was last left (None if it never was)."""
    grid = [[" "] * columns for _ in range(rows)]
    left = None
    r = c = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\x1b" and i + 1 < len(text) and text[i + 1] == "[":
            j = i + 2
            while j < len(text) and not ("@" <= text[j] <= "~"):
                j += 1
            params, final = text[i + 2:j], text[j] if j < len(text) else ""
            numbers = [int(p) if p.isdigit() else 0 for p in params.lstrip("?").split(";")]
            if final == "H":
                r, c = max(numbers[0], 1) - 1, (max(numbers[1], 1) - 1 if len(numbers) > 1 else 0)
            elif final == "J" and numbers[0] == 2:
                grid = [[" "] * columns for _ in range(rows)]
            elif final == "K":
                grid[r][c:] = [" "] * (columns - c)
            elif final == "l" and params == "?1049":
                left = ["".join(row).rstrip() for row in grid]
            i = j + 1
            continue
        if ch == "\x1b":
            i += 2
            continue
        if ch == "\r":
            c = 0
        elif ch == "\n":
            r = min(r + 1, rows - 1)
        elif ch >= " ":
            if c < columns:
                grid[r][c] = ch
            c += 1
        i += 1
    return ["".join(row).rstrip() for row in grid], left

out_path, columns, rows, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
keys = b"" if sys.argv[5] == "-" else sys.argv[5].encode()
command = sys.argv[6:]
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm"
    os.execvp(command[0], command)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
start = time.monotonic()
first = None
typed = 0
drawn = bytearray()
while True:
    now = time.monotonic()
    if now - start > limit:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        open(out_path, "wb").write(drawn)
        print(f"pty-run: {command[0]} still running after {limit} s", file=sys.stderr)
        sys.exit(124)
    if first is not None and typed < len(keys) and now - first >= typed + 1:
        os.write(fd, keys[typed:typed + 1])
        typed += 1
    ready, _, _ = select.select([fd], [], [], 0.05)
    if not ready:
        continue
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the command ended and closed the terminal
        data = b""
    if not data:
        break
    if first is None:
        first = time.monotonic()
    drawn += data
_, status = os.waitpid(pid, 0)
open(out_path, "wb").write(drawn)
_, left = play(drawn.decode("utf-8", "replace"), rows, columns)
open(out_path + ".screen", "w").write("\n".join(left or []) + "\n")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
