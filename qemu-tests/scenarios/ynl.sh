# needs: python
# timeout: 400
# The kernel's own YNL CLI (tools/net/ynl/pyynl/cli.py, with Python and PyYAML in the guest's
# Python layer) drives the vdp family from docs/netlink/vdp.yaml alone: do, dump, errors with
# their extack, and notifications.
. /vdp/lib.sh
load_vdp
export PYTHONPATH=/usr/lib/python3/dist-packages
YNL_ARGS="/vdp/ynl/pyynl/cli.py --spec /vdp/vdp.yaml --no-schema --output-json"
ynl() { python3 $YNL_ARGS "$@"; }

step "--do get-info"
out=$(ynl --do get-info) || fail "get-info: $out"
echo "$out"
expect_match "$out" '"version": "0\.1\.0"'
expect_match "$out" '"tenant-count": 0'
expect_match "$out" '"name": "Counter"'

step "notifications: --subscribe events"
# Unbuffered: it is stopped with a signal once the events are in.
python3 -u $YNL_ARGS --subscribe events --duration 150 > /tmp/ntf 2>&1 &
subscriber=$!
i=0
until ls -l /proc/$subscriber/fd 2>/dev/null | grep -q socket; do
  [ $i -lt 900 ] || fail "the YNL subscriber did not open its socket"
  sleep 0.1; i=$((i + 1))
done
sleep 2

step "--do tenant-new, sched-set, tenant-get"
out=$(ynl --do tenant-new --json '{"tenant-id": 7, "tenant-name": "ynl"}') || fail "tenant-new: $out"
echo "$out"
expect_match "$out" '"tenant-name": "ynl"'
expect_match "$out" '"thread-pid": \[?[1-9]'
out=$(ynl --do sched-set --json '{"tenant-id": 7, "tasks-per-yield": 64}') || fail "sched-set: $out"
expect_match "$out" '"tasks-per-yield": 64'
expect_match "$(vdpctl sched get --tenant 7)" "64"

step "errors carry the kernel's extack message"
out=$(expect_fail "duplicate tenant" ynl --do tenant-new --json '{"tenant-id": 7, "tenant-name": "other"}')
expect_match "$out" "a tenant with this id already exists"
out=$(expect_fail "tasks-per-yield out of range" ynl --do sched-set --json '{"tenant-id": 7, "tasks-per-yield": 5000}')
expect_match "$out" "range|Invalid argument|-22"

step "--do graph-install with a compiled graph, --dump stats"
printf 'src :: InfiniteSource(LIMIT 100);\nc :: Counter;\nrt :: RadixIPLookup(10.0.0.0/8 0);\nsrc -> c -> rt -> Discard;\n' > /tmp/ynl.click
printf '[limits]\nmax_elements = 16\nmax_queue_capacity = 64\nmax_table_entries = 10\nmax_threads = 1\ntask_budget_cycles = 100000\n\n[[tenant]]\nname = "ynl"\ncgroup = "/ynl"\ncpu_share = 50\n' > /tmp/ynl.toml
vdpctl compile --system /tmp/ynl.toml ynl=/tmp/ynl.click -o /tmp/ynl.vdpg >/dev/null || fail "compile"
hex=$(od -An -v -tx1 /tmp/ynl.vdpg | tr -d ' \n')
out=$(ynl --do graph-install --json "{\"tenant-id\": 7, \"graph\": \"$hex\"}") || fail "graph-install: $out"
expect_match "$out" '"element-count": 4'
wait_for_value 7 ynl/c.count 100
out=$(ynl --dump stats) || fail "stats: $out"
echo "$out"
expect_match "$out" '"name": "ynl/src", "class": "InfiniteSource"'
expect_match "$out" '"task-runs": [1-9]'
out=$(ynl --do handler-read --json '{"tenant-id": 7, "element": "ynl/c", "handler": "count"}') || fail "handler-read: $out"
# VALUE is binary: YNL prints it in hex ("100" is 313030).
expect_match "$out" '"value": "313030"'

step "--do handler-write: a route added through YNL"
route=$(printf '192.168.0.0/16 0' | od -An -v -tx1 | tr -d ' \n')
ynl --do handler-write --json "{\"tenant-id\": 7, \"element\": \"ynl/rt\", \"handler\": \"add\", \"value\": \"$route\"}" >/dev/null \
  || fail "handler-write"
expect_match "$(read_handler 7 ynl/rt.table)" "192.168.0.0/16"

step "--do tenant-del, and the notifications the subscriber saw"
ynl --do tenant-del --json '{"tenant-id": 7}' >/dev/null || fail "tenant-del"
sleep 2
kill $subscriber 2>/dev/null || true
wait $subscriber 2>/dev/null || true
cat /tmp/ntf
expect_match "$(cat /tmp/ntf)" '"name": "tenant-new-ntf"'
expect_match "$(cat /tmp/ntf)" '"name": "graph-install-ntf"'
expect_match "$(cat /tmp/ntf)" "\"name\": \"table-change-ntf\", \"msg\": \\{\"tenant-id\": 7, \"element\": \"ynl/rt\", \"handler\": \"add\", \"value\": \"$route\"\\}"
expect_match "$(cat /tmp/ntf)" '"name": "graph-remove-ntf"'
expect_match "$(cat /tmp/ntf)" '"name": "tenant-del-ntf"'

unload_vdp
echo "ynl ok"
