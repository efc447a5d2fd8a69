/* host-test-sources: kernel/multiboot.c */
/*
 * Host unit tests for kernel/multiboot.c.
 *
 * A fake physical memory (one host buffer standing for [FAKE_BASE, FAKE_BASE + FAKE_SIZE))
 * holds the info blocks the tests build. Its map() hands out a fresh heap copy of exactly the
 * requested range, so AddressSanitizer reports any read past what the parser asked for, and
 * it counts calls with a zero length or a wrapping range, which the parser must never make.
 *
 * The blocks are written with byte offsets taken from the specifications rather than with
 * the structs in multiboot.h, so a layout mistake there cannot hide in both places.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/multiboot.h"

#define FAKE_BASE 0x100000ull
#define FAKE_SIZE 0x10000ull
#define FAKE_END  (FAKE_BASE + FAKE_SIZE)

/* Where the tests put things inside the window. */
#define MB1_INFO    (FAKE_BASE + 0x0000)
#define MB1_MODS    (FAKE_BASE + 0x0100)
#define STRINGS	    (FAKE_BASE + 0x0400)
#define STRINGS_END (FAKE_BASE + 0x4000)
#define MB1_MMAP    (FAKE_BASE + 0x4000)
#define MB2_INFO    (FAKE_BASE + 0x8000)

/* Multiboot 0.6.96 section 3.3 offsets and flags. */
#define MB1_FLAGS	     0
#define MB1_MEM_LOWER	     4
#define MB1_MEM_UPPER	     8
#define MB1_BOOT_DEVICE	     12
#define MB1_CMDLINE	     16
#define MB1_MODS_COUNT	     20
#define MB1_MODS_ADDR	     24
#define MB1_MMAP_LENGTH	     44
#define MB1_MMAP_ADDR	     48
#define MB1_BOOT_LOADER_NAME 64
#define F_MEM		     (1u << 0)
#define F_BOOTDEV	     (1u << 1)
#define F_CMDLINE	     (1u << 2)
#define F_MODS		     (1u << 3)
#define F_MMAP		     (1u << 6)
#define F_LOADER	     (1u << 9)

struct fake_mem {
	uint64_t base;
	uint64_t size;
	unsigned char *buf;
	uint64_t next_string;
	/* Every copy handed out by fake_map(), freed at teardown. */
	void **copies;
	size_t nr_copies;
	size_t cap_copies;
	unsigned int bad_calls;
	uint64_t last_pa;
	uint64_t last_len;
	struct phys_window win;
};

static const void *fake_map(void *ctx, uint64_t pa, uint64_t len)
{
	struct fake_mem *m = ctx;
	void *copy;

	if (len == 0 || pa + len < pa || pa + len == 0) {
		m->bad_calls++;
		return NULL;
	}
	m->last_pa = pa;
	m->last_len = len;
	/* Written so that a window reaching the top of the address space works too. */
	if (pa < m->base || pa - m->base > m->size || len > m->size - (pa - m->base))
		return NULL;
	if (m->nr_copies == m->cap_copies) {
		m->cap_copies = m->cap_copies ? 2 * m->cap_copies : 256;
		m->copies = realloc(m->copies, m->cap_copies * sizeof(*m->copies));
		assert_non_null(m->copies);
	}
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, m->buf + (pa - m->base), len);
	m->copies[m->nr_copies++] = copy;
	return copy;
}

static void fake_init(struct fake_mem *m, uint64_t base, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->base = base;
	m->size = size;
	m->buf = malloc(size);
	assert_non_null(m->buf);
	/* Garbage, not zeros, so that a missing NUL or field is not papered over. */
	memset(m->buf, 0xa5, size);
	m->next_string = STRINGS;
	m->win.map = fake_map;
	m->win.ctx = m;
}

static void fake_release(struct fake_mem *m)
{
	size_t i;

	for (i = 0; i < m->nr_copies; i++)
		free(m->copies[i]);
	free(m->copies);
	free(m->buf);
}

static int setup(void **state)
{
	struct fake_mem *m = malloc(sizeof(*m));

	assert_non_null(m);
	fake_init(m, FAKE_BASE, FAKE_SIZE);
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct fake_mem *m = *state;
	unsigned int bad = m->bad_calls;

	fake_release(m);
	free(m);
	/* The parser must filter empty and wrapping ranges before they reach map(). */
	assert_int_equal(bad, 0);
	return 0;
}

static unsigned char *at(struct fake_mem *m, uint64_t pa, uint64_t len)
{
	assert_true(pa >= m->base && pa - m->base <= m->size && len <= m->size - (pa - m->base));
	return m->buf + (pa - m->base);
}

