#!/usr/bin/env bash
# Hammers the portable core's parsers, tunnel classifier, route table and token bucket with
# random, structure-aware input for a given time (default 10 minutes).
#
#   userspace/vdp-core/fuzz.sh [SECONDS]       VDP_FUZZ_CASES=N sets cases per target per round
#
# Each round runs tests/fuzz.rs in release mode with overflow checks on (as the kernel has them)
# and a fresh random seed; a failing case is shrunk, printed, saved by proptest next to the test
# and ends the run with a non-zero status.
set -euo pipefail

duration=${1:-600}
cases=${VDP_FUZZ_CASES:-20000}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."

# A target directory of its own: these profile settings would otherwise force rebuilds of the
# ordinary release build, and a long run would hold its lock.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/fuzz}
export CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true
cargo test --release -q -p vdp-core --test fuzz --no-run

start=$(date +%s)
rounds=0
while (( $(date +%s) - start < duration )); do
    if ! VDP_FUZZ_CASES=$cases cargo test --release -q -p vdp-core --test fuzz -- --test-threads=1 >"$CARGO_TARGET_DIR/fuzz-last.log" 2>&1; then
        cat "$CARGO_TARGET_DIR/fuzz-last.log"
        echo "fuzz: FAILED in round $((rounds + 1)) after $(( $(date +%s) - start )) s"
        exit 1
    fi
    rounds=$((rounds + 1))
done
rm -f "$CARGO_TARGET_DIR/fuzz-last.log"
targets=7
echo "fuzz: OK, $rounds rounds x $targets targets x $cases cases = $((rounds * targets * cases)) cases in $(( $(date +%s) - start )) s"
