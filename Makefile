# vdp: top-level build. `make demo` shows vdp at work in a VM; `make test` runs every test.
#
# Kernel flavours: "debug" (lockdep, KASAN, kmemleak; used by the tests) and "lean" (demo and
# benchmarks). Kernels are cached outside the repository by scripts/kernel.sh.

SHELL := /bin/bash
REPO := $(CURDIR)
# VDP_OUT puts all build products elsewhere (several checkouts or workers on one machine).
OUT := $(or $(VDP_OUT),$(REPO)/out)
export VDP_OUT := $(OUT)
FLAVOUR ?= debug
KERNEL_TREE = $(OUT)/kernel-$(FLAVOUR)/build
LLVM := -19
VDPCTL := $(REPO)/userspace/target/release/vdpctl
# vdpctl linked statically against musl: the client for musl-based and distroless containers
# (docs/containers.md). Built by `make userspace` beside the glibc one.
MUSL_TARGET := x86_64-unknown-linux-musl
VDPCTL_STATIC := $(REPO)/userspace/target/$(MUSL_TARGET)/release/vdpctl

.PHONY: all deps kernel kmod userspace initramfs test test-unit test-vm demo bench-gre bench-cpu bench-elements bench-container bench-fpga fpga-prop fuzz pictures deb deb-test deb-kernel deb-kernel-test clean help

all: kmod userspace

help:
	@echo "make demo     build everything and boot a VM showing vdp at work"
	@echo "make test     unit tests, QEMU scenarios (debug kernel) and make deb-test"
	@echo "make kernel   build (or reuse) the cached kernel; FLAVOUR=debug|lean"
	@echo "make kmod     build vdp.ko against that kernel"
	@echo "make userspace  build vdpctl (and its static musl build), the engines"
	@echo "make bench-gre  forwarding benchmark, vdp against Linux (writes docs/bench/)"
	@echo "make bench-cpu  CPU-share and scheduling benchmarks (writes docs/bench/)"
	@echo "make bench-elements  per-element cycles (user level and kernel) and vdpctl run throughput (writes docs/bench/)"
	@echo "make bench-container  the container level against the kernel level, one crossing, in and out of a container (writes docs/bench/)"
	@echo "make bench-fpga  the FPGA level: simulated bits per cycle of the IPv4 path against vdpctl run, and area (writes docs/bench/)"
	@echo "make fpga-prop  long property test of the FPGA level (FPGA_PROP_SEED, FPGA_PROP_DESIGNS, FPGA_PROP_TENANTS, FPGA_PROP_PACKETS)"
	@echo "make fuzz     long netlink fuzz run (FUZZ_MESSAGES, FUZZ_SEED, FUZZ_SECONDS)"
	@echo "make deb      Debian packages vdpctl and vdp-dkms into out/deb, checked by lintian (docs/packaging.md)"
	@echo "make deb-test  build them, install them into a scratch root, dkms-build vdp.ko from them and load it in a guest"
	@echo "make deb-kernel  the lean kernel as a Debian package (the kernel's bindeb-pkg, in a copy of its tree)"
	@echo "make deb-kernel-test  make deb-test on the lean kernel, the guest booting that package"
	@echo "make pictures  draw the docs' pictures of the example router (vdpctl pretty --dot, Graphviz)"

deps:
	@scripts/deps.sh

kernel: deps
	@scripts/kernel.sh $(FLAVOUR)

# vdp.ko is built out of tree into out/kmod-FLAVOUR (MO=), so the two flavours never share objects.
kmod: kernel
	@mkdir -p $(OUT)/kmod-$(FLAVOUR)
	$(MAKE) -C $(KERNEL_TREE) M=$(REPO) MO=$(OUT)/kmod-$(FLAVOUR) LLVM=$(LLVM) modules
	@echo "[kmod] built $(OUT)/kmod-$(FLAVOUR)/vdp.ko"

# Beside vdpctl: the stock container engine (vdp-engine), the test engine the scenarios use, and
# the worked example's engine (docs/examples/custom-element, a crate of its own, as a tenant's is).
userspace: deps
	cd userspace && cargo build --release --quiet && cargo build --release --quiet -p vdp-engine --example vdp-test-engine
	cd userspace && cargo build --release --quiet --target $(MUSL_TARGET) -p vdpctl --bin vdpctl
	cd docs/examples/custom-element && CARGO_TARGET_DIR=$(REPO)/userspace/target cargo build --release --quiet
	@echo "[userspace] built $(VDPCTL) and the static $(VDPCTL_STATIC)"

initramfs: kmod userspace
	@VDPCTL_STATIC=$(VDPCTL_STATIC) qemu-tests/mkinitramfs.sh $(FLAVOUR) $(OUT)/kmod-$(FLAVOUR)/vdp.ko $(VDPCTL) $(OUT)/initramfs-$(FLAVOUR).cpio.gz
	@qemu-tests/mkpython.sh $$(readlink -f $(OUT)/kernel-$(FLAVOUR))/src $(OUT)/initramfs-$(FLAVOUR)-python.cpio.gz

