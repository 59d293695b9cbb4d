# timeout: 2400
# CPU benchmark (`make bench-cpu`): aggregate rate of 1, 2, 4, ... 512 busy tenants with the
# default scheduling parameters (sources paused while a step's tenants are added). Prints
# "BENCH scale ..." lines.
. /vdp/lib.sh
load_vdp
. /vdp/bench-cpu-lib.sh
WINDOW=${BENCH_WINDOW:-3}

SCALE_MAX=${BENCH_SCALE_MAX:-512}
step "compiling a graph for each of $SCALE_MAX tenants while nothing runs"
for i in $(seq 1 "$SCALE_MAX"); do
  printf '[limits]\nmax_elements = 64\nmax_queue_capacity = 4096\nmax_table_entries = 10\nmax_threads = 8\ntask_budget_cycles = 100000000\n\n[[tenant]]\nname = "t%s"\ncgroup = "/t%s"\ncpu_share = 1\n' "$i" "$i" > /tmp/sys.toml
  vdpctl compile --system /tmp/sys.toml "t$i=/vdp/configs/busy-paused.click" -o "/tmp/t$i.vdpg" >/dev/null || fail "compile for t$i"
done
# Creating a tenant needs kthreadd and then the new thread to run; among hundreds of busy threads
# each waits its turn, and setup would take longer than the measurements (raising kthreadd's
# priority is no way out: new kthreads inherit its nice value). So every step first switches all
# sources off (the threads then sleep), adds its tenants, and switches every source on again.
switch_all() {
  for i in $(seq 1 "$have"); do vdpctl handler write --tenant $((100 + i)) "t$i/src.active" "$1" || fail "t$i/src.active $1"; done
}
add_compiled() {
  vdpctl tenant add "t$1" --id $((100 + $1)) >/dev/null || fail "tenant add t$1"
  vdpctl graph install --tenant $((100 + $1)) "/tmp/t$1.vdpg" >/dev/null || fail "install for t$1"
}
have=0
step "tenant count: aggregate rate as busy tenants are added"
for tenants in 1 2 4 8 16 32 64 128 256 512; do
  [ "$tenants" -le "$SCALE_MAX" ] || break
  start=$(now)
  switch_all false
  while [ "$have" -lt "$tenants" ]; do have=$((have + 1)); add_compiled "$have"; done
  switch_all true
  sleep 1
  p0=$(all_packets); t0=$(now); c0=$(sed -n 's/^ctxt //p' /proc/stat)
  sleep "$WINDOW"
  c1=$(sed -n 's/^ctxt //p' /proc/stat); p1=$(all_packets); t1=$(now)
  echo "$tenants $p0 $p1 $t0 $t1 $start $c0 $c1" | awk '{ printf "BENCH scale tenants=%d pps=%d setup_s=%.1f switches_per_s=%d\n", $1, ($3 - $2) / ($5 - $4), $4 - $6, ($8 - $7) / ($5 - $4) }'
done
echo "bench-cpu-scale done"
