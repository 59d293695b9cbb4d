#!/usr/bin/env python3
"""Stack bytes one push or pull hop costs in a built vdp.ko: the frame of `Cx::push`/`Cx::pull`
plus that of each element class's `push`/`pull` (return address, saved registers and the
prologue's `sub $N, %rsp`), read from the disassembly. docs/compiled-graph.md ("Call depth")
explains how MAX_CALL_DEPTH follows from these figures.

usage: scripts/call-frames.py path/to/vdp.ko
"""
import re
import subprocess
import sys


def frames(module):
    text = subprocess.run(["llvm-objdump-19", "-d", "--no-show-raw-insn", "--demangle", module],
                          check=True, capture_output=True, text=True).stdout
    result, name, pushes, sub, seen = {}, None, 0, 0, 0
    for line in text.splitlines():
        header = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if header:
            if name:
                result[name] = 8 + 8 * pushes + sub
            name, pushes, sub, seen = header.group(1), 0, 0, 0
            continue
        seen += 1
        if name is None or seen > 40:  # the prologue only
            continue
        if re.search(r"\tpushq\t%", line):
            pushes += 1
        grow = re.search(r"subq\t\$0x([0-9a-f]+), %rsp", line)
        if grow and not sub:
            sub = int(grow.group(1), 16)
    if name:
        result[name] = 8 + 8 * pushes + sub
    return result


def main():
    sizes = frames(sys.argv[1])
    for kind in ("push", "pull"):
        cx = next((v for k, v in sizes.items() if k.endswith(f"engine::Cx>::{kind}")), 0)
        elements = sorted(((v, k) for k, v in sizes.items() if k.endswith(f"engine::Element>::{kind}")), reverse=True)
        if not elements:
            continue
        worst, typical = elements[0][0], sorted(v for v, _ in elements)[len(elements) // 2]
        print(f"{kind}: Cx::{kind} {cx} bytes; element {kind} frames: largest {worst} ({elements[0][1]}), median {typical}")
        print(f"  one hop: at most {cx + worst} bytes, typically {cx + typical}")


if __name__ == "__main__":
    main()
