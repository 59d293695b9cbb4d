# timeout: 300
# A tenant cannot rewrite what the root context owns: a task over the budget is split by the
# coordinator with a Queue and an Unqueue, which belong to the root context. From inside the
# tenant's container the split Queue's capacity reads but does not write (the coordinator
# refuses, and so does the kernel for any request marked AS_TENANT); the root context still
# writes it; a tenant element named like the coordinator's is refused; show and stats mark it.
# (The bandwidth cap of the same tenant adds no element: the module holds it on transmit, which
# the shaping scenario tests.)
. /vdp/lib.sh
SYSTEM=/vdp/configs/capped-system.toml
RED=/red
load_vdp
physical_device eth0
start_coordinator $SYSTEM

step "red installs from its container; the coordinator split its task, marked as the root's"
out=$(in_container $RED vdpctl install /vdp/configs/capped-red.click); echo "$out"
expect_match "$out" "installed capped-red.click for tenant red"
out=$(in_container $RED vdpctl show); echo "$out" | sed -n '/^elements:/,/^source:/p'
split=$(echo "$out" | awk '$2 == "Queue" && /\[root: read-only for the tenant\]/ { print $1; exit }')
echo "    the split queue: $split"
expect_match "$split" "^[a-z]+@split_queue$"
expect_match "$out" "  q +Queue$"
echo "$out" | grep -q "BandwidthShaper" && fail "the bandwidth cap added a shaper to the graph"
out=$(in_container $RED vdpctl stats); echo "$out"
expect_match "$out" "$split +Queue  \[root: read-only for the tenant\]"
id=$(vdpctl stats | sed -n 's/^tenant \([0-9]*\) red:.*/\1/p')
[ -n "$id" ] || fail "no tenant id for red"

step "the tenant reads the split queue's capacity"
capacity=$(in_container $RED vdpctl read "$split.capacity") || fail "the tenant cannot read its split queue"
echo "    $split.capacity: $capacity"
[ "$capacity" -gt 0 ] || fail "the split queue's capacity is $capacity"

step "the tenant's write is refused by the coordinator, and the capacity is unchanged"
rc=0; out=$(in_container $RED vdpctl write "$split.capacity" 7 2>&1) || rc=$?
echo "    exit $rc: $out"
[ "$rc" = 1 ] || fail "a refused write exits 1, got $rc"
expect_match "$out" "'$split' \(Queue\) belongs to the root context"
[ "$(in_container $RED vdpctl read "$split.capacity")" = "$capacity" ] || fail "the capacity changed"
grep -q "wrote $split" /tmp/vdpd.log && fail "the coordinator logged a write it refused"

step "the kernel refuses a write that acts for the tenant on its own (EPERM, element named)"
out=$(expect_fail "AS_TENANT write" vdpctl handler write --tenant "$id" --as-tenant "red/$split.capacity" 7)
expect_match "$out" "element 'red/$split' belongs to the root context"
expect_match "$out" "Operation not permitted|EPERM"
[ "$(vdpctl handler read --tenant "$id" "red/$split.capacity")" = "$capacity" ] || fail "the capacity changed"

step "the tenant still writes its own elements"
in_container $RED vdpctl write q.capacity 50 || fail "the tenant cannot write its own queue"
[ "$(in_container $RED vdpctl read q.capacity)" = "50" ] || fail "q.capacity not written"
vdpctl handler write --tenant "$id" --as-tenant red/q.capacity 60 || fail "AS_TENANT write to a tenant element"
[ "$(in_container $RED vdpctl read q.capacity)" = "60" ] || fail "q.capacity not written"

step "the root context writes the split queue, through the coordinator and directly"
vdpctl write --tenant red "$split.capacity" 70 || fail "root's coordinator write was refused"
[ "$(vdpctl read --tenant red "$split.capacity")" = "70" ] || fail "root's write did not take"
vdpctl handler write --tenant "$id" "red/$split.capacity" 80 || fail "root's direct write was refused"
[ "$(in_container $RED vdpctl read "$split.capacity")" = "80" ] || fail "root's direct write did not take"

step "a tenant element named like the coordinator's is refused"
out=$(expect_fail "impostor" in_container $RED vdpctl install /vdp/configs/capped-impostor.click)
expect_match "$out" "element name 'tx@shaper' is reserved for the coordinator"
out=$(in_container $RED vdpctl show); expect_match "$out" "configuration capped-red.click"

stop_coordinator