static void put32(struct fake_mem *m, uint64_t pa, uint32_t v)
{
	unsigned char *p = at(m, pa, 4);
	int i;

	for (i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put64(struct fake_mem *m, uint64_t pa, uint64_t v)
{
	put32(m, pa, (uint32_t)v);
	put32(m, pa + 4, (uint32_t)(v >> 32));
}

static void put_bytes(struct fake_mem *m, uint64_t pa, const void *src, size_t len)
{
	memcpy(at(m, pa, len), src, len);
}

/* Places a NUL-terminated string in the strings area and returns its address. */
static uint32_t put_string(struct fake_mem *m, const char *s)
{
	uint64_t pa = m->next_string;
	size_t len = strlen(s) + 1;

	assert_true(pa + len <= STRINGS_END);
	put_bytes(m, pa, s, len);
	m->next_string += len;
	return (uint32_t)pa;
}

/* A string of n copies of c, NUL-terminated, in a static buffer. */
static const char *repeat(char c, size_t n)
{
	static char buf[1024];

	assert_true(n < sizeof(buf));
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static const char *parse1(struct fake_mem *m, struct boot_info *bi)
{
	return multiboot_parse(MULTIBOOT1_BOOT_MAGIC, MB1_INFO, &m->win, bi);
}

static const char *parse2(struct fake_mem *m, struct boot_info *bi)
{
	return multiboot_parse(MULTIBOOT2_BOOT_MAGIC, MB2_INFO, &m->win, bi);
}

static void assert_region(const struct boot_info *bi, unsigned int i, uint64_t base, uint64_t len,
			  uint32_t type)
{
	assert_true(i < bi->nr_regions);
	assert_int_equal(bi->regions[i].base, base);
	assert_int_equal(bi->regions[i].len, len);
	assert_int_equal(bi->regions[i].type, type);
}

/* ---------------------------------------------------------------- Multiboot 1 builders */

static void mb1_mmap_entry(struct fake_mem *m, uint64_t pa, uint32_t size, uint64_t base,
			   uint64_t len, uint32_t type)
{
	put32(m, pa, size);
	put64(m, pa + 4, base);
	put64(m, pa + 12, len);
	put32(m, pa + 20, type);
}

static void mb1_module(struct fake_mem *m, unsigned int i, uint32_t start, uint32_t end,
		       uint32_t string)
{
	uint64_t pa = MB1_MODS + 16 * i;

	put32(m, pa, start);
	put32(m, pa + 4, end);
	put32(m, pa + 8, string);
	put32(m, pa + 12, 0);
}

/* Sets the mmap fields for n entries of size 20 already written at MB1_MMAP. */
static void mb1_set_mmap(struct fake_mem *m, unsigned int n)
{
	put32(m, MB1_INFO + MB1_MMAP_LENGTH, 24 * n);
	put32(m, MB1_INFO + MB1_MMAP_ADDR, MB1_MMAP);
}

/* What QEMU's -kernel loader builds: memory, boot device, cmdline, modules, mmap, name. */
static void build_mb1_qemu(struct fake_mem *m)
{
	static const struct {
		uint64_t base, len;
		uint32_t type;
	} e820[] = {
	    {0x0, 0x9fc00, 1},	      {0x9fc00, 0x400, 2},     {0xf0000, 0x10000, 2},
	    {0x100000, 0x7ee0000, 1}, {0x7fe0000, 0x20000, 2}, {0xfffc0000, 0x40000, 2},
	};
	unsigned int i;

	put32(m, MB1_INFO + MB1_FLAGS, F_MEM | F_BOOTDEV | F_CMDLINE | F_MODS | F_MMAP | F_LOADER);
	put32(m, MB1_INFO + MB1_MEM_LOWER, 639);
	put32(m, MB1_INFO + MB1_MEM_UPPER, 130048);
	put32(m, MB1_INFO + MB1_BOOT_DEVICE, 0x8000ffff);
	put32(m, MB1_INFO + MB1_CMDLINE,
	      put_string(m, "/boot/nestvisor.elf guests=l1_basic budget=1000000"));
	put32(m, MB1_INFO + MB1_MODS_COUNT, 2);
	put32(m, MB1_INFO + MB1_MODS_ADDR, MB1_MODS);
	mb1_module(m, 0, 0x200000, 0x210000, put_string(m, "/boot/l1_basic.elf name=l1 mem=32M"));
	mb1_module(m, 1, 0x210000, 0x211234, put_string(m, "l1_npt.elf"));
	for (i = 0; i < 6; i++)
		mb1_mmap_entry(m, MB1_MMAP + 24 * i, 20, e820[i].base, e820[i].len, e820[i].type);
	mb1_set_mmap(m, 6);
	put32(m, MB1_INFO + MB1_BOOT_LOADER_NAME, put_string(m, "qemu"));
}

/* ---------------------------------------------------------------- Multiboot 1 tests */

static void test_mb1_qemu(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	build_mb1_qemu(m);
	assert_null(parse1(m, &bi));
	assert_int_equal(bi.protocol, 1);
	assert_string_equal(bi.cmdline, "/boot/nestvisor.elf guests=l1_basic budget=1000000");
	assert_string_equal(bi.loader, "qemu");
	assert_int_equal(bi.nr_modules, 2);
	assert_int_equal(bi.modules[0].start, 0x200000);
	assert_int_equal(bi.modules[0].end, 0x210000);
	assert_string_equal(bi.modules[0].string, "/boot/l1_basic.elf name=l1 mem=32M");
	assert_int_equal(bi.modules[1].start, 0x210000);
	assert_int_equal(bi.modules[1].end, 0x211234);
	assert_string_equal(bi.modules[1].string, "l1_npt.elf");
	/* The mmap wins over mem_lower/mem_upper. */
	assert_int_equal(bi.nr_regions, 6);
	assert_region(&bi, 0, 0x0, 0x9fc00, MEM_USABLE);
	assert_region(&bi, 1, 0x9fc00, 0x400, MEM_RESERVED);
	assert_region(&bi, 3, 0x100000, 0x7ee0000, MEM_USABLE);
	assert_region(&bi, 5, 0xfffc0000, 0x40000, MEM_RESERVED);
}

static void test_mb1_no_flags(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	build_mb1_qemu(m);
	put32(m, MB1_INFO + MB1_FLAGS, 0);
	assert_null(parse1(m, &bi));
	assert_int_equal(bi.protocol, 1);
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader, "");
	assert_int_equal(bi.nr_modules, 0);
	assert_int_equal(bi.nr_regions, 0);
	/* Only the flags word may be read when no other field is valid. */
	assert_int_equal(m->last_pa, MB1_INFO);
	assert_int_equal(m->last_len, 4);
}

static void test_mb1_meminfo_fallback(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	build_mb1_qemu(m);
	put32(m, MB1_INFO + MB1_FLAGS, F_MEM);
	assert_null(parse1(m, &bi));
	assert_int_equal(bi.nr_regions, 2);
	assert_region(&bi, 0, 0, 639 * 1024, MEM_USABLE);
	assert_region(&bi, 1, 0x100000, 130048ull * 1024, MEM_USABLE);
	assert_int_equal(m->last_len, 12);

	/* An empty lower memory is a zero-length region and is dropped. */
	put32(m, MB1_INFO + MB1_MEM_LOWER, 0);
	put32(m, MB1_INFO + MB1_MEM_UPPER, 0xffffffff);
	assert_null(parse1(m, &bi));
	assert_int_equal(bi.nr_regions, 1);
	assert_region(&bi, 0, 0x100000, 0xffffffffull * 1024, MEM_USABLE);
}

static void test_mb1_empty_mmap_no_fallback(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	build_mb1_qemu(m);
	put32(m, MB1_INFO + MB1_MMAP_LENGTH, 0);
	assert_null(parse1(m, &bi));
	assert_int_equal(bi.nr_regions, 0);
}

/* Each flag makes valid a longer prefix of the struct; exactly that prefix must be read. */
static void test_mb1_reads_only_flagged_prefix(void **state)
{
	static const struct {
		uint32_t flags, len;
	} cases[] = {
	    {0, 4},	  {F_BOOTDEV, 4}, {F_MEM, 12},	  {F_CMDLINE, 20},
	    {F_MODS, 28}, {F_MMAP, 52},	  {F_LOADER, 68}, {F_MEM | F_MODS | F_BOOTDEV, 28},
	};
	struct fake_mem *m = *state;
	struct boot_info bi;
	uint32_t str = put_string(m, "s");
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t pa = FAKE_END - cases[i].len;

		put32(m, pa + MB1_FLAGS, cases[i].flags);
		if (cases[i].len >= MB1_CMDLINE + 4)
			put32(m, pa + MB1_CMDLINE, str);
		if (cases[i].len >= MB1_MODS_COUNT + 4)
			put32(m, pa + MB1_MODS_COUNT, 0);
		if (cases[i].len >= MB1_MMAP_LENGTH + 4)
			put32(m, pa + MB1_MMAP_LENGTH, 0);
		if (cases[i].len >= MB1_BOOT_LOADER_NAME + 4)
			put32(m, pa + MB1_BOOT_LOADER_NAME, str);
		assert_null(multiboot_parse(MULTIBOOT1_BOOT_MAGIC, pa, &m->win, &bi));
		if (cases[i].len == 4)
			continue;
		/* Four bytes closer to the end, the last field falls outside the window. */
		put32(m, pa + 4, cases[i].flags);
		assert_string_equal(multiboot_parse(MULTIBOOT1_BOOT_MAGIC, pa + 4, &m->win, &bi),
				    "multiboot1: info block fields outside readable memory");
	}
}

static void test_mb1_bad_magic(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	const char *err;

	build_mb1_qemu(m);
	err = multiboot_parse(0, MB1_INFO, &m->win, &bi);
	assert_non_null(err);
	assert_non_null(strstr(err, "magic"));
	/* The header magics are not the boot magics. */
	assert_non_null(multiboot_parse(0x1BADB002u, MB1_INFO, &m->win, &bi));
	assert_non_null(multiboot_parse(0xE85250D6u, MB2_INFO, &m->win, &bi));
	assert_non_null(multiboot_parse(MULTIBOOT1_BOOT_MAGIC ^ 1, MB1_INFO, &m->win, &bi));
}

static void test_mb1_info_outside_window(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	assert_string_equal(multiboot_parse(MULTIBOOT1_BOOT_MAGIC, 0x1000, &m->win, &bi),
			    "multiboot1: info block outside readable memory");
	assert_string_equal(multiboot_parse(MULTIBOOT1_BOOT_MAGIC, FAKE_END - 2, &m->win, &bi),
			    "multiboot1: info block outside readable memory");
	/* The flags are readable, but not the fields they declare valid. */
	put32(m, FAKE_END - 16, F_LOADER);
	assert_string_equal(multiboot_parse(MULTIBOOT1_BOOT_MAGIC, FAKE_END - 16, &m->win, &bi),
			    "multiboot1: info block fields outside readable memory");
	/* With fewer flags the same place is fine. */
	put32(m, FAKE_END - 16, F_MEM);
	assert_null(multiboot_parse(MULTIBOOT1_BOOT_MAGIC, FAKE_END - 16, &m->win, &bi));
}

static void test_mb1_info_wraps(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	assert_non_null(
	    multiboot_parse(MULTIBOOT1_BOOT_MAGIC, 0xfffffffffffffffeull, &m->win, &bi));
	assert_non_null(
	    multiboot_parse(MULTIBOOT1_BOOT_MAGIC, 0xfffffffffffffffcull, &m->win, &bi));
}

static void test_mb1_cmdline(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	build_mb1_qemu(m);
	/* 255 characters and the NUL fill the buffer exactly. */
	put32(m, MB1_INFO + MB1_CMDLINE, put_string(m, repeat('c', BOOT_STRING_MAX - 1)));
	assert_null(parse1(m, &bi));
	assert_string_equal(bi.cmdline, repeat('c', BOOT_STRING_MAX - 1));

	put32(m, MB1_INFO + MB1_CMDLINE, put_string(m, repeat('c', BOOT_STRING_MAX)));
	assert_string_equal(parse1(m, &bi), "multiboot1: cmdline has no NUL within 256 bytes");

	/* No NUL at all: 0xa5 garbage up to well past the limit. */
	put32(m, MB1_INFO + MB1_CMDLINE, FAKE_BASE + 0xf000);
	assert_string_equal(parse1(m, &bi), "multiboot1: cmdline has no NUL within 256 bytes");

	put32(m, MB1_INFO + MB1_CMDLINE, 0);
	assert_string_equal(parse1(m, &bi), "multiboot1: cmdline outside readable memory");

	/* A string that starts inside the window and runs off its end. */
	put_bytes(m, FAKE_END - 3, "abc", 3);
	put32(m, MB1_INFO + MB1_CMDLINE, FAKE_END - 3);
	assert_string_equal(parse1(m, &bi), "multiboot1: cmdline outside readable memory");

	/* The same string ending right at the window's end is fine. */
	put_bytes(m, FAKE_END - 3, "ab", 3);
	assert_null(parse1(m, &bi));
	assert_string_equal(bi.cmdline, "ab");
}

static void test_mb1_loader_name(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	build_mb1_qemu(m);
	put32(m, MB1_INFO + MB1_BOOT_LOADER_NAME, put_string(m, repeat('g', BOOT_LOADER_MAX - 1)));
	assert_null(parse1(m, &bi));
	assert_string_equal(bi.loader, repeat('g', BOOT_LOADER_MAX - 1));

	put32(m, MB1_INFO + MB1_BOOT_LOADER_NAME, put_string(m, repeat('g', BOOT_LOADER_MAX)));
	assert_string_equal(parse1(m, &bi),
			    "multiboot1: boot loader name has no NUL within 64 bytes");

	put32(m, MB1_INFO + MB1_BOOT_LOADER_NAME, 0xffffffff);
	assert_string_equal(parse1(m, &bi), "multiboot1: boot loader name outside readable memory");

	/* Without flag 9 the bad pointer is never followed. */
	put32(m, MB1_INFO + MB1_FLAGS, F_CMDLINE | F_MODS | F_MMAP);
	assert_null(parse1(m, &bi));
	assert_string_equal(bi.loader, "");
}

static void test_mb1_modules(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	unsigned int i;

	build_mb1_qemu(m);
	for (i = 0; i < BOOT_MAX_MODULES; i++)
		mb1_module(m, i, 0x200000 + i * 0x1000, 0x201000 + i * 0x1000,
			   put_string(m, "name=x"));
	put32(m, MB1_INFO + MB1_MODS_COUNT, BOOT_MAX_MODULES);
	assert_null(parse1(m, &bi));
	assert_int_equal(bi.nr_modules, BOOT_MAX_MODULES);
	assert_int_equal(bi.modules[15].start, 0x20f000);
	assert_string_equal(bi.modules[15].string, "name=x");

	put32(m, MB1_INFO + MB1_MODS_COUNT, BOOT_MAX_MODULES + 1);
	assert_string_equal(parse1(m, &bi), "multiboot1: more than 16 modules");
	/* A huge count is refused before anything is mapped for it. */
	put32(m, MB1_INFO + MB1_MODS_COUNT, 0xffffffff);
	assert_string_equal(parse1(m, &bi), "multiboot1: more than 16 modules");

	put32(m, MB1_INFO + MB1_MODS_COUNT, 0);
	assert_null(parse1(m, &bi));
	assert_int_equal(bi.nr_modules, 0);
}

static void test_mb1_module_errors(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	build_mb1_qemu(m);
	/* An empty module is allowed; one that ends before it starts is not. */
	mb1_module(m, 1, 0x300000, 0x300000, put_string(m, "empty"));
	assert_null(parse1(m, &bi));
	mb1_module(m, 1, 0x300001, 0x300000, put_string(m, "inverted"));
	assert_string_equal(parse1(m, &bi), "multiboot1: module starts after its end");

	mb1_module(m, 1, 0x300000, 0x301000, 0);
	assert_string_equal(parse1(m, &bi), "multiboot1: module string outside readable memory");

	mb1_module(m, 1, 0x300000, 0x301000, put_string(m, repeat('m', BOOT_STRING_MAX)));
	assert_string_equal(parse1(m, &bi),
			    "multiboot1: module string has no NUL within 256 bytes");

	/* The list itself outside the window, or running off its end. */
	mb1_module(m, 1, 0x300000, 0x301000, put_string(m, "ok"));
	put32(m, MB1_INFO + MB1_MODS_ADDR, 0x1000);
	assert_string_equal(parse1(m, &bi), "multiboot1: module list outside readable memory");
	put32(m, MB1_INFO + MB1_MODS_ADDR, FAKE_END - 16);
	assert_string_equal(parse1(m, &bi), "multiboot1: module list outside readable memory");
	put32(m, MB1_INFO + MB1_MODS_ADDR, 0xfffffff8);
	assert_string_equal(parse1(m, &bi), "multiboot1: module list outside readable memory");
}

static void test_mb1_mmap_types_and_sizes(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	uint64_t pa = MB1_MMAP;

	build_mb1_qemu(m);
	mb1_mmap_entry(m, pa, 20, 0x1000, 0x1000, 0);
	pa += 24;
	mb1_mmap_entry(m, pa, 20, 0x2000, 0x1000, 3);
	pa += 24;
	/* A larger size field: the extra 8 bytes are skipped. */
	mb1_mmap_entry(m, pa, 28, 0x3000, 0x1000, 4);
	pa += 32;
	mb1_mmap_entry(m, pa, 20, 0x4000, 0x1000, 5);
	pa += 24;
	mb1_mmap_entry(m, pa, 20, 0x5000, 0x1000, 6);
	pa += 24;
	/* Zero length: dropped. */
	mb1_mmap_entry(m, pa, 20, 0x6000, 0, 1);
	pa += 24;
	mb1_mmap_entry(m, pa, 20, 0x7000, 0x1000, 0xffffffff);
	pa += 24;
	/* Ending exactly at 2^64 does not wrap. */
	mb1_mmap_entry(m, pa, 20, 0xfffffffffffff000ull, 0x1000, 2);
	pa += 24;
	put32(m, MB1_INFO + MB1_MMAP_LENGTH, pa - MB1_MMAP);
	assert_null(parse1(m, &bi));
	assert_int_equal(bi.nr_regions, 7);
	assert_region(&bi, 0, 0x1000, 0x1000, MEM_RESERVED);
	assert_region(&bi, 1, 0x2000, 0x1000, MEM_ACPI_RECLAIMABLE);
	assert_region(&bi, 2, 0x3000, 0x1000, MEM_ACPI_NVS);
	assert_region(&bi, 3, 0x4000, 0x1000, MEM_BAD);
	assert_region(&bi, 4, 0x5000, 0x1000, MEM_RESERVED);
	assert_region(&bi, 5, 0x7000, 0x1000, MEM_RESERVED);
	assert_region(&bi, 6, 0xfffffffffffff000ull, 0x1000, MEM_RESERVED);
}

static void test_mb1_mmap_errors(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	build_mb1_qemu(m);
	mb1_mmap_entry(m, MB1_MMAP + 24, 0, 0x9fc00, 0x400, 2);
	assert_string_equal(parse1(m, &bi), "multiboot1: memory map entry size below 20");
	mb1_mmap_entry(m, MB1_MMAP + 24, 19, 0x9fc00, 0x400, 2);
	assert_string_equal(parse1(m, &bi), "multiboot1: memory map entry size below 20");

	/* The last entry claims more than mmap_length leaves. */
	mb1_mmap_entry(m, MB1_MMAP + 24, 20, 0x9fc00, 0x400, 2);
	mb1_mmap_entry(m, MB1_MMAP + 5 * 24, 21, 0xfffc0000, 0x40000, 2);
	assert_string_equal(parse1(m, &bi), "multiboot1: memory map entry overruns mmap_length");
	mb1_mmap_entry(m, MB1_MMAP + 5 * 24, 0xfffffffc, 0xfffc0000, 0x40000, 2);
	assert_string_equal(parse1(m, &bi), "multiboot1: memory map entry overruns mmap_length");
	mb1_mmap_entry(m, MB1_MMAP + 5 * 24, 20, 0xfffc0000, 0x40000, 2);

	/* mmap_length cuts an entry short, or leaves a stub of a size field. */
	put32(m, MB1_INFO + MB1_MMAP_LENGTH, 6 * 24 - 1);
	assert_string_equal(parse1(m, &bi), "multiboot1: memory map entry overruns mmap_length");
	put32(m, MB1_INFO + MB1_MMAP_LENGTH, 6 * 24 + 2);
	assert_string_equal(parse1(m, &bi),
			    "multiboot1: memory map ends inside an entry's size field");

	mb1_set_mmap(m, 6);
	put32(m, MB1_INFO + MB1_MMAP_ADDR, 0x1000);
	assert_string_equal(parse1(m, &bi), "multiboot1: memory map outside readable memory");
	put32(m, MB1_INFO + MB1_MMAP_ADDR, FAKE_END - 24);
	assert_string_equal(parse1(m, &bi), "multiboot1: memory map outside readable memory");
	put32(m, MB1_INFO + MB1_MMAP_ADDR, MB1_MMAP);
	put32(m, MB1_INFO + MB1_MMAP_LENGTH, 0xffffffff);
	assert_string_equal(parse1(m, &bi), "multiboot1: memory map outside readable memory");

	mb1_set_mmap(m, 6);
	mb1_mmap_entry(m, MB1_MMAP + 24, 20, 0xfffffffffffff000ull, 0x1001, 1);
	assert_string_equal(parse1(m, &bi),
			    "multiboot1: memory region wraps past the end of the address space");
	mb1_mmap_entry(m, MB1_MMAP + 24, 20, 2, 0xffffffffffffffffull, 1);
	assert_string_equal(parse1(m, &bi),
			    "multiboot1: memory region wraps past the end of the address space");
}

static void test_mb1_too_many_regions(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	unsigned int i;

	build_mb1_qemu(m);
	for (i = 0; i < BOOT_MAX_REGIONS + 1; i++)
		mb1_mmap_entry(m, MB1_MMAP + 24 * i, 20, 0x1000ull * i, 0x1000, 1);
	mb1_set_mmap(m, BOOT_MAX_REGIONS);
	assert_null(parse1(m, &bi));
	assert_int_equal(bi.nr_regions, BOOT_MAX_REGIONS);
	assert_region(&bi, BOOT_MAX_REGIONS - 1, 0x1000ull * (BOOT_MAX_REGIONS - 1), 0x1000,
		      MEM_USABLE);

	mb1_set_mmap(m, BOOT_MAX_REGIONS + 1);
	assert_string_equal(parse1(m, &bi), "multiboot1: more than 128 memory regions");

	/* Zero-length entries do not count against the limit. */
	mb1_mmap_entry(m, MB1_MMAP, 20, 0, 0, 1);
	assert_null(parse1(m, &bi));
	assert_int_equal(bi.nr_regions, BOOT_MAX_REGIONS);
}

/* ---------------------------------------------------------------- Multiboot2 builders */

struct mb2_builder {
	struct fake_mem *m;
	uint64_t pa;
	uint32_t off;
};

static void mb2_begin(struct mb2_builder *b, struct fake_mem *m, uint64_t pa)
{
	b->m = m;
	b->pa = pa;
	b->off = 8;
	put32(m, pa + 4, 0);
}

/* Appends a tag (section 3.6.2), returns its offset, and moves to the next 8-byte boundary. */
static uint32_t mb2_tag(struct mb2_builder *b, uint32_t type, const void *payload, uint32_t len)
{
	uint32_t off = b->off;

	put32(b->m, b->pa + off, type);
	put32(b->m, b->pa + off + 4, 8 + len);
	if (len)
		put_bytes(b->m, b->pa + off + 8, payload, len);
	b->off = (off + 8 + len + 7) & ~7u;
	return off;
}

static uint32_t mb2_string_tag(struct mb2_builder *b, uint32_t type, const char *s)
{
	return mb2_tag(b, type, s, strlen(s) + 1);
}

static uint32_t mb2_module(struct mb2_builder *b, uint32_t start, uint32_t end, const char *s)
{
	unsigned char payload[8 + 1024];
	size_t len = strlen(s) + 1;
	int i;

	assert_true(len <= 1024);
	for (i = 0; i < 4; i++) {
		payload[i] = start >> (8 * i);
		payload[4 + i] = end >> (8 * i);
	}
	memcpy(payload + 8, s, len);
	return mb2_tag(b, 3, payload, 8 + len);
}

static uint32_t mb2_meminfo(struct mb2_builder *b, uint32_t lower, uint32_t upper)
{
	uint32_t v[2] = {lower, upper};

	return mb2_tag(b, 4, v, sizeof(v));
}

struct e820 {
	uint64_t base, len;
	uint32_t type;
};

/* A memory map tag (section 3.6.8) with entries of entry_size bytes, extra bytes garbage. */
static uint32_t mb2_mmap(struct mb2_builder *b, uint32_t entry_size, const struct e820 *e,
			 unsigned int n)
{
	static unsigned char payload[8 + 200 * 64];
	unsigned int i;

	assert_true(entry_size <= 64 && n <= 200);
	memset(payload, 0x5a, sizeof(payload));
	memcpy(payload, &entry_size, 4);
	memset(payload + 4, 0, 4);
	for (i = 0; i < n; i++) {
		unsigned char *p = payload + 8 + i * entry_size;

		memcpy(p, &e[i].base, 8);
		memcpy(p + 8, &e[i].len, 8);
		memcpy(p + 16, &e[i].type, 4);
		memset(p + 20, 0, 4);
	}
	return mb2_tag(b, 6, payload, 8 + n * entry_size);
}

static uint32_t mb2_end(struct mb2_builder *b)
{
	mb2_tag(b, 0, NULL, 0);
	put32(b->m, b->pa, b->off);
	return b->off;
}

static const struct e820 grub_e820[] = {
    {0x0, 0x9fc00, 1},	      {0x9fc00, 0x400, 2},     {0xf0000, 0x10000, 2},
    {0x100000, 0x7ee0000, 1}, {0x7fe0000, 0x20000, 3}, {0xfffc0000, 0x40000, 4},
};

/* Roughly what GRUB 2 hands over for "multiboot2 /nestvisor.elf ..." with two module2 lines. */
static void build_mb2_grub(struct fake_mem *m)
{
	static const unsigned char bootdev[12] = {0x80, 0,    0,    0,	  0xff, 0xff,
						  0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const unsigned char framebuffer[24] = {0};
	static const unsigned char rsdp[36] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};
	static const unsigned char odd[5] = {1, 2, 3, 4, 5};
	struct mb2_builder b;

	mb2_begin(&b, m, MB2_INFO);
	mb2_string_tag(&b, 1, "guests=l1_basic budget=1000000");
	mb2_string_tag(&b, 2, "GRUB 2.06-13+deb12u1");
	mb2_module(&b, 0x200000, 0x210000, "name=l1_basic mem=32M");
	mb2_module(&b, 0x210000, 0x210001, "");
	mb2_meminfo(&b, 639, 130048);
	mb2_tag(&b, 5, bootdev, sizeof(bootdev));
	mb2_mmap(&b, 24, grub_e820, 6);
	mb2_tag(&b, 8, framebuffer, sizeof(framebuffer));
	mb2_tag(&b, 15, rsdp, sizeof(rsdp));
	/* A type from the future with a size that needs padding. */
	mb2_tag(&b, 0x1234, odd, sizeof(odd));
	mb2_end(&b);
}

/* ---------------------------------------------------------------- Multiboot2 tests */

static void test_mb2_grub(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	build_mb2_grub(m);
	assert_null(parse2(m, &bi));
	assert_int_equal(bi.protocol, 2);
	assert_string_equal(bi.cmdline, "guests=l1_basic budget=1000000");
	assert_string_equal(bi.loader, "GRUB 2.06-13+deb12u1");
	assert_int_equal(bi.nr_modules, 2);
	assert_int_equal(bi.modules[0].start, 0x200000);
	assert_int_equal(bi.modules[0].end, 0x210000);
	assert_string_equal(bi.modules[0].string, "name=l1_basic mem=32M");
	assert_int_equal(bi.modules[1].start, 0x210000);
	assert_int_equal(bi.modules[1].end, 0x210001);
	assert_string_equal(bi.modules[1].string, "");
	/* The memory map wins over basic meminfo. */
	assert_int_equal(bi.nr_regions, 6);
	assert_region(&bi, 0, 0, 0x9fc00, MEM_USABLE);
	assert_region(&bi, 3, 0x100000, 0x7ee0000, MEM_USABLE);
	assert_region(&bi, 4, 0x7fe0000, 0x20000, MEM_ACPI_RECLAIMABLE);
	assert_region(&bi, 5, 0xfffc0000, 0x40000, MEM_ACPI_NVS);
}

static void test_mb2_minimal(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	struct mb2_builder b;

	mb2_begin(&b, m, MB2_INFO);
	assert_int_equal(mb2_end(&b), 16);
	assert_null(parse2(m, &bi));
	assert_int_equal(bi.protocol, 2);
	assert_int_equal(bi.nr_regions, 0);
	assert_int_equal(bi.nr_modules, 0);
	assert_string_equal(bi.cmdline, "");

	/* Bytes after the end tag, inside total_size, are not looked at. */
	put32(m, MB2_INFO, 64);
	assert_null(parse2(m, &bi));

	/* An end tag larger than 8 is tolerated as long as it fits. */
	put32(m, MB2_INFO + 12, 16);
	put32(m, MB2_INFO, 24);
	assert_null(parse2(m, &bi));
}

static void test_mb2_meminfo_fallback(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	struct mb2_builder b;

	mb2_begin(&b, m, MB2_INFO);
	mb2_meminfo(&b, 639, 130048);
	mb2_end(&b);
	assert_null(parse2(m, &bi));
	assert_int_equal(bi.nr_regions, 2);
	assert_region(&bi, 0, 0, 639 * 1024, MEM_USABLE);
	assert_region(&bi, 1, 0x100000, 130048ull * 1024, MEM_USABLE);

	/* An empty memory map tag still counts as a memory map. */
	mb2_begin(&b, m, MB2_INFO);
	mb2_mmap(&b, 24, NULL, 0);
	mb2_meminfo(&b, 639, 130048);
	mb2_end(&b);
	assert_null(parse2(m, &bi));
	assert_int_equal(bi.nr_regions, 0);

	mb2_begin(&b, m, MB2_INFO);
	put32(m, MB2_INFO + mb2_meminfo(&b, 639, 130048) + 4, 12);
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: basic meminfo tag is smaller than its fixed fields");
}

static void test_mb2_header_errors(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;

	build_mb2_grub(m);
	assert_string_equal(multiboot_parse(MULTIBOOT2_BOOT_MAGIC, MB2_INFO + 4, &m->win, &bi),
			    "multiboot2: info block is not 8-byte aligned");
	assert_string_equal(multiboot_parse(MULTIBOOT2_BOOT_MAGIC, 0x1000, &m->win, &bi),
			    "multiboot2: info block outside readable memory");

	put32(m, MB2_INFO, 0);
	assert_string_equal(parse2(m, &bi), "multiboot2: total_size too small for an end tag");
	put32(m, MB2_INFO, 15);
	assert_string_equal(parse2(m, &bi), "multiboot2: total_size too small for an end tag");
	put32(m, MB2_INFO, (1u << 20) + 1);
	assert_string_equal(parse2(m, &bi), "multiboot2: total_size larger than 1 MiB");
	put32(m, MB2_INFO, 0xffffffff);
	assert_string_equal(parse2(m, &bi), "multiboot2: total_size larger than 1 MiB");
	/* Plausible, but more than the window holds. */
	put32(m, MB2_INFO, 1u << 20);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: total_size reaches outside readable memory");
	put32(m, MB2_INFO, FAKE_END - MB2_INFO + 8);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: total_size reaches outside readable memory");
}

static void test_mb2_wraps(void **state)
{
	struct fake_mem *m = *state;
	struct fake_mem top;
	struct boot_info bi;
	struct mb2_builder b;

	assert_string_equal(
	    multiboot_parse(MULTIBOOT2_BOOT_MAGIC, 0xfffffffffffffff8ull, &m->win, &bi),
	    "multiboot2: info block outside readable memory");

	/*
	 * A window in the last page of the address space: the header is readable, but a
	 * total_size that reaches 2^64 or beyond must be refused before map() sees it.
	 */
	fake_init(&top, 0xfffffffffffff000ull, 0x1000);
	put32(&top, 0xffffffffffffff00ull, 0x100);
	put32(&top, 0xffffffffffffff04ull, 0);
	assert_string_equal(
	    multiboot_parse(MULTIBOOT2_BOOT_MAGIC, 0xffffffffffffff00ull, &top.win, &bi),
	    "multiboot2: total_size reaches outside readable memory");
	put32(&top, 0xffffffffffffff00ull, 0x1000);
	assert_string_equal(
	    multiboot_parse(MULTIBOOT2_BOOT_MAGIC, 0xffffffffffffff00ull, &top.win, &bi),
	    "multiboot2: total_size reaches outside readable memory");
	/* One that stops short of the top is fine. */
	b.m = &top;
	b.pa = 0xfffffffffffffe00ull;
	b.off = 8;
	put32(&top, b.pa + 4, 0);
	mb2_string_tag(&b, 1, "top");
	mb2_end(&b);
	assert_null(multiboot_parse(MULTIBOOT2_BOOT_MAGIC, b.pa, &top.win, &bi));
	assert_string_equal(bi.cmdline, "top");
	assert_int_equal(top.bad_calls, 0);
	fake_release(&top);
}

static void test_mb2_tag_size_errors(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	struct mb2_builder b;
	uint32_t off;

	/* size 0 would loop forever if it were accepted. */
	mb2_begin(&b, m, MB2_INFO);
	off = mb2_string_tag(&b, 1, "x");
	mb2_end(&b);
	put32(m, MB2_INFO + off + 4, 0);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: cmdline tag is smaller than its fixed fields");
	put32(m, MB2_INFO + off + 4, 7);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: cmdline tag is smaller than its fixed fields");

	/* The same checks name tags the parser does not otherwise look at. */
	put32(m, MB2_INFO + off, 8);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: framebuffer info tag is smaller than its fixed fields");
	put32(m, MB2_INFO + off, 0x1234);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: unknown tag is smaller than its fixed fields");
	put32(m, MB2_INFO + off, 0);
	assert_string_equal(parse2(m, &bi), "multiboot2: end tag is smaller than its fixed fields");

	/* A tag reaching past total_size. */
	put32(m, MB2_INFO + off, 21);
	put32(m, MB2_INFO + off + 4, 25);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: image load base address tag overruns the info block");
	put32(m, MB2_INFO + off, 22);
	put32(m, MB2_INFO + off + 4, 0xfffffff8);
	assert_string_equal(parse2(m, &bi), "multiboot2: unknown tag overruns the info block");
	put32(m, MB2_INFO + off, 0);
	put32(m, MB2_INFO + off + 4, 9);
	put32(m, MB2_INFO, 16);
	assert_string_equal(parse2(m, &bi), "multiboot2: end tag overruns the info block");
}

static void test_mb2_missing_end_tag(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	struct mb2_builder b;

	/* total_size stops right after the last tag. */
	mb2_begin(&b, m, MB2_INFO);
	mb2_string_tag(&b, 1, "abcdefg");
	mb2_end(&b);
	put32(m, MB2_INFO, 24);
	assert_string_equal(parse2(m, &bi), "multiboot2: no end tag within total_size");

	/* total_size stops inside the padding after an odd-sized tag. */
	mb2_begin(&b, m, MB2_INFO);
	mb2_string_tag(&b, 1, "abc");
	mb2_end(&b);
	put32(m, MB2_INFO, 20);
	assert_string_equal(parse2(m, &bi), "multiboot2: no end tag within total_size");

	/* Room for only part of a tag header after the last tag. */
	put32(m, MB2_INFO, 28);
	assert_string_equal(parse2(m, &bi), "multiboot2: no end tag within total_size");

	/* Unknown tags all the way to the end. */
	mb2_begin(&b, m, MB2_INFO);
	mb2_tag(&b, 99, NULL, 0);
	mb2_tag(&b, 99, NULL, 0);
	put32(m, MB2_INFO, b.off);
	assert_string_equal(parse2(m, &bi), "multiboot2: no end tag within total_size");
}

static void test_mb2_strings(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	struct mb2_builder b;
	uint32_t off;

	mb2_begin(&b, m, MB2_INFO);
	mb2_string_tag(&b, 1, repeat('c', BOOT_STRING_MAX - 1));
	mb2_string_tag(&b, 2, repeat('g', BOOT_LOADER_MAX - 1));
	mb2_end(&b);
	assert_null(parse2(m, &bi));
	assert_string_equal(bi.cmdline, repeat('c', BOOT_STRING_MAX - 1));
	assert_string_equal(bi.loader, repeat('g', BOOT_LOADER_MAX - 1));

	mb2_begin(&b, m, MB2_INFO);
	mb2_string_tag(&b, 1, repeat('c', BOOT_STRING_MAX));
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi), "multiboot2: cmdline does not fit in 256 bytes");

	mb2_begin(&b, m, MB2_INFO);
	mb2_string_tag(&b, 2, repeat('g', BOOT_LOADER_MAX));
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: boot loader name does not fit in 64 bytes");

	/* The NUL is in the padding after the tag, which does not count. */
	mb2_begin(&b, m, MB2_INFO);
	off = mb2_tag(&b, 1, "abc", 3);
	mb2_end(&b);
	put_bytes(m, MB2_INFO + off + 11, "", 1);
	assert_string_equal(parse2(m, &bi), "multiboot2: cmdline has no NUL within its tag");

	/* A tag with no room for any string at all. */
	mb2_begin(&b, m, MB2_INFO);
	mb2_tag(&b, 2, NULL, 0);
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: boot loader name has no NUL within its tag");

	/* Bytes after the NUL inside the tag are ignored. */
	mb2_begin(&b, m, MB2_INFO);
	mb2_tag(&b, 1, "ab\0cd", 6);
	mb2_end(&b);
	assert_null(parse2(m, &bi));
	assert_string_equal(bi.cmdline, "ab");
}

