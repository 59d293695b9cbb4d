# timeout: 300
# What vdpctl reads of the host through rtnetlink: a port's Ethernet address when the system
# config leaves it out (and a stated one that disagrees refused), a port that is down refused
# before it is attached and taken once it is up, a next hop resolved from a neighbour table that
# starts without it, and a next hop that never resolves refused with nothing applied: by
# `vdpctl system apply`, `vdpctl port add`, `vdpctl vdev add` and the coordinator, at its start,
# at its resync and at SIGHUP.
. /vdp/lib.sh
ip() { /usr/sbin/ip "$@"; }
load_vdp
phys0_and_far 11 12
PHYS_MAC=02:00:00:00:aa:01 FAR_MAC=02:00:00:00:ff:01
ip link set phys0 address $PHYS_MAC

# system HOPS: a config with phys0 (no mac) and tenant red, whose eth1 goes to 192.0.2.11 and,
# with HOPS=2, whose eth2 goes to 192.0.2.99, where nobody answers; no next_hop_mac anywhere.
system() {
  printf '[[physical]]\nname = "phys0"\n'
  printf '\n[[tunnel]]\nname = "t1"\nphysical = "phys0"\nlocal = "192.0.2.1"\nremote = "192.0.2.11"\nkey = 1\ncarries = "ip"\n'
  [ "$1" = 1 ] || printf '\n[[tunnel]]\nname = "t2"\nphysical = "phys0"\nlocal = "192.0.2.1"\nremote = "192.0.2.99"\nkey = 2\ncarries = "ip"\n'
  printf '\n[[tenant]]\nname = "red"\ncgroup = "/red"\ncpu_share = 20\n'
  printf '\n[[tenant.device]]\nname = "eth1"\ntunnel = "t1"\naddress = "10.1.0.1/24"\n'
  [ "$1" = 1 ] || printf '\n[[tenant.device]]\nname = "eth2"\ntunnel = "t2"\naddress = "10.2.0.1/24"\n'
  [ "$1" = 1 ] || printf '\n[[tenant]]\nname = "blue"\ncgroup = "/blue"\ncpu_share = 20\n'
  return 0
}
system 1 > /tmp/one.toml
system 2 > /tmp/two.toml
# operstate_is STATE...: waits up to 5 s for phys0's operational state (the kernel updates it
# asynchronously) to be one of STATE.
operstate_is() {
  local i=0 now
  while :; do
    now=$(cat /sys/class/net/phys0/operstate)
    for want in "$@"; do [ "$now" = "$want" ] && return 0; done
    [ $i -lt 50 ] || fail "phys0's operstate is $now, want $*"
    sleep 0.1; i=$((i + 1))
  done
}
no_neighbour() { # no_neighbour ADDRESS: flushes phys0's neighbours; ADDRESS must have no entry
  ip neigh flush dev phys0
  [ -z "$(ip neigh show dev phys0 "$1")" ] || fail "$1 still has a neighbour entry: $(ip neigh show dev phys0 "$1")"
}
module_is_empty() {
  [ "$(vdpctl -j tenant show)" = "[]" ] || fail "tenants were created: $(vdpctl tenant show)"
  out=$(vdpctl port show)
  case "$out" in *phys0*) fail "phys0 was attached: $out" ;; esac
}
tenant_names() { vdpctl stats --json | tr -d ' \n' | grep -o '"name":"[a-z]*","thread_pid"' | sed 's/"name":"\([a-z]*\)".*/\1/' | tr '\n' ' '; }
peer_mac() { # peer_mac TENANT DEVICE: the module's next hop address of the device
  vdpctl -j vdev show --tenant "$1" "$2" | tr -d ' \n' | sed -n 's/.*"peer_mac":"\([0-9a-f:]*\)".*/\1/p'
}

step "phys0 administratively down: port add and system apply are refused, nothing is attached"
ip link set phys0 down
operstate_is down
out=$(expect_fail "attaching a port that is down" vdpctl port add phys0)
expect_text "$out" "not attaching to phys0: interface phys0 is down (administratively: IFF_UP is clear, operational state DOWN)"
out=$(expect_fail "applying over a port that is down" vdpctl system apply /tmp/one.toml)
expect_text "$out" "/tmp/one.toml: nothing applied"
expect_text "$out" "tunnel 't1': its next hop cannot be resolved through phys0: interface phys0 is down"
module_is_empty

