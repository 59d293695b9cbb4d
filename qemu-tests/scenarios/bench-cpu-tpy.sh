# timeout: 900
# CPU benchmark (`make bench-cpu`): aggregate rate of 1, 2, 5 and 10 busy tenants over a sweep of
# tasks_per_yield, and with the time-sized default (auto). Prints "BENCH tpy ..." lines.
. /vdp/lib.sh
load_vdp
. /vdp/bench-cpu-lib.sh
WINDOW=${BENCH_WINDOW:-5}

step "tasks per yield: aggregate rate of 1, 2, 5 and 10 busy tenants"
have=0
for tenants in 1 2 5 10; do
  while [ "$have" -lt "$tenants" ]; do have=$((have + 1)); add_tenant "t$have" $((100 + have)) busy.click; done
  for tpy in 1 4 16 64 128 512 2048 auto; do
    for i in $(seq 1 "$tenants"); do vdpctl sched set --tenant $((100 + i)) --tasks-per-yield "$tpy" >/dev/null; done
    sleep 1
    p0=$(all_packets); t0=$(now)
    sleep "$WINDOW"
    p1=$(all_packets); t1=$(now)
    echo "$tenants $tpy $p0 $p1 $t0 $t1" | awk '{ printf "BENCH tpy tenants=%d tpy=%s pps=%d\n", $1, $2, ($4 - $3) / ($6 - $5) }'
  done
done

echo "bench-cpu-tpy done"
