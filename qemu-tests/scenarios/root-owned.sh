# timeout: 300
# A tenant cannot rewrite the limits the root set: with bandwidth_cap set, the coordinator's
# BandwidthShaper in front of the tenant's ToDevice belongs to the root context. From inside the
# tenant's container its rate reads but does not write (the coordinator refuses, and so does the
# kernel for any request marked AS_TENANT); the root context still writes it; a tenant element
# named like it is refused; show and stats mark it.
. /vdp/lib.sh
SYSTEM=/vdp/configs/capped-system.toml
RED=/red
load_vdp
physical_device eth0
start_coordinator $SYSTEM

step "red installs from its container; the coordinator added tx@shaper, marked as the root's"
out=$(in_container $RED vdpctl install /vdp/configs/capped-red.click); echo "$out"
expect_match "$out" "installed capped-red.click for tenant red"
out=$(in_container $RED vdpctl show); echo "$out" | sed -n '/^elements:/,/^source:/p'
expect_match "$out" "tx@shaper +BandwidthShaper  \[root: read-only for the tenant\]"
expect_match "$out" "  q +Queue$"
out=$(in_container $RED vdpctl stats); echo "$out"
expect_match "$out" "tx@shaper +BandwidthShaper  \[root: read-only for the tenant\]"
id=$(vdpctl stats | sed -n 's/^tenant \([0-9]*\) red:.*/\1/p')
[ -n "$id" ] || fail "no tenant id for red"

step "the tenant reads the shaper's rate"
rate=$(in_container $RED vdpctl read tx@shaper.rate) || fail "the tenant cannot read its shaper"
echo "    tx@shaper.rate: $rate"
[ "$rate" = "125000Bps" ] || fail "the shaper's rate is $rate, want 1Mbps = 125000Bps"

step "the tenant's write is refused by the coordinator, and the rate is unchanged"
rc=0; out=$(in_container $RED vdpctl write tx@shaper.rate 10Gbps 2>&1) || rc=$?
echo "    exit $rc: $out"
[ "$rc" = 1 ] || fail "a refused write exits 1, got $rc"
expect_match "$out" "'tx@shaper' \(BandwidthShaper\) belongs to the root context"
[ "$(in_container $RED vdpctl read tx@shaper.rate)" = "125000Bps" ] || fail "the rate changed"
grep -q "wrote tx@shaper" /tmp/vdpd.log && fail "the coordinator logged a write it refused"

step "the kernel refuses a write that acts for the tenant on its own (EPERM, element named)"
out=$(expect_fail "AS_TENANT write" vdpctl handler write --tenant "$id" --as-tenant red/tx@shaper.rate 10Gbps)
expect_match "$out" "element 'red/tx@shaper' belongs to the root context"
expect_match "$out" "Operation not permitted|EPERM"
[ "$(vdpctl handler read --tenant "$id" red/tx@shaper.rate)" = "125000Bps" ] || fail "the rate changed"

step "the tenant still writes its own elements"
in_container $RED vdpctl write q.capacity 50 || fail "the tenant cannot write its own queue"
[ "$(in_container $RED vdpctl read q.capacity)" = "50" ] || fail "q.capacity not written"
vdpctl handler write --tenant "$id" --as-tenant red/q.capacity 60 || fail "AS_TENANT write to a tenant element"
[ "$(in_container $RED vdpctl read q.capacity)" = "60" ] || fail "q.capacity not written"

step "the root context writes the shaper, through the coordinator and directly"
vdpctl write --tenant red tx@shaper.rate 2Mbps || fail "root's coordinator write was refused"
[ "$(vdpctl read --tenant red tx@shaper.rate)" = "250000Bps" ] || fail "root's write did not take"
vdpctl handler write --tenant "$id" red/tx@shaper.rate 1Mbps || fail "root's direct write was refused"
[ "$(in_container $RED vdpctl read tx@shaper.rate)" = "125000Bps" ] || fail "root's direct write did not take"

step "a tenant element named like the coordinator's shaper is refused"
out=$(expect_fail "impostor" in_container $RED vdpctl install /vdp/configs/capped-impostor.click)
expect_match "$out" "element name 'tx@shaper' is reserved for the coordinator"
out=$(in_container $RED vdpctl show); expect_match "$out" "configuration capped-red.click"

stop_coordinator
