# Booting nestvisor in QEMU: the demo and the test suite.
SETUP := scripts/setup

run: setup-deps
	$(V)$(MAKE) --no-print-directory all
	$(V)GUESTS="$(GUESTS)" scripts/run-demo $(BUILD)

test: setup-deps
	$(V)$(MAKE) --no-print-directory format-check all host-tests test-images
	$(V)BUILD=$(BUILD) tests/run

setup-deps:
	$(V)$(SETUP)

.PHONY: run test setup-deps

# The ISO tests boot: multiboot2 through GRUB with the self-tests.
$(BUILD)/selftest.iso: $(BUILD)/nestvisor.elf grub.cfg scripts/mkiso
	@echo "  ISO     $@"
	$(V)scripts/mkiso $@ $(BUILD)/nestvisor.elf selftest

test-images: $(BUILD)/selftest.iso $(BUILD)/nestvisor.iso guests clang-build

# STYLE H19: the hypervisor and the guests also build with Clang, and
# tests/qemu/clang.t runs that build.
clang-build:
	$(V)$(MAKE) --no-print-directory CC=clang BUILD=$(BUILD)/clang \
		$(BUILD)/clang/nestvisor.elf guests
.PHONY: clang-build
.PHONY: test-images

# Instruction counts per exit under -icount (not a timed test).
bench: all guests
	$(V)scripts/bench $(BUILD)
.PHONY: bench
