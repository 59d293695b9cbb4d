# needs: python
# timeout: 900
# The kernel and the user-level engine agree bit for bit. On the GRE topology (two tenants, one
# with IP tunnels, one with Ethernet tunnels), seeded random inputs per device (IPv4 of every TTL,
# length, protocol and destination, with options, bad checksums, lengths and sources, fragments
# and truncations; non-IP and short Ethernet frames) go into the kernel from the far end, inside
# each device's GRE tunnel, and what the kernel sends back on each tunnel is captured and
# decapsulated. `vdpctl run` runs the same configurations on the same inputs. Each device's
# output must be the same packets in the same order, and the handlers (counters, device stats,
# queues, route tables, lookups, drops) must read the same. Two rounds: the IP router on red with
# an Ethernet configuration on blue, then an IP configuration on red with the router on blue.
. /vdp/lib.sh
load_vdp
. /vdp/gre-topology.sh
DIFF="python3 /vdp/differential.py"
# The user engine does not model the kernel's timing, so the order out of a device must follow
# from the order in: each tenant gets its eth1 inputs first, then (1.5 s later) its eth2 inputs,
# so that only one of its receive queues fills at a time, and the configurations send every
# packet bound for a device through the same queues (see differential-ip.click). The pacing only
# keeps the veth backlog and the queues far from full.
SEED=20261201    # round 1; round 2 uses SEED + 1
PER_DEVICE=300   # input packets per device and round
GAP_MS=3         # between two inputs; each tenant gets one every 6 ms
WORK=/tmp/diff
mkdir -p "$WORK"

step "the far end keeps only its end of the wire: no Linux tunnel answers or sends on its own"
for leaf in red-a red-b blue-a blue-b; do ip -n "$leaf" link del "t-$leaf"; done
vdpctl system apply "$SYSTEM" >/dev/null
vdpctl vdev show --tenant 1
vdpctl vdev show --tenant 2

# The handlers each configuration's round compares, one ELEMENT.HANDLER [PARAMETER] a line.
# gre-router.click leaves some elements unnamed: CheckIPHeader@7 and Discard@9 are the names the
# front end gives them (`vdpctl merge` lists them), and vdpctl run refuses a name that is gone.
port_reads() { # port_reads NAME: the handlers of one gre-router.click Port
  for h in rx.count rx.drops rx.queue_length rx.burst rx.stats tx.count tx.drops tx.burst tx.stats \
           frames.count frames.byte_count other.count CheckIPHeader@7.drops Discard@9.count \
           q.length q.drops q.capacity; do
    echo "$1/$h"
  done
}
router_reads() {
  port_reads p1
  port_reads p2
  printf '%s\n' rt.table "rt.lookup 10.1.0.77" "rt.lookup 10.2.0.200" "rt.lookup 8.8.8.8" \
    Discard@8.count Discard@9.count
}
device_reads() { # device_reads RX TX: FromDevice's and ToDevice's handlers
  printf '%s\n' "$1.count" "$1.drops" "$1.queue_length" "$1.burst" "$1.stats" \
    "$2.count" "$2.drops" "$2.burst" "$2.stats"
}
ip_reads() { # differential-ip.click
  device_reads rx1 tx1
  device_reads rx2 tx2
  for c in frames notip bad echo viagw dns wrapped udp expired tcp toolong other; do
    printf '%s\n' "$c.count" "$c.byte_count"
  done
  printf '%s\n' paint1.color paint2.color chk.drops short.length long.length \
    q1.length q1.drops q1.capacity out2.length out2.drops out2.capacity q2.length q2.drops \
    uq.count uq.burst uq.active hello.count hello.limit hello.data \
    radix.table "radix.lookup 10.3.0.1" "radix.lookup 10.9.9.9" \
    linear.table "linear.lookup 10.2.0.200" "linear.lookup 10.2.0.100" \
    static.table "static.lookup 8.8.8.8" pin.config share.config
}
ether_reads() { # differential-ether.click
  device_reads rx1 tx1
  device_reads rx2 tx2
  for c in in1 in2 out1 arp foreign v6 rest expired bad cut; do
    printf '%s\n' "$c.count" "$c.byte_count"
  done
  printf '%s\n' chk.drops len.length chew.cycles pr.active q1.length q1.drops \
    out2.length out2.drops q2.length q2.drops uq.count hello.count \
    rt.table "rt.lookup 10.77.0.1" "rt.lookup 192.168.3.3"
}

