# timeout: 420
# The element library beyond the engine's basics, with real IPv4 packets: CheckIPHeader,
# IPClassifier, RadixIPLookup, DecIPTTL, SetIPChecksum, EtherEncap and Classifier counted stage by
# stage; Click's route-table handlers (add, remove, set, lookup, table; duplicates and missing
# routes refused; batches all or nothing); a timed load of 200k routes; and the rated, switching,
# logging, encapsulating and scheduling classes.
. /vdp/lib.sh
load_vdp
vdpctl tenant add red --id 1 >/dev/null

# lookup ADDR: Click's answer, `OUTPUT [GATEWAY]` or -1.
lookup() { vdpctl handler read --tenant 1 red/rt.lookup "$1" || fail "lookup $1"; }
expect_lookup() {
  got=$(lookup "$1")
  [ "$got" = "$2" ] || fail "lookup $1 gave '$got', want '$2'"
}
write() { vdpctl handler write --tenant 1 "$@" || fail "write $*"; }

step "IPv4 packets through CheckIPHeader, IPClassifier, RadixIPLookup, DecIPTTL, SetIPChecksum, EtherEncap"
compile_for red ip-router.click /tmp/router.vdpg
vdpctl graph install --tenant 1 /tmp/router.vdpg
wait_for_value 1 red/valid.count 100
[ "$(read_handler 1 red/badc.count)" = "7" ] || fail "bad checksums not diverted"
[ "$(read_handler 1 red/chk.drops)" = "7" ] || fail "CheckIPHeader drops"
[ "$(read_handler 1 red/udpc.count)" = "105" ] || fail "IPClassifier udp"
[ "$(read_handler 1 red/tcpc.count)" = "50" ] || fail "IPClassifier tcp"
[ "$(read_handler 1 red/r0.count)" = "105" ] || fail "routes to output 0"
[ "$(read_handler 1 red/r1.count)" = "50" ] || fail "routes via the gateway"
[ "$(read_handler 1 red/r2.count)" = "0" ] || fail "default route used"
[ "$(read_handler 1 red/expired.count)" = "5" ] || fail "TTL 1 not expired"
[ "$(read_handler 1 red/ethc.count)" = "100" ] || fail "Ethernet type or TTL 63 not seen"
[ "$(read_handler 1 red/recheck.drops)" = "0" ] || fail "checksum wrong after DecIPTTL/SetIPChecksum"

step "route lookups give the longest prefix"
expect_lookup 10.1.2.3 0
expect_lookup 10.9.1.1 "1 10.0.0.254"
expect_lookup 8.8.8.8 2
expect_lookup 172.20.0.1 0

step "add, set and remove, with lookups after each"
write red/rt.add "10.1.2.0/24 1"
expect_lookup 10.1.2.3 1
expect_lookup 10.1.3.1 0
out=$(expect_fail "duplicate add" vdpctl handler write --tenant 1 red/rt.add "10.1.2.0/24 2")
expect_match "$out" "route already exists"
expect_lookup 10.1.2.3 1
write red/rt.set "10.1.2.0/24 10.0.0.9 2"
expect_lookup 10.1.2.3 "2 10.0.0.9"
write red/rt.remove "10.1.2.0/24"
expect_lookup 10.1.2.3 0
out=$(expect_fail "remove of a missing route" vdpctl handler write --tenant 1 red/rt.remove "10.1.2.0/24")
expect_match "$out" "no such route"
write red/rt.remove "0.0.0.0/0 2"
expect_lookup 8.8.8.8 -1
out=$(expect_fail "remove naming another output" vdpctl handler write --tenant 1 red/rt.remove "10.1.0.0/16 1")
expect_match "$out" "no such route"
out=$(expect_fail "output beyond the element's" vdpctl handler write --tenant 1 red/rt.add "10.2.0.0/16 3")
expect_match "$out" "output port"
out=$(expect_fail "lookup of a non-address" vdpctl handler read --tenant 1 red/rt.lookup nowhere)
expect_match "$out" "lookup ADDR"

