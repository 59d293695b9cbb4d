# The offered-rate sweep of the forwarding benchmarks (sourced after lib.sh and gre-topology.sh by
# bench-gre.sh and bench-container.sh): pktgen on blue-a's gretap sends frames to 10.2.0.2 behind
# blue-b at a set rate, and the sweep raises that rate until more than 0.1% is lost (Keller's peak
# rate at 0.1% loss).
#
# The caller sets:
#   round                  printed in every VDP-BENCH line;
#   SWEEP_START            the first offered rate, frames per second (2000);
#   SWEEP_MAX              the highest rate tried (200000);
#   SWEEP_SIZE             pktgen's pkt_size (64);
# and may define sweep_counters, which prints NAME=VALUE words of cumulative counts (the CPU
# ticks of a thread, a wake-up counter): each trial prints how much each grew over the trial.

cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
# proc_ticks PID: the user + system ticks of a task (0 without one).
proc_ticks() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && awk '{ print $14 + $15 }' "/proc/$1/stat" || echo 0; }
# The sender's ticks: pktgen's kernel thread (its busy-wait between frames included).
pktgen_pid() { awk '$2 == "(kpktgend_0)" { print $1 }' /proc/[0-9]*/stat 2>/dev/null | head -1; }
# isqrt N: the integer square root (busybox awk has no sqrt).
isqrt() {
  local n=$1 x=$1 y
  y=$(( (x + 1) / 2 ))
  while [ "$y" -lt "$x" ]; do x=$y; y=$(( (x + n / x) / 2 )); done
  echo "$x"
}
rx_at_b() { in_ns blue-b cat /sys/class/net/t-blue-b/statistics/rx_packets; }
sweep_counters() { :; }
# counter_diff BEFORE AFTER: NAME=(after - before) for every NAME=VALUE word of BEFORE.
counter_diff() {
  echo "$1 $2" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] in seen) printf " %s=%d", kv[1], kv[2] - seen[kv[1]]; else { seen[kv[1]] = kv[2]; order[++n] = kv[1] } } }'
}

# pktgen_setup FRAMES DELAY_NS: one pktgen device on blue-a's gretap, set up to send FRAMES.
pktgen_setup() {
  in_ns blue-a sh -c "
    echo rem_device_all > /proc/net/pktgen/kpktgend_0
    echo add_device t-blue-a > /proc/net/pktgen/kpktgend_0
    d=/proc/net/pktgen/t-blue-a
    echo 'count $1' > \$d
    echo 'pkt_size ${SWEEP_SIZE:-64}' > \$d
    echo 'delay $2' > \$d
    echo 'dst 10.2.0.2' > \$d
    echo 'dst_mac 02:00:00:00:b1:01' > \$d
    echo 'udp_dst_min 9' > \$d
    echo 'udp_dst_max 9' > \$d"
}

# send MODE RATE FRAMES DELAY_NS: one pktgen run; counts what arrives at blue-b and the CPU ticks
# from the start of the send to 1 s after its end (the queues drained). Prints a VDP-BENCH line
# (rate=0 for an unlimited send); returns 1 if more than 0.1% was lost.
send() {
  local mode=$1 rate=$2 frames=$3 rx0 busy0 soft0 all0 c0 s0 sender usec received
  pktgen_setup "$frames" "$4"
  sender=$(pktgen_pid)
  c0=$(sweep_counters); s0=$(proc_ticks "$sender"); rx0=$(rx_at_b)
  set -- $(cpu_ticks); busy0=$1 soft0=$2 all0=$3
  in_ns blue-a sh -c 'echo start > /proc/net/pktgen/pgctrl'
  sleep 1
  set -- $(cpu_ticks)
  received=$(( $(rx_at_b) - rx0 ))
  usec=$(in_ns blue-a sed -n 's/.*Result: OK: \([0-9]*\)(c.*/\1/p' /proc/net/pktgen/t-blue-a)
  echo "VDP-BENCH round=${round:-1} mode=$mode rate=$rate size=${SWEEP_SIZE:-64} sent=$frames received=$received usec=$usec busy=$(($1 - busy0)) softirq=$(($2 - soft0)) ticks=$(($3 - all0)) sender=$(($(proc_ticks "$sender") - s0))$(counter_diff "$c0" "$(sweep_counters)")"
  [ $(( (frames - received) * 1000 )) -le "$frames" ]
}

# trial MODE RATE: 2 s of frames at RATE per second (at least 1000 frames).
trial() {
  local frames=$(( $2 * 2 ))
  [ "$frames" -ge 1000 ] || frames=1000
  send "$1" "$2" "$frames" $(( 1000000000 / $2 ))
}

# blast MODE FRAMES: FRAMES frames as fast as pktgen sends them (rate=0 in its line).
blast() {
  # Loss at full blast is what the line reports, not a failure of the run.
  send "$1" 0 "$2" 0 || return 0
}

# sweep MODE: raises the offered rate by half each step from SWEEP_START until more than 0.1% is
# lost, one trial per step; then three trials at the geometric middle of the highest rate within
# 0.1% and the lowest beyond it narrow the peak down to within 5%.
sweep() {
  local rate=${SWEEP_START:-2000} max=${SWEEP_MAX:-200000} first good bad mid step
  first=$rate
  while [ "$rate" -le "$max" ] && trial "$1" "$rate"; do
    rate=$(( rate * 3 / 2 ))
  done
  [ "$rate" -le "$max" ] && [ "$rate" -gt "$first" ] || return 0
  good=$(( rate * 2 / 3 )) bad=$rate
  for step in 1 2 3; do
    mid=$(isqrt $((good * bad)))
    if trial "$1" "$mid"; then good=$mid; else bad=$mid; fi
  done
}
