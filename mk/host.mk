# Host-built unit tests of the pure logic (tests/host/), with cmocka,
# ASan/UBSan and gcov. Each test names the sources it links against in a
# line of its own:  /* host-test-sources: kernel/a.c kernel/b.c */
HOST_BUILD ?= $(BUILD)/host
HOST_CFLAGS := -std=gnu11 -O0 -g --coverage -fsanitize=address,undefined \
	       -fno-sanitize-recover=all -I. $(WARN) -Wno-missing-prototypes -Wno-format-nonliteral -Wno-frame-larger-than -MMD -MP

host_srcs = $(shell sed -n 's|^/\* host-test-sources: \(.*\) \*/$$|\1|p' tests/host/test_$(1).c)

HOST_TESTS := $(patsubst tests/host/test_%.c,%,$(wildcard tests/host/test_*.c))
HOST_BINS := $(patsubst %,$(HOST_BUILD)/test_%,$(HOST_TESTS))

# Objects per source file, so that gcov data lands once per source.
$(HOST_BUILD)/%.o: %.c Makefile mk/host.mk
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(V)$(HOSTCC) $(HOST_CFLAGS) -c $< -o $@

.SECONDEXPANSION:
$(HOST_BUILD)/test_%: $(HOST_BUILD)/tests/host/test_%.o $$(patsubst %.c,$(HOST_BUILD)/%.o,$$(call host_srcs,$$*))
	@echo "  HOSTLD  $@"
	$(V)$(HOSTCC) $(HOST_CFLAGS) $^ -lcmocka -o $@

host-tests: $(HOST_BINS)

# A fresh tree of its own, so no stale .gcda from earlier builds disturbs lcov.
COV_BUILD := $(BUILD)/cov
coverage:
	$(V)rm -rf $(COV_BUILD)
	$(V)$(MAKE) --no-print-directory HOST_BUILD=$(COV_BUILD) host-tests
	$(V)for t in $(patsubst $(HOST_BUILD)/%,$(COV_BUILD)/%,$(HOST_BINS)); do \
		CMOCKA_MESSAGE_OUTPUT=TAP $$t > /dev/null || exit 1; done
	$(V)lcov --quiet --capture --directory $(COV_BUILD) --base-directory . --no-external \
		--output-file $(COV_BUILD)/coverage.info 2>/dev/null
	$(V)lcov --quiet --remove $(COV_BUILD)/coverage.info '*/tests/*' \
		--output-file $(COV_BUILD)/coverage.info
	$(V)genhtml --quiet $(COV_BUILD)/coverage.info --output-directory $(BUILD)/coverage
	$(V)lcov --list $(COV_BUILD)/coverage.info
	$(V)lcov --summary $(COV_BUILD)/coverage.info
	@echo "coverage report: $(BUILD)/coverage/index.html"

.PHONY: host-tests coverage
-include $(shell find $(HOST_BUILD) -name '*.d' 2>/dev/null)