# format_read TARGET VALUE: as `vdpctl run --read` prints it (run/reads.rs): `TARGET: VALUE`,
# or `TARGET:` with the value's lines below it, indented by two spaces.
format_read() {
  if [ -z "$2" ]; then
    echo "$1:"
  elif [ "$(printf '%s\n' "$2" | wc -l)" -eq 1 ]; then
    echo "$1: $2"
  else
    echo "$1:"
    printf '%s\n' "$2" | sed 's/^/  /'
  fi
}
# kernel_reads ID TENANT TARGETS_FILE: every target read from the kernel, formatted.
kernel_reads() {
  local target name parameter value
  while IFS= read -r target; do
    name=${target%% *}
    parameter=""
    [ "$name" = "$target" ] || parameter=${target#* }
    if [ -n "$parameter" ]; then
      value=$(vdpctl handler read --tenant "$1" "$2/$name" "$parameter") || fail "reading $target of $2 in the kernel"
    else
      value=$(vdpctl handler read --tenant "$1" "$2/$name") || fail "reading $target of $2 in the kernel"
    fi
    format_read "$target" "$value"
  done < "$3"
}

TOTAL_PACKETS=0 TOTAL_INPUTS=0 TOTAL_READS=0 FAILED=""
# round NAME SEED RED_CONFIG RED_READS BLUE_CONFIG BLUE_READS
round() {
  local name=$1 seed=$2 dir=$WORK/$1 bad=0
  local red_config=$3 red_reads=$4 blue_config=$5 blue_reads=$6
  local t0 t1 t2 tenant id config reads dev n target capture
  mkdir -p "$dir"
  t0=$(cut -d" " -f1 /proc/uptime)
  step "round $name: inputs (seed $seed, $PER_DEVICE per device, ${GAP_MS} ms apart)"
  $DIFF generate "$seed" "$PER_DEVICE" "$GAP_MS" "$dir" > "$dir/inputs"
  TOTAL_INPUTS=$((TOTAL_INPUTS + $(awk '{ n += $2 } END { print n }' "$dir/inputs")))

  step "round $name: red runs $red_config, blue runs $blue_config; first in vdpctl run"
  : > "$dir/expected"
  for tenant in red blue; do
    if [ "$tenant" = red ]; then config=$red_config reads=$red_reads; else config=$blue_config reads=$blue_reads; fi
    $reads > "$dir/$tenant.targets"
    # The user-level engine, on the configuration, system config and inputs the kernel gets
    # (`set --` collects the --read arguments; the round's own are in locals).
    set --
    while IFS= read -r target; do set -- "$@" --read "$target"; done < "$dir/$tenant.targets"
    vdpctl run "/vdp/configs/$config" --system "$SYSTEM" --tenant "$tenant" \
      --input "eth1=$dir/$tenant-eth1.pcap" --input "eth2=$dir/$tenant-eth2.pcap" \
      --output "eth1=$dir/$tenant-eth1.engine.pcap" --output "eth2=$dir/$tenant-eth2.engine.pcap" \
      "$@" > "$dir/$tenant.engine.reads" 2> "$dir/$tenant.engine.log" \
      || { cat "$dir/$tenant.engine.log"; fail "vdpctl run of $config for $tenant"; }
    cat "$dir/$tenant.engine.log"
    for dev in eth1 eth2; do
      echo "$tenant-$dev $($DIFF count "$dir/$tenant-$dev.engine.pcap")" >> "$dir/expected"
    done
  done

  step "round $name: the far end listens; fresh tenants and devices; the graphs installed"
  # Listening starts first: the graphs' sources (InfiniteSource with a LIMIT) send at once, as
  # they do at time 0 in the user engine, before the first input.
  in_ns far $DIFF capture wire "$dir" "$dir/expected" > "$dir/capture.log" 2>&1 &
  capture=$!
  n=0
  while [ ! -e "$dir/capturing" ]; do
    kill -0 "$capture" 2>/dev/null || { cat "$dir/capture.log"; fail "the capture did not start"; }
    [ "$n" -lt 300 ] || fail "the capture did not start listening in 30 s"
    sleep 0.1; n=$((n + 1))
  done
  if vdpctl tenant show --id 1 >/dev/null 2>&1; then
    vdpctl tenant del --id 1
    vdpctl tenant del --id 2
  fi
  vdpctl system apply "$SYSTEM" >/dev/null
  for tenant in red blue; do
    if [ "$tenant" = red ]; then id=1 config=$red_config; else id=2 config=$blue_config; fi
    vdpctl compile --system "$SYSTEM" "$tenant=/vdp/configs/$config" -o "$dir/$tenant.vdpg" >/dev/null \
      || fail "compiling $config for $tenant"
    vdpctl graph install --tenant "$id" "$dir/$tenant.vdpg" >/dev/null || fail "installing $config for $tenant"
  done
  sleep 1

  step "round $name: the inputs through the kernel, from the far end of the wire"
  t1=$(cut -d" " -f1 /proc/uptime)
  in_ns far $DIFF send wire "$dir" || fail "sending the inputs"
  if ! wait "$capture"; then
    cat "$dir/capture.log"
    fail "the capture failed"
  fi
  cat "$dir/capture.log"
  t2=$(cut -d" " -f1 /proc/uptime)

  step "round $name: each device's packets and each handler, the kernel against vdpctl run"
  for tenant in red blue; do
    for dev in eth1 eth2; do
      if ! $DIFF compare "$tenant $dev" "$dir/$tenant-$dev.kernel.pcap" "$dir/$tenant-$dev.engine.pcap"; then
        bad=1
      fi
      n=$($DIFF count "$dir/$tenant-$dev.kernel.pcap")
      TOTAL_PACKETS=$((TOTAL_PACKETS + n))
      [ "$n" -ge 30 ] || { echo "$tenant $dev: only $n packets came out; the comparison would say little"; bad=1; }
    done
    if [ "$tenant" = red ]; then id=1; else id=2; fi
    kernel_reads "$id" "$tenant" "$dir/$tenant.targets" > "$dir/$tenant.kernel.reads"
    if diff -u "$dir/$tenant.engine.reads" "$dir/$tenant.kernel.reads" > "$dir/$tenant.reads.diff"; then
      n=$(wc -l < "$dir/$tenant.targets")
      echo "$tenant: $n handlers read the same in the kernel and vdpctl run"
      TOTAL_READS=$((TOTAL_READS + n))
    else
      echo "$tenant: handlers differ (--- vdpctl run, +++ kernel):"
      cat "$dir/$tenant.reads.diff"
      bad=1
    fi
  done
  echo "round $name took $(echo "$t0 $t1 $t2 $(cut -d" " -f1 /proc/uptime)" | awk '{ printf "%.1f s (%.1f s through the kernel)", $4 - $1, $3 - $2 }')"
  [ "$bad" = 0 ] || FAILED="$FAILED $name"
}

round router "$SEED" gre-router.click router_reads differential-ether.click ether_reads
round classes "$((SEED + 1))" differential-ip.click ip_reads gre-router.click router_reads

step "totals"
echo "VDP-DIFFERENTIAL inputs=$TOTAL_INPUTS packets=$TOTAL_PACKETS handlers=$TOTAL_READS"
[ -z "$FAILED" ] || fail "the kernel and vdpctl run differ in round(s):$FAILED"
# Not vacuous: enough packets came out, and every handler list was compared.
[ "$TOTAL_PACKETS" -ge 600 ] || fail "only $TOTAL_PACKETS packets were compared"
[ "$TOTAL_READS" -ge 180 ] || fail "only $TOTAL_READS handlers were compared"

vdpctl tenant del --id 1
vdpctl tenant del --id 2
unload_vdp
echo "differential ok"
