# Test guests (tests/guests/): multiboot kernels built on boot/ and tests/lib/.
# tests/guests/NAME.c (or the files in tests/guests/NAME/) becomes
# $(BUILD)/guests/NAME.elf, linked with the guest runtime: the hypervisor's
# boot and arch code compiled into their own object tree (the runtime, not
# kernel/panic.c, supplies panic() and exception_unhandled()), plus tests/lib.
GUEST_OBJ := $(BUILD)/guest-obj
GUEST_OUT := $(BUILD)/guests

GUEST_RUNTIME_SRCS := boot/entry.S boot/multiboot_header.S \
	arch/x86/gdt.c arch/x86/idt.c arch/x86/exc.S arch/x86/extable.c \
	arch/x86/stacks.c arch/x86/paging.c arch/x86/cpu_ident.c \
	drivers/uart16550.c drivers/platform.c \
	kernel/kprintf.c kernel/console.c kernel/tap.c kernel/kstring.c kernel/multiboot.c \
	$(wildcard tests/lib/*.c tests/lib/*.S)
GUEST_RUNTIME_OBJS := $(patsubst %,$(GUEST_OBJ)/%.o,$(GUEST_RUNTIME_SRCS))

GUEST_NAMES := $(sort $(patsubst tests/guests/%.c,%,$(wildcard tests/guests/*.c)) \
	$(patsubst tests/guests/%/,%,$(wildcard tests/guests/*/)))
guest_srcs = $(or $(wildcard tests/guests/$(1).c),$(wildcard tests/guests/$(1)/*.c tests/guests/$(1)/*.S))
GUEST_ELFS := $(patsubst %,$(GUEST_OUT)/%.elf,$(GUEST_NAMES))
GUEST_ALL_OBJS := $(GUEST_RUNTIME_OBJS) \
	$(foreach g,$(GUEST_NAMES),$(patsubst %,$(GUEST_OBJ)/%.o,$(call guest_srcs,$(g))))

guests: $(GUEST_ELFS) $(GUEST_OUT)/bad_image.elf

$(GUEST_OBJ)/%.c.o: %.c Makefile mk/guests.mk
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(V)$(CC) $(KCFLAGS) -c $< -o $@

$(GUEST_OBJ)/%.S.o: %.S Makefile mk/guests.mk
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(V)$(CC) $(KASFLAGS) -c $< -o $@

define guest_rule
$(GUEST_OUT)/$(1).elf: $(GUEST_RUNTIME_OBJS) $(patsubst %,$(GUEST_OBJ)/%.o,$(call guest_srcs,$(1))) \
		linker.ld scripts/check-elf
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$(V)$(LD) $(KLDFLAGS) -o $$@ $$(filter %.o,$$^)
	$(V)scripts/check-elf $$@
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call guest_rule,$(g))))

# For the loader's negative test: a valid ELF header and program header
# whose segment runs past the end of the file, and no multiboot header
# (it sat at file offset 4096), followed by deterministic garbage.
$(GUEST_OUT)/bad_image.elf: $(GUEST_OUT)/l1_basic.elf
	@echo "  GEN     $@"
	$(V){ head -c 3000 $<; yes 'nestvisor bad image: garbage' | head -c 5000; } > $@

.PHONY: guests
-include $(GUEST_ALL_OBJS:.o=.d)