test: deps
	@scripts/test.sh

test-unit: deps
	cd userspace && cargo test --quiet

# Runs QEMU scenarios; SCENARIO=name runs just one.
test-vm: FLAVOUR = debug
test-vm: initramfs
	@qemu-tests/run --flavour debug $(SCENARIO)

demo: FLAVOUR = lean
demo: initramfs
	@qemu-tests/run --flavour lean --show demo

# The long netlink fuzz run on the debug kernel (not part of `make test`); its counts go to the
# console log. FUZZ_MESSAGES, FUZZ_SEED and FUZZ_SECONDS override the scenario's defaults.
fuzz: FLAVOUR = debug
fuzz: initramfs
	@VDP_GUEST_ARGS="$(if $(FUZZ_MESSAGES),vdp.fuzz_messages=$(FUZZ_MESSAGES)) $(if $(FUZZ_SEED),vdp.fuzz_seed=$(FUZZ_SEED)) $(if $(FUZZ_SECONDS),vdp.fuzz_seconds=$(FUZZ_SECONDS))" \
		qemu-tests/run --flavour debug fuzz-long

# Benchmarks are not tests: each writes its results to docs/bench/.
bench-gre: FLAVOUR = lean
bench-gre: initramfs
	@scripts/bench-gre.sh

# CPU-share and scheduling benchmarks on the lean kernel: tables and plots into docs/bench/.
bench-cpu: FLAVOUR = lean
bench-cpu: initramfs
	@scripts/bench-cpu.sh

# Per-element cost (Counter, RadixIPLookup with 167k routes, the IPv4 router) at user level and
# in the lean kernel, and vdpctl run throughput: docs/bench/elements.md and its plot.
bench-elements: FLAVOUR = lean
bench-elements: initramfs
	@scripts/bench-elements.sh

# The container level against the kernel level on the lean kernel (docs/bench/container-level.md).
bench-container: FLAVOUR = lean
bench-container: initramfs
	@scripts/bench-container.sh

# The FPGA level (docs/fpga.md): simulated throughput of the IPv4 path beside vdpctl run's, and
# the area of every class's module; docs/bench/fpga.md and its plot. Needs verilator and yosys.
bench-fpga: userspace
	@VDPCTL=$(VDPCTL) scripts/bench-fpga.sh

# The FPGA level's property test at length: FPGA_PROP_DESIGNS designs of FPGA_PROP_TENANTS random
# graphs each, from seed FPGA_PROP_SEED, FPGA_PROP_PACKETS packets a graph (make test runs one
# design of three graphs).
FPGA_PROP_SEED ?= 1000
FPGA_PROP_DESIGNS ?= 20
FPGA_PROP_TENANTS ?= 3
FPGA_PROP_PACKETS ?= 400
fpga-prop: deps
	cd userspace && VDP_FPGA_PROP_SEED=$(FPGA_PROP_SEED) VDP_FPGA_PROP_DESIGNS=$(FPGA_PROP_DESIGNS) \
		VDP_FPGA_PROP_TENANTS=$(FPGA_PROP_TENANTS) VDP_FPGA_PROP_PACKETS=$(FPGA_PROP_PACKETS) \
		cargo test --quiet -p vdpctl --test fpga_prop -- --nocapture

# The docs' pictures: docs/examples/router.png and router-two-tenants.png, drawn by vdpctl pretty
# --dot and Graphviz (docs/click-frontend.md, "Pictures").
pictures: deps userspace
	@VDPCTL=$(VDPCTL) scripts/pictures.sh

# Debian packages (docs/packaging.md): vdpctl and vdp-dkms, built by dpkg-buildpackage from a
# staging copy in out/deb and checked by lintian. deb-test installs them into a scratch root,
# builds vdp.ko with dkms from the installed source against this FLAVOUR's kernel tree, and
# loads that vdp.ko in a guest (the module-load scenario; part of `make test`).
deb: deps
	@scripts/deb.sh

deb-test: deb kernel userspace
	@scripts/deb-test.sh $(FLAVOUR) --vm

# The kernel's own `make bindeb-pkg` (linux-image only), in a copy of the cached tree so that the
# cache is never changed: out/deb-kernel/linux-image-*.deb. Not part of `make test` (minutes).
# deb-kernel-test runs deb-test with the guest booting that package's vmlinuz.
deb-kernel: FLAVOUR = lean
deb-kernel: kernel
	@scripts/deb-kernel.sh $(FLAVOUR)

deb-kernel-test: FLAVOUR = lean
deb-kernel-test: deb-kernel deb userspace
	@VDP_DEB_KERNEL=$$(ls $(OUT)/deb-kernel/linux-image-*.deb) scripts/deb-test.sh $(FLAVOUR) --vm

clean:
	rm -rf $(OUT)
	cd userspace && cargo clean
