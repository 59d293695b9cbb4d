# Helpers for scenario scripts (sourced; the guest runs scenarios with `sh -e`).
VDP_KO=/vdp/vdp.ko

fail() { echo "FAIL: $*"; exit 1; }
step() { echo "--- [$(cut -d" " -f1 /proc/uptime)s] $*"; }

# expect_fail DESCRIPTION CMD...: CMD must exit non-zero; its output is kept in $out.
expect_fail() {
  local what=$1; shift
  if out=$("$@" 2>&1); then fail "$what: expected failure, got success: $out"; fi
  echo "    refused as expected: $out" >&2
  echo "$out"
}

# expect_match TEXT PATTERN: TEXT must contain PATTERN (grep -E).
expect_match() {
  echo "$1" | grep -qE "$2" || fail "expected /$2/ in: $1"
}

# expect_text TEXT STRING: TEXT must contain STRING, taken literally.
expect_text() {
  case "$1" in *"$2"*) ;; *) fail "expected \"$2\" in: $1" ;; esac
}

# guest_cpus: how many CPUs the harness gave the guest (vdp.cpus= on its command line).
guest_cpus() { sed -n 's/.*vdp\.cpus=\([0-9]*\).*/\1/p' /proc/cmdline; }
# require_platform: a figure means something only on the guest the harness claims: every CPU
# online and a TSC clock (the platform scenario checks the clock against the host's).
require_platform() {
  local want cs
  want=$(guest_cpus)
  [ -n "$want" ] || fail "the harness did not say how many CPUs it gave the guest (vdp.cpus=)"
  [ "$(nproc)" -eq "$want" ] || fail "the guest has $(nproc) CPUs, the harness gave it $want"
  cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
  case "$cs" in tsc|tsc-early) ;; *) fail "the clocksource is $cs, not the TSC" ;; esac
  echo "VDP-PLATFORM cpus=$(nproc) clocksource=$cs"
}

load_vdp() { insmod "$VDP_KO" || fail "insmod vdp.ko"; }
unload_vdp() { rmmod vdp || fail "rmmod vdp"; }

# wait_for_value TENANT ELEMENT.HANDLER VALUE [SECONDS]: polls a handler until it reads VALUE.
wait_for_value() {
  local tenant=$1 target=$2 want=$3 limit=${4:-30} got=""
  local i=0
  while [ "$i" -lt $((limit * 10)) ]; do
    got=$(vdpctl handler read --tenant "$tenant" "$target" 2>&1) && [ "$got" = "$want" ] && return 0
    sleep 0.1
    i=$((i + 1))
  done
  fail "$target of tenant $tenant is '$got', want '$want' (waited ${limit}s)"
}

# read_handler TENANT ELEMENT.HANDLER: prints the value or fails.
read_handler() {
  vdpctl handler read --tenant "$1" "$2" || fail "reading $2 of tenant $1"
}

# compile_for TENANT CONFIG OUTPUT: compiles one tenant's config against the engine system config.
compile_for() {
  vdpctl compile --system /vdp/configs/engine-system.toml "$1=/vdp/configs/$2" -o "$3" >/dev/null \
    || fail "compiling $2 for $1"
}

# The coordinator: vdpctl daemon in the root context, its log in /tmp/vdpd.log.
VDPD_SOCKET=/run/vdp/vdpd.sock
start_coordinator() { # start_coordinator SYSTEM_TOML [STATE_FILE]
  vdpctl daemon --system "$1" --state "${2:-/tmp/vdp-state.json}" 2>>/tmp/vdpd.log &
  VDPD_PID=$!
  local i=0
  while [ ! -S "$VDPD_SOCKET" ]; do
    kill -0 "$VDPD_PID" 2>/dev/null || { cat /tmp/vdpd.log; fail "the coordinator exited at start"; }
    [ "$i" -lt 300 ] || fail "the coordinator did not open $VDPD_SOCKET in 30 s"
    sleep 0.1; i=$((i + 1))
  done
}
stop_coordinator() { # SIGTERM, a clean exit, and the socket removed
  kill -TERM "$VDPD_PID"
  wait "$VDPD_PID" || fail "the coordinator exited with $? on SIGTERM"
  [ -e "$VDPD_SOCKET" ] && fail "the coordinator left its socket behind"
  return 0
}