step "phys0 up but its peer down (no carrier): refused with its operational state"
ip link set phys0 up
ip -n far link set wire down
operstate_is lowerlayerdown down
out=$(expect_fail "attaching a port without carrier" vdpctl port add phys0)
expect_match "$out" "not attaching to phys0: interface phys0 is up but its operational state is (LOWERLAYERDOWN|DOWN) \(no carrier\?\)"
module_is_empty

step "phys0 up: its mac is read from the host and the next hop resolved from a flushed neighbour table"
ip -n far link set wire up
operstate_is up
no_neighbour 192.0.2.11
out=$(vdpctl system apply /tmp/one.toml); echo "$out" | sed 's/^/    /'
expect_text "$out" "physical device phys0: mac $PHYS_MAC (read from the host)"
expect_match "$out" "tunnel t1: next hop 192.0.2.11 on phys0 is at $FAR_MAC \(neighbour table, resolved in [0-9]+ ms\)"
expect_text "$out" "attached to phys0"
expect_text "$out" "created device eth1 of tenant red over phys0"
[ "$(peer_mac 1 eth1)" = $FAR_MAC ] || fail "eth1's next hop in the module is '$(peer_mac 1 eth1)', want $FAR_MAC"
expect_match "$(ip neigh show dev phys0 192.0.2.11)" "lladdr $FAR_MAC"
step "applied again with the entry in the table: read from it at once, nothing to do"
out=$(vdpctl system apply /tmp/one.toml); echo "$out" | sed 's/^/    /'
expect_match "$out" "tunnel t1: next hop 192.0.2.11 on phys0 is at $FAR_MAC \(neighbour table\)$"
expect_text "$out" "already matches"

step "a next hop that never resolves: a clear error after 1 s, nothing applied"
start=$(cut -d' ' -f1 /proc/uptime)
out=$(expect_fail "an unresolvable next hop" vdpctl system apply /tmp/two.toml)
took=$(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { print b - a }')
echo "    refused after ${took}s"
expect_text "$out" "/tmp/two.toml: nothing applied"
expect_text "$out" "tunnel 't2': the next hop 192.0.2.99 (the remote end itself, on the link) has no usable entry in the neighbour table of phys0; sent a UDP datagram to 192.0.2.99:9 through phys0, then read the table every 50 ms for 1000 ms"
awk -v t="$took" 'BEGIN { exit !(t >= 0.9 && t < 10) }' || fail "the refusal took ${took}s, want about 1 s"
[ "$(tenant_names)" = "red " ] || fail "the refused apply changed the tenants: $(vdpctl tenant show)"
vdpctl vdev show --tenant 1 eth1 >/dev/null || fail "eth1 is gone"
expect_fail "eth2 was created" vdpctl vdev show --tenant 1 eth2 >/dev/null

step "a stated mac that disagrees with the host is refused"
# with_line AFTER LINE FILE: FILE with LINE added after each line that is AFTER.
with_line() { awk -v after="$1" -v line="$2" '{ print } $0 == after { print line }' "$3"; }
with_line 'name = "phys0"' 'mac = "02:00:00:00:00:01"' /tmp/one.toml > /tmp/wrong.toml
out=$(expect_fail "a mac that disagrees" vdpctl system apply /tmp/wrong.toml)
expect_text "$out" "physical device 'phys0': the config gives mac 02:00:00:00:00:01 but the host's phys0 has $PHYS_MAC"
with_line 'name = "phys0"' "mac = \"$PHYS_MAC\"" /tmp/one.toml > /tmp/right.toml
out=$(vdpctl system apply /tmp/right.toml); expect_text "$out" "already matches"
case "$out" in *"read from the host"*) fail "a stated mac was reported as read: $out" ;; esac