step "a batch is all or nothing"
out=$(expect_fail "batch with a duplicate" vdpctl handler write --tenant 1 red/rt.add "10.50.0.0/16 1
10.1.0.0/16 1
10.51.0.0/16 1")
expect_match "$out" "route already exists"
expect_lookup 10.50.0.1 -1
write red/rt.add "10.50.0.0/16 1
10.51.0.0/16 10.0.0.7 2"
expect_lookup 10.50.0.1 1
expect_lookup 10.51.0.1 "2 10.0.0.7"
table=$(read_handler 1 red/rt.table)
echo "$table"
[ "$(echo "$table" | wc -l)" = "5" ] || fail "table has the wrong number of routes"
expect_match "$table" "^10\.51\.0\.0/16	10\.0\.0\.7	2$"
expect_match "$table" "^10\.1\.0\.0/16	-	0$"

step "packets follow the changed table"
write red/rt.remove "10.1.0.0/16"
write red/rt.add "10.1.0.0/16 10.0.0.1 1"
write red/udp.reset
wait_for_value 1 red/r1.count 150

step "a hotswap keeps the routes the table learned"
vdpctl graph install --tenant 1 /tmp/router.vdpg
expect_lookup 10.50.0.1 1
expect_lookup 10.1.2.3 "1 10.0.0.1"
expect_lookup 8.8.8.8 -1

step "load 200k routes in batched writes"
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "%d.%d.%d.0/24 1\n", 32 + int(i / 65536), int(i / 256) % 256, i % 256 }' > /tmp/routes
[ "$(wc -l < /tmp/routes)" = "200000" ] || fail "route file"
t0=$(cut -d" " -f1 /proc/uptime)
vdpctl handler write --tenant 1 red/rt.add --file /tmp/routes || fail "loading 200k routes"
t1=$(cut -d" " -f1 /proc/uptime)
echo "    200000 routes loaded in $(echo "$t0 $t1" | awk '{ printf "%.2f s (%.0f routes/s)", $2 - $1, 200000 / ($2 - $1 + 0.005) }') under TCG"
expect_lookup 32.0.0.1 1
expect_lookup 35.13.63.200 1
expect_lookup 10.50.0.1 1
out=$(expect_fail "duplicate among 200k" vdpctl handler write --tenant 1 red/rt.add "33.0.5.0/24 2")
expect_match "$out" "route already exists"
out=$(expect_fail "table too large for a reply" vdpctl handler read --tenant 1 red/rt.table)
expect_match "$out" "too large"
write red/rt.flush
expect_lookup 32.0.0.1 -1

step "rated source, Print, Chew and RoundRobinSwitch"
compile_for red elements-misc.click /tmp/misc.vdpg
vdpctl graph install --tenant 1 /tmp/misc.vdpg
early=$(read_handler 1 red/rs.count)
[ "$early" -lt 100 ] || fail "RatedSource ran ahead of its rate ($early at once)"
wait_for_value 1 red/rs.count 100
wait_for_value 1 red/rr0.count 50
[ "$(read_handler 1 red/rr1.count)" = "50" ] || fail "round robin"
[ "$(read_handler 1 red/chew.cycles)" = "1000" ] || fail "chew cycles"
write red/chew.cycles 5000
[ "$(read_handler 1 red/chew.cycles)" = "5000" ] || fail "chew cycles write"
[ "$(read_handler 1 red/pr.active)" = "true" ] || fail "print active"
write red/pr.active false
[ "$(read_handler 1 red/pr.active)" = "false" ] || fail "print active write"
lines=$(dmesg | grep -c "red_pkt:" || true)
dmesg | grep "red_pkt:" | head -3
[ "$lines" -ge 1 ] && [ "$lines" -le 12 ] || fail "Print logged $lines lines for 100 packets at 2 per second"

step "Queue, BandwidthShaper, RatedUnqueue and HashSwitch"
wait_for_value 1 red/ru.count 60
h0=$(read_handler 1 red/h0.count); h1=$(read_handler 1 red/h1.count)
[ $((h0 + h1)) = 60 ] || fail "HashSwitch lost packets: $h0 + $h1"
[ "$(read_handler 1 red/q.drops)" = "0" ] || fail "queue drops"
[ "$(read_handler 1 red/shaper.rate)" = "56000Bps" ] || fail "shaper rate"
write red/shaper.rate 1MBps
[ "$(read_handler 1 red/shaper.rate)" = "1000000Bps" ] || fail "shaper rate write"

step "StaticIPLookup, IPEncap, LinearIPLookup, EtherEncap and EtherMirror"
wait_for_value 1 red/mirrored.count 20
out=$(expect_fail "StaticIPLookup is read-only" vdpctl handler write --tenant 1 red/sl.add "1.0.0.0/8 0")
expect_match "$out" "no such handler"
[ "$(vdpctl handler read --tenant 1 red/sl.lookup 10.0.0.1)" = "0" ] || fail "static lookup"
[ "$(vdpctl handler read --tenant 1 red/ll.lookup 2.2.2.2)" = "0" ] || fail "linear lookup"

step "scheduling directives keep their arguments"
expect_match "$(read_handler 1 red/pin.config)" "^[0-9]+ 0$"
expect_match "$(read_handler 1 red/share.config)" "^[0-9]+ 2048$"

vdpctl graph remove --tenant 1
unload_vdp
echo "elements ok"