static void test_mb2_repeated_tags(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	struct mb2_builder b;

	mb2_begin(&b, m, MB2_INFO);
	mb2_string_tag(&b, 1, "a");
	mb2_string_tag(&b, 1, "b");
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi), "multiboot2: cmdline tag appears more than once");

	mb2_begin(&b, m, MB2_INFO);
	mb2_mmap(&b, 24, grub_e820, 1);
	mb2_string_tag(&b, 2, "x");
	mb2_mmap(&b, 24, grub_e820, 1);
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi), "multiboot2: memory map tag appears more than once");

	/* Repeats of tags we skip, and of modules, are fine. */
	mb2_begin(&b, m, MB2_INFO);
	mb2_tag(&b, 8, NULL, 0);
	mb2_tag(&b, 8, NULL, 0);
	mb2_module(&b, 1, 2, "a");
	mb2_module(&b, 1, 2, "a");
	mb2_end(&b);
	assert_null(parse2(m, &bi));
	assert_int_equal(bi.nr_modules, 2);
}

static void test_mb2_modules(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	struct mb2_builder b;
	unsigned int i;

	mb2_begin(&b, m, MB2_INFO);
	for (i = 0; i < BOOT_MAX_MODULES; i++)
		mb2_module(&b, 0x200000 + i, 0x200001 + i, "name=m");
	mb2_end(&b);
	assert_null(parse2(m, &bi));
	assert_int_equal(bi.nr_modules, BOOT_MAX_MODULES);
	assert_int_equal(bi.modules[15].start, 0x20000f);
	assert_string_equal(bi.modules[15].string, "name=m");

	mb2_begin(&b, m, MB2_INFO);
	for (i = 0; i < BOOT_MAX_MODULES + 1; i++)
		mb2_module(&b, 0x200000 + i, 0x200001 + i, "name=m");
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi), "multiboot2: more than 16 modules");

	mb2_begin(&b, m, MB2_INFO);
	mb2_module(&b, 0x200001, 0x200000, "x");
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi), "multiboot2: module starts after its end");

	mb2_begin(&b, m, MB2_INFO);
	mb2_module(&b, 0x200000, 0x200000, repeat('m', BOOT_STRING_MAX - 1));
	mb2_end(&b);
	assert_null(parse2(m, &bi));
	assert_string_equal(bi.modules[0].string, repeat('m', BOOT_STRING_MAX - 1));

	mb2_begin(&b, m, MB2_INFO);
	mb2_module(&b, 0x200000, 0x200000, repeat('m', BOOT_STRING_MAX));
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi), "multiboot2: module string does not fit in 256 bytes");

	mb2_begin(&b, m, MB2_INFO);
	put32(m, MB2_INFO + 16 + mb2_module(&b, 0x200000, 0x200000, "abc"), 0x61616161);
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi), "multiboot2: module string has no NUL within its tag");

	/* Too short to hold mod_start and mod_end, let alone a string. */
	mb2_begin(&b, m, MB2_INFO);
	mb2_tag(&b, 3, "\0\0\0\0\0\0\0", 7);
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: module tag is smaller than its fixed fields");
	/* Exactly the fixed fields: no room for the NUL. */
	mb2_begin(&b, m, MB2_INFO);
	mb2_tag(&b, 3, "\0\0\0\0\0\0\0", 8);
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi), "multiboot2: module string has no NUL within its tag");
}