step "vdev add without --peer-mac resolves the next hop through the port"
no_neighbour 192.0.2.12
vdpctl vdev add --tenant red eth3 --port phys0 --local 192.0.2.1 --remote 192.0.2.12 --key 3 --carries ip >/dev/null
[ "$(peer_mac 1 eth3)" = $FAR_MAC ] || fail "eth3's next hop in the module is '$(peer_mac 1 eth3)', want $FAR_MAC"
out=$(expect_fail "vdev add towards nobody" vdpctl vdev add --tenant red eth4 --port phys0 --local 192.0.2.1 --remote 192.0.2.98 --key 4 --carries ip)
expect_text "$out" "the next hop 192.0.2.98 (the remote end itself, on the link) has no usable entry in the neighbour table of phys0"

step "the coordinator: a next hop that cannot resolve at its start stops it with the reason"
unload_vdp; load_vdp
ip link set phys0 down
operstate_is down
if vdpctl daemon --system /tmp/one.toml --state /tmp/rtnl-state.json 2>/tmp/vdpd-fail.log; then fail "the coordinator started over a port that is down"; fi
cat /tmp/vdpd-fail.log | sed 's/^/    /'
expect_text "$(cat /tmp/vdpd-fail.log)" "/tmp/one.toml: the host does not give what the system config needs"
expect_text "$(cat /tmp/vdpd-fail.log)" "tunnel 't1': its next hop cannot be resolved through phys0: interface phys0 is down"

step "the coordinator over a port that is down: the attach is refused and retried; once it is up the tenant is in line"
with_line 'carries = "ip"' "next_hop_mac = \"$FAR_MAC\"" /tmp/one.toml > /tmp/stated.toml
expect_text "$(cat /tmp/stated.toml)" "next_hop_mac = \"$FAR_MAC\""
start_coordinator /tmp/stated.toml /tmp/rtnl-state.json
expect_text "$(cat /tmp/vdpd.log)" "tenant red: sync failed (retried every poll, logged once): not attaching to phys0: interface phys0 is down"
expect_fail "eth1 made over a port that is down" vdpctl vdev show --tenant 1 eth1 >/dev/null
ip link set phys0 up
operstate_is up
i=0
until grep -q "tenant red: in line again" /tmp/vdpd.log; do
  [ $i -lt 100 ] || { cat /tmp/vdpd.log; fail "red was not in line 10 s after phys0 came up"; }
  sleep 0.1; i=$((i + 1))
done
vdpctl vdev show --tenant 1 eth1 >/dev/null || fail "red is in line but has no eth1"
expect_text "$(vdpctl port show)" "phys0 (attached)"

step "SIGHUP with a next hop that never resolves: refused, the coordinator answers meanwhile, nothing changes"
cp /tmp/two.toml /tmp/stated.toml
before=$(awk '/^vdpd: reload/ { n++ } END { print n + 0 }' /tmp/vdpd.log)
kill -HUP "$VDPD_PID"
sleep 0.1
in_container /red vdpctl show >/dev/null || fail "the coordinator did not answer while it resolved a next hop"
[ "$(awk '/^vdpd: reload/ { n++ } END { print n + 0 }' /tmp/vdpd.log)" = "$before" ] || fail "the reload was answered before the request: $(tail -n 3 /tmp/vdpd.log)"
i=0
until [ "$(awk '/^vdpd: reload/ { n++ } END { print n + 0 }' /tmp/vdpd.log)" -gt "$before" ]; do
  [ $i -lt 100 ] || { cat /tmp/vdpd.log; fail "no reload answer 10 s after SIGHUP"; }
  sleep 0.1; i=$((i + 1))
done
line=$(grep "^vdpd: reload" /tmp/vdpd.log | tail -n 1); echo "    $line"
expect_text "$line" "reload refused: /tmp/stated.toml: the host does not give what the system config needs"
expect_text "$line" "tunnel 't2': the next hop 192.0.2.99"
[ "$(tenant_names)" = "red " ] || fail "the refused reload changed the tenants: $(vdpctl tenant show)"
expect_fail "eth2 was created" vdpctl vdev show --tenant 1 eth2 >/dev/null
stop_coordinator
echo "PASS"
