# timeout: 3600
# The long fuzz run, `make fuzz` (not part of `make test`): fuzz-netlink.sh with more messages.
# FUZZ_MESSAGES, FUZZ_SEED and FUZZ_SECONDS on make's command line reach the guest through the
# kernel command line; the default seed is the guest's clock, printed so the run can be repeated.
FUZZ_MESSAGES=200000
FUZZ_SECONDS=3300
FUZZ_SEED=$(date +%s)
. /scenarios/fuzz-netlink.sh