static void test_mb2_mmap(void **state)
{
	static const struct e820 e[] = {
	    {0x1000, 0x1000, 0}, {0x2000, 0, 1}, /* dropped */
	    {0x3000, 0x1000, 5}, {0x4000, 0x1000, 77}, {0xfffffffffffff000ull, 0x1000, 2},
	};
	struct fake_mem *m = *state;
	struct boot_info bi;
	struct mb2_builder b;

	/* A future entry version with 40-byte entries: the known fields still come first. */
	mb2_begin(&b, m, MB2_INFO);
	mb2_mmap(&b, 40, e, 5);
	mb2_end(&b);
	assert_null(parse2(m, &bi));
	assert_int_equal(bi.nr_regions, 4);
	assert_region(&bi, 0, 0x1000, 0x1000, MEM_RESERVED);
	assert_region(&bi, 1, 0x3000, 0x1000, MEM_BAD);
	assert_region(&bi, 2, 0x4000, 0x1000, MEM_RESERVED);
	assert_region(&bi, 3, 0xfffffffffffff000ull, 0x1000, MEM_RESERVED);
}

static void test_mb2_mmap_errors(void **state)
{
	static const struct e820 wrap[] = {
	    {0x0, 0x1000, 1},
	    {0xfffffffffffff000ull, 0x1001, 1},
	};
	struct fake_mem *m = *state;
	struct boot_info bi;
	struct mb2_builder b;
	uint32_t off;

	mb2_begin(&b, m, MB2_INFO);
	mb2_tag(&b, 6, "\x18\0\0\0", 4);
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: memory map tag is smaller than its fixed fields");

	mb2_begin(&b, m, MB2_INFO);
	off = mb2_mmap(&b, 24, grub_e820, 2);
	mb2_end(&b);
	put32(m, MB2_INFO + off + 8, 0);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: memory map entry_size below 24 or not a multiple of 8");
	put32(m, MB2_INFO + off + 8, 20);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: memory map entry_size below 24 or not a multiple of 8");
	put32(m, MB2_INFO + off + 8, 28);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: memory map entry_size below 24 or not a multiple of 8");
	/* Two 24-byte entries are not a whole number of 32-byte ones. */
	put32(m, MB2_INFO + off + 8, 32);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: memory map tag is not a whole number of entries");
	put32(m, MB2_INFO + off + 8, 0xfffffff8);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: memory map tag is not a whole number of entries");
	put32(m, MB2_INFO + off + 8, 24);
	/* Tag size one short of two entries. */
	put32(m, MB2_INFO + off + 4, 16 + 47);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: memory map tag is not a whole number of entries");

	mb2_begin(&b, m, MB2_INFO);
	mb2_mmap(&b, 24, wrap, 2);
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi),
			    "multiboot2: memory region wraps past the end of the address space");
}

