# timeout: 420
# needs: python
# The kernel trusts no blob: a compiled graph edited byte-wise into a push cycle or a pull cycle,
# and chains longer than the kernel's call-depth bound (MAX_CALL_DEPTH), are refused at
# GRAPH_INSTALL with the element named; the module keeps answering and the graph installed
# before keeps running. The front end splits the same long chain with Queues, and it runs.
. /vdp/lib.sh
SYSTEM=/vdp/configs/hostile-system.toml
load_vdp
vdpctl tenant add red --id 1 >/dev/null

# rewire BLOB OUT MODE: edits the connection records of a compiled graph (docs/compiled-graph.md).
# tee:  the connection out of port 1 (t[1] -> d) is retargeted to t's upstream element (c).
# pull: the first connection out of the element that feeds two (q -> a) now comes from the element
#       a feeds (b), so a pulls from b and b from a.
rewire() {
  python3 - "$@" <<'PY'
import struct, sys
blob = bytearray(open(sys.argv[1], "rb").read())
connections, tasks = struct.unpack_from("<II", blob, 24)
start = len(blob) - 12 * tasks - 12 * connections
records = [list(struct.unpack_from("<IHIH", blob, start + 12 * i)) for i in range(connections)]
if sys.argv[3] == "tee":
    index = next(i for i, r in enumerate(records) if r[1] == 1)
    tee = records[index][0]
    counter = next(r[0] for r in records if r[2] == tee)
    assert index == connections - 1, "t[1] -> d is the last record"
    records[index][2:4] = [counter, 0]
else:
    sources = [r[0] for r in records]
    q = next(s for s in sources if sources.count(s) == 2)
    index = next(i for i, r in enumerate(records) if r[0] == q)
    a = records[index][2]
    b = next(r[2] for r in records if r[0] == a)
    records[index][0:2] = [b, 0]
for i, r in enumerate(records):
    struct.pack_into("<IHIH", blob, start + 12 * i, *r)
open(sys.argv[2], "wb").write(blob)
print("    edited connection record %d of %d" % (index, connections))
PY
}

step "the example graph compiles, installs and runs"
vdpctl compile --system $SYSTEM red=/vdp/configs/hostile-tee.click -o /tmp/tee.vdpg
vdpctl graph install --tenant 1 /tmp/tee.vdpg
rising() {
  local a b
  a=$(read_handler 1 red/c.count); sleep 1; b=$(read_handler 1 red/c.count)
  [ "$b" -gt "$a" ] || fail "red/c.count does not rise: $a then $b"
  echo "    red/c.count: $a -> $b"
}
rising

step "t[1] -> d edited into t[1] -> c: a push cycle, refused naming an element on it"
rewire /tmp/tee.vdpg /tmp/tee-cycle.vdpg tee
cmp -s /tmp/tee.vdpg /tmp/tee-cycle.vdpg && fail "the edit changed nothing"
out=$(expect_fail "push cycle" vdpctl graph install --tenant 1 /tmp/tee-cycle.vdpg)
expect_match "$out" "push cycle through element 'red/(c|t)'"
vdpctl info >/dev/null || fail "the module no longer answers"
rising

step "q -> a edited into b -> a: a pull cycle, refused naming an element on it"
vdpctl compile --system $SYSTEM red=/vdp/configs/hostile-pull.click -o /tmp/pull.vdpg
rewire /tmp/pull.vdpg /tmp/pull-cycle.vdpg pull
out=$(expect_fail "pull cycle" vdpctl graph install --tenant 1 /tmp/pull-cycle.vdpg)
expect_match "$out" "pull cycle through element 'red/(a|b)'"
rising

chain() { # chain COUNTERS FILE: InfiniteSource(LIMIT 100) -> c0 -> ... -> Discard
  python3 - "$1" > "$2" <<'PY'
import sys
n = int(sys.argv[1])
print("src :: InfiniteSource(LIMIT 100) -> " + " -> ".join("c%d :: Counter" % i for i in range(n)) + " -> Discard;")
PY
}

step "a push chain of 1002 elements, left unsplit, is refused for its depth"
chain 1000 /tmp/long.click
vdpctl compile --system $SYSTEM red=/tmp/long.click -o /tmp/long.vdpg --no-depth-split
out=$(expect_fail "a deep chain" vdpctl graph install --tenant 1 /tmp/long.vdpg)
expect_match "$out" "push chain from 'red/src' is 1002 elements deep, over 32"
rising

step "a push chain of 4096 elements, valid by the format, is refused too"
chain 4094 /tmp/longest.click
vdpctl compile --system $SYSTEM red=/tmp/longest.click -o /tmp/longest.vdpg --no-depth-split 2>&1 | tail -n1
out=$(expect_fail "a 4096-element chain" vdpctl graph install --tenant 1 /tmp/longest.vdpg)
# Over 146 KB: more than one GRAPH attribute carries (the policy bounds it at 65000 bytes), so
# it never reaches the validator, which the unit tests check at 4096 elements.
expect_match "$out" "one install carries at most 65000"
rising

step "check --explain says where the front end splits the chain"
out=$(vdpctl check --system $SYSTEM --explain red=/tmp/long.click); echo "$out" | tail -n 4
expect_match "$out" "split the push call chain from src \(1002 elements, more than the kernel's 32\)"
expect_match "$out" "longest call chain: [0-9]+ elements from [^ ]+ \(the kernel allows 32\)$"

step "split by the front end, the same chain installs and every packet reaches its end"
vdpctl compile --system $SYSTEM red=/tmp/long.click -o /tmp/long-split.vdpg
vdpctl graph install --tenant 1 /tmp/long-split.vdpg
wait_for_value 1 red/c999.count 100 120
out=$(vdpctl stats --tenant 1); echo "$out" | head -n 3
expect_match "$out" "depth drops 0"
vdpctl graph install --tenant 1 /tmp/tee.vdpg
rising