# in_container CGROUP CMD...: runs CMD as a tenant's container would: in a network namespace of
# its own and inside the cgroup (a path under /sys/fs/cgroup, e.g. /red).
in_container() {
  local cgroup=$1; shift
  # The tenant's processes live in its control/ child: the tenant's own cgroup hands its
  # controllers down to control/ and dataplane/ and so holds no process (docs/cpu-shares.md).
  mkdir -p "/sys/fs/cgroup$cgroup/control"
  unshare -n sh -c 'echo $$ > "/sys/fs/cgroup$0/control/cgroup.procs" || exit 3; exec "$@"' "$cgroup" "$@"
}

# cgroup_of PID: the cgroup v2 path a process or kernel thread is in.
cgroup_of() { sed -n 's/^0:://p' "/proc/$1/cgroup"; }

# udp_receiver NS PORT COUNT SECONDS OUT: starts a receiver of COUNT datagrams on PORT in
# namespace NS (giving up after SECONDS without one), writing how many arrived to OUT, and
# returns once its socket is bound, so no datagram sent after it can miss the socket. Its pid
# is left in RECEIVER.
udp_receiver() {
  local ready="/tmp/udp-ready.$1.$2" i=0
  rm -f "$ready"
  /usr/sbin/ip netns exec "$1" python3 /vdp/packets.py udp-recv "$2" "$3" "$4" "$ready" > "$5" & RECEIVER=$!
  while [ ! -e "$ready" ]; do
    kill -0 "$RECEIVER" 2>/dev/null || fail "the receiver on port $2 in $1 exited before binding"
    [ "$i" -lt 300 ] || fail "the receiver on port $2 in $1 did not bind in 30 s"
    sleep 0.1; i=$((i + 1))
  done
}

# phys0_and_far HOST...: the GRE scenarios' shared wire: phys0 (02:00:00:00:00:01, 192.0.2.1)
# here, its veth peer "wire" (02:00:00:00:ff:01, the tunnels' next hop) in the namespace far
# with the tunnel endpoints 192.0.2.HOST/24.
phys0_and_far() {
  /usr/sbin/ip link add phys0 type veth peer name wire
  /usr/sbin/ip link set phys0 address 02:00:00:00:00:01
  /usr/sbin/ip addr add 192.0.2.1/24 dev phys0
  /usr/sbin/ip link set phys0 up
  /usr/sbin/ip netns add far
  /usr/sbin/ip link set wire netns far
  /usr/sbin/ip -n far link set wire address 02:00:00:00:ff:01
  for far_host in "$@"; do /usr/sbin/ip -n far addr add "192.0.2.$far_host/24" dev wire; done
  /usr/sbin/ip -n far link set wire up
  operstate_up phys0
}

# operstate_up DEV: waits up to 5 s for DEV's operational state, which the kernel sets after the
# link and its peer are up (asynchronously), to be up: vdpctl attaches only a port that is.
operstate_up() {
  local i=0
  until [ "$(cat "/sys/class/net/$1/operstate")" = up ]; do
    [ $i -lt 50 ] || fail "$1's operational state is $(cat "/sys/class/net/$1/operstate") 5 s after it was brought up"
    sleep 0.1; i=$((i + 1))
  done
}

# gretap_host NAME LOCAL ADDRESS MAC [KEY]: a Linux gretap from LOCAL to phys0's 192.0.2.1, made
# in far (its outer packets stay there) and moved into a namespace NAME of its own, with the
# address ADDRESS/24 and the Ethernet address MAC.
gretap_host() {
  /usr/sbin/ip netns add "$1"
  /usr/sbin/ip -n "$1" link set lo up
  if [ -n "$5" ]; then gretap_key="key $5"; else gretap_key=""; fi
  /usr/sbin/ip -n far link add "t-$1" type gretap local "$2" remote 192.0.2.1 $gretap_key
  /usr/sbin/ip -n far link set "t-$1" netns "$1"
  /usr/sbin/ip -n "$1" link set "t-$1" address "$4"
  /usr/sbin/ip -n "$1" addr add "$3/24" dev "t-$1"
  /usr/sbin/ip -n "$1" link set "t-$1" up
}

# physical_device NAME: a veth pair standing in for a physical NIC (the guest has none), so a
# system config's [[physical]] NAME can be attached. busybox sh prefers its own applets to PATH,
# hence iproute2's full path.
physical_device() {
  /usr/sbin/ip link add "$1" type veth peer name "$1-peer" || fail "creating $1"
  /usr/sbin/ip link set "$1" up && /usr/sbin/ip link set "$1-peer" up
  operstate_up "$1"
}