static void test_mb2_too_many_regions(void **state)
{
	static struct e820 e[BOOT_MAX_REGIONS + 1];
	struct fake_mem *m = *state;
	struct boot_info bi;
	struct mb2_builder b;
	unsigned int i;

	for (i = 0; i < BOOT_MAX_REGIONS + 1; i++) {
		e[i].base = 0x1000ull * i;
		e[i].len = 0x1000;
		e[i].type = 1;
	}
	mb2_begin(&b, m, MB2_INFO);
	mb2_mmap(&b, 24, e, BOOT_MAX_REGIONS);
	mb2_end(&b);
	assert_null(parse2(m, &bi));
	assert_int_equal(bi.nr_regions, BOOT_MAX_REGIONS);

	mb2_begin(&b, m, MB2_INFO);
	mb2_mmap(&b, 24, e, BOOT_MAX_REGIONS + 1);
	mb2_end(&b);
	assert_string_equal(parse2(m, &bi), "multiboot2: more than 128 memory regions");
}

/* ---------------------------------------------------------------- boot_option */

static void test_option_path_first(void **state)
{
	char buf[32];
	bool too_long = true;

	(void)state;
	assert_true(boot_option("/boot/guests/l1.elf name=l1 mem=32M", "name", buf, sizeof(buf),
				&too_long));
	assert_string_equal(buf, "l1");
	assert_false(too_long);
	assert_true(
	    boot_option("/boot/guests/l1.elf name=l1 mem=32M", "mem", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "32M");
	/* Only a whole word matches, so the path never answers for a key. */
	assert_false(boot_option("/boot/guests/l1.elf name=l1", "l1.elf", buf, sizeof(buf), NULL));
	assert_false(boot_option("/boot/guests/l1.elf name=l1", "/boot", buf, sizeof(buf), NULL));
	/* GRUB drops the path: the first word is then an option like any other. */
	assert_true(boot_option("name=l1 mem=32M", "name", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "l1");
}

static void test_option_positions(void **state)
{
	const char *opts = "guests=a,b budget=1000 verbose log=serial";
	char buf[32];

	(void)state;
	assert_true(boot_option(opts, "guests", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "a,b");
	assert_true(boot_option(opts, "budget", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "1000");
	assert_true(boot_option(opts, "log", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "serial");
	/* A bare key is present with an empty value, and so is "key=". */
	strcpy(buf, "junk");
	assert_true(boot_option(opts, "verbose", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "");
	assert_true(boot_option("a= b", "a", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "");
	assert_true(boot_option("debug", "debug", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "");
	/* Only the first '=' separates. */
	assert_true(boot_option("x=y=z", "x", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "y=z");
	/* Extra blanks anywhere. */
	assert_true(boot_option("  \tname=l1\t\t mem=1M  ", "mem", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "1M");
	assert_true(boot_option("  \tname=l1\t\t mem=1M  ", "name", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "l1");
}

static void test_option_prefix_keys(void **state)
{
	char buf[32];

	(void)state;
	assert_true(boot_option("memory=1G mem=32M", "mem", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "32M");
	assert_true(boot_option("mem=32M memory=1G", "mem", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "32M");
	assert_true(boot_option("mem=32M memory=1G", "memory", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "1G");
	assert_false(boot_option("memory=1G", "mem", buf, sizeof(buf), NULL));
	assert_false(boot_option("mem=32M", "memory", buf, sizeof(buf), NULL));
	assert_false(boot_option("mem=32M", "me", buf, sizeof(buf), NULL));
	assert_false(boot_option("mem", "me", buf, sizeof(buf), NULL));
}

static void test_option_last_wins(void **state)
{
	char buf[32];

	(void)state;
	assert_true(boot_option("mem=1M name=a mem=2M", "mem", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "2M");
}

static void test_option_too_long(void **state)
{
	char buf[8];
	bool too_long = false;

	(void)state;
	/* Seven characters and the NUL fit; eight do not. */
	assert_true(boot_option("k=1234567", "k", buf, sizeof(buf), &too_long));
	assert_string_equal(buf, "1234567");
	assert_false(too_long);
	assert_false(boot_option("k=12345678", "k", buf, sizeof(buf), &too_long));
	assert_true(too_long);
	assert_false(boot_option("k=12345678", "k", buf, sizeof(buf), NULL));
	/* Without room for even the NUL, an empty value does not fit either. */
	too_long = false;
	assert_false(boot_option("k", "k", NULL, 0, &too_long));
	assert_true(too_long);
	/* A later call resets the flag. */
	assert_true(boot_option("k=1", "k", buf, sizeof(buf), &too_long));
	assert_false(too_long);
}

static void test_option_missing(void **state)
{
	char buf[8];
	bool too_long = true;

	(void)state;
	assert_false(boot_option("a=1 b=2", "c", buf, sizeof(buf), &too_long));
	assert_false(too_long);
	assert_false(boot_option("", "a", buf, sizeof(buf), NULL));
	assert_false(boot_option("   ", "a", buf, sizeof(buf), NULL));
	too_long = true;
	assert_false(boot_option(NULL, "a", buf, sizeof(buf), &too_long));
	assert_false(too_long);
	assert_false(boot_option("a=1", NULL, buf, sizeof(buf), NULL));
	assert_false(boot_option("a=1 =2", "", buf, sizeof(buf), NULL));
	/* Keys with '=' or blanks can never match a word's key part. */
	assert_false(boot_option("a=1", "a=1", buf, sizeof(buf), NULL));
	assert_false(boot_option("a b", "a b", buf, sizeof(buf), NULL));
}

/* The boot_info parsed from real loaders feeds boot_option as the kernel will use it. */
static void test_option_on_parsed_info(void **state)
{
	struct fake_mem *m = *state;
	struct boot_info bi;
	char buf[BOOT_STRING_MAX];

	build_mb1_qemu(m);
	assert_null(parse1(m, &bi));
	assert_true(boot_option(bi.cmdline, "guests", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "l1_basic");
	assert_true(boot_option(bi.modules[0].string, "mem", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "32M");
	assert_false(boot_option(bi.modules[1].string, "name", buf, sizeof(buf), NULL));

	build_mb2_grub(m);
	assert_null(parse2(m, &bi));
	assert_true(boot_option(bi.cmdline, "budget", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "1000000");
	assert_true(boot_option(bi.modules[0].string, "name", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "l1_basic");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_mb1_qemu),
	    T(test_mb1_no_flags),
	    T(test_mb1_meminfo_fallback),
	    T(test_mb1_empty_mmap_no_fallback),
	    T(test_mb1_reads_only_flagged_prefix),
	    T(test_mb1_bad_magic),
	    T(test_mb1_info_outside_window),
	    T(test_mb1_info_wraps),
	    T(test_mb1_cmdline),
	    T(test_mb1_loader_name),
	    T(test_mb1_modules),
	    T(test_mb1_module_errors),
	    T(test_mb1_mmap_types_and_sizes),
	    T(test_mb1_mmap_errors),
	    T(test_mb1_too_many_regions),
	    T(test_mb2_grub),
	    T(test_mb2_minimal),
	    T(test_mb2_meminfo_fallback),
	    T(test_mb2_header_errors),
	    T(test_mb2_wraps),
	    T(test_mb2_tag_size_errors),
	    T(test_mb2_missing_end_tag),
	    T(test_mb2_strings),
	    T(test_mb2_repeated_tags),
	    T(test_mb2_modules),
	    T(test_mb2_mmap),
	    T(test_mb2_mmap_errors),
	    T(test_mb2_too_many_regions),
	    T(test_option_path_first),
	    T(test_option_positions),
	    T(test_option_prefix_keys),
	    T(test_option_last_wins),
	    T(test_option_too_long),
	    T(test_option_missing),
	    T(test_option_on_parsed_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
