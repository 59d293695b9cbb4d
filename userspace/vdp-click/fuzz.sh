#!/bin/sh
# Fuzzes the Click front end and the compiled-graph validator for SECONDS (default 600):
#   userspace/vdp-click/fuzz.sh [SECONDS]
# Any panic stops the run and prints the shrunk input.
set -eu
cd "$(dirname "$0")/.."
FUZZ_SECONDS="${1:-600}" exec cargo test --release -p vdp-click --test fuzz -- --nocapture
