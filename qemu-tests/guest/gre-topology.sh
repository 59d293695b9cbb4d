# The GRE test topology, sourced by the gre scenario and the forwarding benchmark (with lib.sh):
# phys0 <-> far (tunnel endpoints 192.0.2.11/.12/.21/.22, next hop 02:00:00:00:ff:01), and behind
# each Linux tunnel a namespace: red-a/red-b (gre, keys 11/12), blue-a/blue-b (gretap, keyless/22).
# busybox sh prefers its own applets to PATH: use iproute2's ip (netns, veth, gre, gretap).
ip() { /usr/sbin/ip "$@"; }
SYSTEM=/vdp/configs/gre-system.toml

# counter TENANT DEVICE NAME: one counter of a tenant's virtual device (0 when not shown).
counter() {
  vdpctl vdev show --tenant "$1" "$2" | tr ',' '\n' | awk -v n="$3" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }'
}
expect_counter() { # TENANT DEVICE NAME VALUE
  got=$(counter "$1" "$2" "$3")
  [ "$got" = "$4" ] || fail "tenant $1 $2 $3 is $got, want $4: $(vdpctl vdev show --tenant "$1" "$2")"
}
in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }

step "topology: phys0 <-> far (tunnel endpoints), a namespace behind each Linux tunnel"
phys0_and_far 11 12 21 22
ip -n far link set lo up
# leaf NAME TYPE LOCAL ADDRESS [KEY] [MAC]: a Linux tunnel made in far, moved into its own
# namespace (its outer packets stay in far), with a default route through it.
leaf() {
  ip netns add "$1"
  ip -n "$1" link set lo up
  if [ -n "$5" ]; then key="key $5"; else key=""; fi
  ip -n far link add "t-$1" type "$2" local "$3" remote 192.0.2.1 $key
  ip -n far link set "t-$1" netns "$1"
  [ -z "$6" ] || ip -n "$1" link set "t-$1" address "$6"
  ip -n "$1" addr add "$4/24" dev "t-$1"
  ip -n "$1" link set "t-$1" up
}
leaf red-a gre 192.0.2.11 10.1.0.2 11
leaf red-b gre 192.0.2.12 10.2.0.2 12
leaf blue-a gretap 192.0.2.21 10.1.0.2 "" 02:00:00:00:b1:02
leaf blue-b gretap 192.0.2.22 10.2.0.2 22 02:00:00:00:b2:02
ip -n red-a route add default dev t-red-a
ip -n red-b route add default dev t-red-b
# gre-router.click does no ARP (the arp scenario's router does): the Ethernet hosts know their
# router's address statically.
ip -n blue-a neigh add 10.1.0.1 lladdr 02:00:00:00:b1:01 dev t-blue-a
ip -n blue-b neigh add 10.2.0.1 lladdr 02:00:00:00:b2:01 dev t-blue-b
ip -n blue-a route add default via 10.1.0.1
ip -n blue-b route add default via 10.2.0.1

