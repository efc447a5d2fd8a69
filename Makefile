# nestvisor build. `make help` lists the targets.
BUILD	?= build
CC	?= gcc
HOSTCC	?= gcc
LD	:= ld
QEMU	?= qemu-system-x86_64
V	?= @

WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wundef -Wvla -Wformat=2 -Wframe-larger-than=2048
KCFLAGS	:= -std=gnu11 -O2 -g -ffreestanding -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	   -fno-pic -fno-pie -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-avx \
	   -fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	   -fno-strict-aliasing -fcf-protection=none -I. $(WARN) -MMD -MP
KASFLAGS := -nostdinc -I. -I$(BUILD)/include -D__ASSEMBLER__ -MMD -MP
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T linker.ld

# Everything under these folders is the hypervisor.
KERNEL_DIRS := boot arch/x86 arch/x86/svm kernel drivers
KERNEL_SRCS := $(filter-out arch/x86/svm/asm_offsets.c,\
	       $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.c $(d)/*.S)))
KERNEL_OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(KERNEL_SRCS))

all: $(BUILD)/nestvisor.elf $(BUILD)/nestvisor.iso

$(BUILD)/obj/%.c.o: %.c Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(V)$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/obj/%.S.o: %.S Makefile
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(V)$(CC) $(KASFLAGS) -c $< -o $@

# Struct offsets for assembly, generated from C (see asm_offsets.c).
ASM_OFFSETS := $(BUILD)/include/generated/asm_offsets.h
$(ASM_OFFSETS): arch/x86/svm/asm_offsets.c arch/x86/svm/guest_regs.h Makefile
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(V)$(CC) $(filter-out -MMD -MP -g,$(KCFLAGS)) -S -o - $< | \
		sed -n 's/.*->\([A-Z0-9_]*\) \([0-9]*\).*/#define \1 \2/p' > $@
$(BUILD)/obj/arch/x86/svm/world.S.o: $(ASM_OFFSETS)

$(BUILD)/nestvisor.elf: $(KERNEL_OBJS) linker.ld scripts/check-elf
	@echo "  LD      $@"
	$(V)$(LD) $(KLDFLAGS) -o $@ $(KERNEL_OBJS)
	$(V)scripts/check-elf $@

# The demo: an L1 hypervisor with its L2 and a refused VMRUN, a guest that
# reaches outside its RAM, and the platform checks of a plain L1 guest.
$(BUILD)/nestvisor.iso: $(BUILD)/nestvisor.elf grub.cfg scripts/mkiso \
		$(BUILD)/guests/nested_demo.elf $(BUILD)/guests/bad_npf.elf \
		$(BUILD)/guests/l1_basic.elf
	@echo "  ISO     $@"
	$(V)scripts/mkiso $@ $(BUILD)/nestvisor.elf "" \
		$(BUILD)/guests/nested_demo.elf "name=nested_demo mem=32M" \
		$(BUILD)/guests/bad_npf.elf "name=bad_npf mem=16M expect=npf" \
		$(BUILD)/guests/l1_basic.elf "name=l1_basic mem=32M"

include mk/host.mk
include mk/guests.mk
include mk/qemu.mk

# Layout per .clang-format; part of make test so that it stays uniform.
format-check:
	@echo "  FORMAT  check"
	$(V)clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' 2>/dev/null || \
		find . -path ./build -prune -o -name '*.[ch]' -print)

clean:
	rm -rf $(BUILD)

help:
	@echo "make            build build/nestvisor.elf and build/nestvisor.iso"
	@echo "make run        install what is missing, build, boot the demo in QEMU"
	@echo "make test       install what is missing, build, run every host and QEMU test"
	@echo "make coverage   host unit tests with an lcov report in build/coverage/"
	@echo "make format-check  clang-format check of all C sources"
	@echo "make clean      remove build/"

.PHONY: all clean help format-check
.DELETE_ON_ERROR:
-include $(KERNEL_OBJS:.o=.d)
