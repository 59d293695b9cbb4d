# timeout: 600
# The project's own netlink fuzzer (userspace/vdp-fuzz) against the module: random commands and
# attributes, malformed headers, and compiled graphs mutated record by record, installed for real
# on the GRE topology's two tenants (red and blue, devices over phys0) and exercised through
# their handlers. Afterwards the module must still answer, a known good graph must install and
# forward, and rmmod must work; the harness fails the run on any kernel report or leak.
# `make fuzz` runs the long version (fuzz-long.sh), which sets the FUZZ_* values before sourcing
# this script; the kernel command line (vdp.fuzz_messages=, vdp.fuzz_seed=, vdp.fuzz_seconds=)
# overrides both, and vdp.fuzz_trace_from=N prints every request from the Nth on.
# Under TCG on the debug kernel the fuzzer gets about 100 messages per second through (graph
# installs cost 10-30 ms each, more when the host is busy), so the suite's run is 10,000
# messages; `make fuzz` runs longer. Reaching the time limit first is accepted once at least half
# the messages went out.
FUZZ_MESSAGES=${FUZZ_MESSAGES:-10000}
FUZZ_SECONDS=${FUZZ_SECONDS:-330}
FUZZ_SEED=${FUZZ_SEED:-1}
# Of the messages, at least this share (in percent) must be accepted and this many graphs
# installed, or the fuzzer is not reaching the graph builder.
MIN_ACCEPTED_PERCENT=10
MIN_INSTALLED_PER_10K=300
. /vdp/lib.sh
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    vdp.fuzz_messages=*) FUZZ_MESSAGES=${arg#*=} ;;
    vdp.fuzz_seed=*) FUZZ_SEED=${arg#*=} ;;
    vdp.fuzz_seconds=*) FUZZ_SECONDS=${arg#*=} ;;
    vdp.fuzz_trace_from=*) FUZZ_TRACE_FROM=${arg#*=} ;;
  esac
done
load_vdp
. /vdp/gre-topology.sh

step "fuzzing: $FUZZ_MESSAGES messages at most, $FUZZ_SECONDS s at most, seed $FUZZ_SEED"
# The fuzzer's progress goes to the console as it runs; pipefail keeps its exit status.
set -o pipefail
vdp-fuzz fuzz --seed "$FUZZ_SEED" --messages "$FUZZ_MESSAGES" --seconds "$FUZZ_SECONDS" \
  --system "$SYSTEM" ${FUZZ_TRACE_FROM:+--trace-from "$FUZZ_TRACE_FROM"} 2>&1 | tee /tmp/fuzz.out || fail "vdp-fuzz failed"
set +o pipefail
summary=$(grep '^VDP-FUZZ ' /tmp/fuzz.out) || fail "vdp-fuzz printed no summary"
field() { echo "$summary" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
messages=$(field messages) accepted=$(field accepted) installed=$(field installed)
[ $((messages * 2)) -ge "$FUZZ_MESSAGES" ] || fail "only $messages of $FUZZ_MESSAGES messages in $FUZZ_SECONDS s"
[ $((accepted * 100)) -ge $((messages * MIN_ACCEPTED_PERCENT)) ] || fail "only $accepted of $messages messages accepted"
[ $((installed * 10000)) -ge $((messages * MIN_INSTALLED_PER_10K)) ] || fail "only $installed graphs installed in $messages messages"

step "the module still answers, with the fuzzer's tenants gone"
out=$(vdpctl info) || fail "vdpctl info after fuzzing"
echo "$out"
expect_match "$out" "tenants: 0"

step "a known good graph installs and forwards: red's router between its two tunnels"
vdpctl system apply "$SYSTEM" >/dev/null
vdpctl compile --system "$SYSTEM" "red=/vdp/configs/gre-router.click" -o /tmp/red.vdpg >/dev/null
vdpctl graph install --tenant 1 /tmp/red.vdpg >/dev/null
in_ns red-a ping -c 5 -w 30 10.2.0.2 >/dev/null || fail "ping through red's router after fuzzing"
expect_counter 1 eth1 rx_packets 5
expect_counter 1 eth2 tx_packets 5
[ "$(read_handler 1 red/p1/frames.count)" = 5 ] || fail "red's Counter did not count the 5 pings"
in_ns far ping -c 2 -w 10 192.0.2.1 >/dev/null || fail "host ping over phys0 after fuzzing"

step "rmmod with the graph in place"
unload_vdp
