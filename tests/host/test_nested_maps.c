/* host-test-sources: arch/x86/svm/nested_maps.c */
/*
 * Host unit tests for arch/x86/svm/nested_maps.c.
 *
 * L1 RAM is a heap block of exactly RAM_SIZE bytes, so AddressSanitizer
 * reports any read past it. Map layouts are spelled out from APM 15.10 and
 * 15.11 here, independently of nested_maps.c and vmcb.h.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/svm/nested_maps.h"
#include "arch/x86/svm/vmcb.h"

#define RAM_SIZE  0x10000ull
#define MSRPM	  0x1000ull /* a map wholly inside RAM */
#define IOPM	  0x4000ull
#define MSRPM_LEN 0x2000u /* APM 15.11: 8 KiB */
#define IOPM_LEN  0x3000u /* APM 15.10.1: 12 KiB */

_Static_assert(SVM_MSRPM_SIZE == MSRPM_LEN, "MSRPM is 8 KiB");
_Static_assert(SVM_IOPM_SIZE == IOPM_LEN, "IOPM is 12 KiB");

static struct guest_ram ram;

static int group_setup(void **state)
{
	(void)state;
	ram.base = malloc(RAM_SIZE);
	ram.size = RAM_SIZE;
	return ram.base ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(ram.base);
	return 0;
}

static int zero_ram(void **state)
{
	(void)state;
	memset(ram.base, 0, RAM_SIZE);
	return 0;
}

static void set_bit(uint64_t map, uint64_t bit)
{
	ram.base[map + bit / 8] |= 1u << (bit % 8);
}

/* A deterministic byte pattern with every bit value in every position. */
static uint8_t pattern(uint64_t i, unsigned int seed)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed * 0xbf58476d1ce4e5b9ull;

	x ^= x >> 29;
	return (uint8_t)(x * 0x94d049bb133111ebull >> 56);
}

/*
 * The APM 15.11 layout, spelled out: bit index of (msr, write) in the
 * MSRPM, or -1 for an MSR no range covers.
 */
static long msr_bit(uint32_t msr, bool write)
{
	long base;

	if (msr <= 0x1fff)
		base = 0x0000 * 8 + 2l * msr;
	else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		base = 0x0800 * 8 + 2l * (msr - 0xc0000000u);
	else if (msr >= 0xc0010000u && msr <= 0xc0011fffu)
		base = 0x1000 * 8 + 2l * (msr - 0xc0010000u);
	else
		return -1;
	return base + write;
}

/* ---- l1_phys_byte ---- */

static void test_phys_byte(void **state)
{
	(void)state;
	ram.base[0] = 0x12;
	ram.base[RAM_SIZE - 1] = 0x34;
	assert_int_equal(l1_phys_byte(&ram, 0), 0x12);
	assert_int_equal(l1_phys_byte(&ram, RAM_SIZE - 1), 0x34);
	assert_int_equal(l1_phys_byte(&ram, 1), 0);
	assert_int_equal(l1_phys_byte(&ram, RAM_SIZE), 0xff);
	assert_int_equal(l1_phys_byte(&ram, UINT64_MAX), 0xff);
}

/* ---- MSRPM ---- */

/* The first and last MSR of each range, then TSC, EFER and VM_HSAVE_PA. */
static const uint32_t range_edges[] = {
    0x00000000, 0x00001fff, 0xc0000000, 0xc0001fff, 0xc0010000,
    0xc0011fff, 0x00000010, 0xc0000080, 0xc0010117,
};

/* One bit set: exactly its (msr, write) pair is intercepted among neighbours. */
static void test_msr_single_bits(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(range_edges) / sizeof(range_edges[0]); i++) {
		uint32_t msr = range_edges[i];

		for (int w = 0; w < 2; w++) {
			zero_ram(NULL);
			set_bit(MSRPM, msr_bit(msr, w));
			for (uint32_t m = msr - 1; m != msr + 2; m++) {
				bool covered = msr_bit(m, false) >= 0;

				assert_int_equal(nested_msr_intercepted(&ram, MSRPM, m, w),
						 m == msr || !covered);
				assert_int_equal(nested_msr_intercepted(&ram, MSRPM, m, !w),
						 !covered);
			}
		}
	}
}

/* Hand-computed positions (APM 15.11), independent of msr_bit(). */
static void test_msr_known_positions(void **state)
{
	static const struct {
		uint32_t msr;
		bool write;
		uint32_t byte;
		unsigned int bit;
	} pos[] = {
	    {0x00000000, false, 0x000, 0},  {0x00000000, true, 0x000, 1},
	    {0x00001fff, false, 0x7ff, 6},  {0x00001fff, true, 0x7ff, 7},
	    {0xc0000000, false, 0x800, 0},  {0xc0000000, true, 0x800, 1},
	    {0xc0001fff, false, 0xfff, 6},  {0xc0001fff, true, 0xfff, 7},
	    {0xc0010000, false, 0x1000, 0}, {0xc0010000, true, 0x1000, 1},
	    {0xc0011fff, false, 0x17ff, 6}, {0xc0011fff, true, 0x17ff, 7},
	    {0x0000001b, false, 0x006, 6},  {0xc0000080, true, 0x820, 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
		zero_ram(NULL);
		ram.base[MSRPM + pos[i].byte] = 1u << pos[i].bit;
		assert_true(nested_msr_intercepted(&ram, MSRPM, pos[i].msr, pos[i].write));
		assert_false(nested_msr_intercepted(&ram, MSRPM, pos[i].msr, !pos[i].write));
	}
}

static void test_msr_outside_ranges(void **state)
{
	static const uint32_t outside[] = {
	    0x00002000, 0xbfffffff, 0xc0002000, 0xc000ffff,
	    0xc0012000, 0xffffffff, 0x40000000, 0xc0001fff + 0x8000,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		assert_true(nested_msr_intercepted(&ram, MSRPM, outside[i], false));
		assert_true(nested_msr_intercepted(&ram, MSRPM, outside[i], true));
	}
}

static void sweep_msrs(uint64_t map, bool expect_covered)
{
	static const uint32_t bases[] = {0x00000000, 0xc0000000, 0xc0010000};

	for (size_t r = 0; r < 3; r++)
		for (uint32_t m = bases[r]; m < bases[r] + 0x2000; m++) {
			assert_int_equal(nested_msr_intercepted(&ram, map, m, false),
					 expect_covered);
			assert_int_equal(nested_msr_intercepted(&ram, map, m, true),
					 expect_covered);
		}
}

static void test_msr_all_zero_and_all_ones(void **state)
{
	(void)state;
	sweep_msrs(MSRPM, false);
	memset(ram.base + MSRPM, 0xff, MSRPM_LEN);
	sweep_msrs(MSRPM, true);
}

/* A random map: every lookup agrees with the spelled-out layout. */
static void test_msr_random_map(void **state)
{
	static const uint32_t bases[] = {0x00000000, 0xc0000000, 0xc0010000};

	(void)state;
	for (uint32_t i = 0; i < MSRPM_LEN; i++)
		ram.base[MSRPM + i] = pattern(i, 1);
	for (size_t r = 0; r < 3; r++)
		for (uint32_t m = bases[r]; m < bases[r] + 0x2000; m++)
			for (int w = 0; w < 2; w++) {
				long b = msr_bit(m, w);

				assert_int_equal(nested_msr_intercepted(&ram, MSRPM, m, w),
						 (ram.base[MSRPM + b / 8] >> (b % 8)) & 1);
			}
}

static void test_msr_map_outside_ram(void **state)
{
	(void)state;
	sweep_msrs(RAM_SIZE, true);
	sweep_msrs(0x100000000ull, true);
	sweep_msrs(UINT64_MAX & ~0xfffull, true);
}

/* The map's first 0x1000 bytes are in RAM (ranges 0 and 1), range 2 is not. */
static void test_msr_map_straddles_ram_end(void **state)
{
	const uint64_t map = RAM_SIZE - 0x1000;

	(void)state;
	assert_false(nested_msr_intercepted(&ram, map, 0x00000000, false));
	assert_false(nested_msr_intercepted(&ram, map, 0x00001fff, true));
	assert_false(nested_msr_intercepted(&ram, map, 0xc0000000, false));
	assert_false(nested_msr_intercepted(&ram, map, 0xc0001fff, true));
	assert_true(nested_msr_intercepted(&ram, map, 0xc0010000, false));
	assert_true(nested_msr_intercepted(&ram, map, 0xc0011fff, true));
	/* The in-RAM bytes are real. */
	ram.base[map + 0xfff] = 0x40;
	assert_true(nested_msr_intercepted(&ram, map, 0xc0001fff, false));
	assert_false(nested_msr_intercepted(&ram, map, 0xc0001fff, true));
}

/* Byte 0x1000 of a map at 2^64 - 0x800 would wrap to gpa 0x800, in RAM. */
static void test_msr_map_wraps(void **state)
{
	const uint64_t map = 0ull - 0x800;

	(void)state;
	assert_true(nested_msr_intercepted(&ram, map, 0x00000000, false));
	assert_true(nested_msr_intercepted(&ram, map, 0xc0010000, false));
	assert_true(nested_msr_intercepted(&ram, map, 0xc0011fff, true));
}

/* ---- IOPM ---- */

/* APM 15.10.2, spelled out: any of the size bits from bit port. */
static bool io_model(const uint8_t *map, uint32_t port, unsigned int size)
{
	for (uint32_t p = port; p < port + size; p++)
		if (map[p / 8] >> (p % 8) & 1)
			return true;
	return false;
}

static const unsigned int sizes[] = {1, 2, 4};

static void sweep_ports(uint64_t map, bool expect)
{
	for (uint32_t port = 0; port <= 0xffff; port++)
		for (size_t s = 0; s < 3; s++)
			assert_int_equal(nested_io_intercepted(&ram, map, port, sizes[s]), expect);
}

static void test_io_all_zero_and_all_ones(void **state)
{
	(void)state;
	sweep_ports(IOPM, false);
	memset(ram.base + IOPM, 0xff, IOPM_LEN);
	sweep_ports(IOPM, true);
}

static void test_io_random_map(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < IOPM_LEN; i++)
		ram.base[IOPM + i] = pattern(i, 2) & pattern(i, 3) & pattern(i, 4);
	for (uint32_t port = 0; port <= 0xffff; port++)
		for (size_t s = 0; s < 3; s++)
			assert_int_equal(nested_io_intercepted(&ram, IOPM, port, sizes[s]),
					 io_model(ram.base + IOPM, port, sizes[s]));
}

/* One bit set at each position in and around the access: only those inside exit. */
static void check_single_bits(uint32_t port, unsigned int size)
{
	uint32_t lo = port ? port - 1 : 0;

	for (uint32_t b = lo; b <= port + size && b < 0x10003; b++) {
		zero_ram(NULL);
		set_bit(IOPM, b);
		assert_int_equal(nested_io_intercepted(&ram, IOPM, port, size),
				 b >= port && b < port + size);
	}
}

static void test_io_single_bits(void **state)
{
	static const struct {
		uint32_t port;
		unsigned int size;
	} acc[] = {
	    {0, 1},	 {0, 2},      {0, 4},	   {7, 1},	{7, 2},	     {7, 4},
	    {6, 2},	 {6, 4},      {5, 4},	   {4, 4},	{8, 4},	     {0x3f8, 1},
	    {0x3fe, 4},	 {0x80, 2},   {0xfff8, 4}, {0xfffc, 4}, {0xfffd, 4}, {0xfffe, 2},
	    {0xfffe, 4}, {0xffff, 1}, {0xffff, 2}, {0xffff, 4},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(acc) / sizeof(acc[0]); i++)
		check_single_bits(acc[i].port, acc[i].size);
}

static void test_io_straddle_byte(void **state)
{
	(void)state;
	/* Port 7 size 2 reads ports 7 and 8: bit 0 of byte 1. */
	ram.base[IOPM + 1] = 0x01;
	assert_false(nested_io_intercepted(&ram, IOPM, 7, 1));
	assert_true(nested_io_intercepted(&ram, IOPM, 7, 2));
	assert_true(nested_io_intercepted(&ram, IOPM, 6, 4));
	assert_false(nested_io_intercepted(&ram, IOPM, 4, 4));
	assert_false(nested_io_intercepted(&ram, IOPM, 9, 4));
	/* Port 6 size 4 reads ports 6-9: bit 1 of byte 1 too. */
	ram.base[IOPM + 1] = 0x02;
	assert_true(nested_io_intercepted(&ram, IOPM, 6, 4));
	assert_false(nested_io_intercepted(&ram, IOPM, 7, 2));
	ram.base[IOPM + 1] = 0x04;
	assert_false(nested_io_intercepted(&ram, IOPM, 6, 4));
}

/* Port 0xFFFF: its bit is bit 7 of byte 0x1FFF; sizes 2 and 4 reach byte 0x2000. */
static void test_io_port_ffff(void **state)
{
	(void)state;
	ram.base[IOPM + 0x2000] = 0x04; /* "port" 0x10002 */
	assert_false(nested_io_intercepted(&ram, IOPM, 0xffff, 1));
	assert_false(nested_io_intercepted(&ram, IOPM, 0xffff, 2));
	assert_true(nested_io_intercepted(&ram, IOPM, 0xffff, 4));
	ram.base[IOPM + 0x2000] = 0x08; /* beyond any access */
	assert_false(nested_io_intercepted(&ram, IOPM, 0xffff, 4));
	ram.base[IOPM + 0x2000] = 0x01;
	assert_true(nested_io_intercepted(&ram, IOPM, 0xffff, 2));
	assert_true(nested_io_intercepted(&ram, IOPM, 0xfffe, 4));
	assert_false(nested_io_intercepted(&ram, IOPM, 0xfffe, 2));
	ram.base[IOPM + 0x2000] = 0;
	ram.base[IOPM + 0x1fff] = 0x80;
	assert_true(nested_io_intercepted(&ram, IOPM, 0xffff, 1));
	assert_false(nested_io_intercepted(&ram, IOPM, 0xfffe, 1));
}

/* Sizes IN/OUT cannot have fail closed. */
static void test_io_bad_size(void **state)
{
	(void)state;
	assert_true(nested_io_intercepted(&ram, IOPM, 0x80, 0));
	assert_true(nested_io_intercepted(&ram, IOPM, 0x80, 3));
	assert_true(nested_io_intercepted(&ram, IOPM, 0x80, 8));
}

static void test_io_map_outside_ram(void **state)
{
	(void)state;
	sweep_ports(RAM_SIZE, true);
	sweep_ports(UINT64_MAX & ~0xfffull, true);
}

/* The map ends 0x2000 bytes into it: byte 0x2000 (past port 0xFFFF) is outside RAM. */
static void test_io_map_straddles_ram_end(void **state)
{
	const uint64_t map = RAM_SIZE - 0x2000;

	(void)state;
	assert_false(nested_io_intercepted(&ram, map, 0, 4));
	assert_false(nested_io_intercepted(&ram, map, 0xfffc, 4));
	assert_false(nested_io_intercepted(&ram, map, 0xffff, 1));
	assert_true(nested_io_intercepted(&ram, map, 0xffff, 2));
	assert_true(nested_io_intercepted(&ram, map, 0xfffe, 4));
	/* A map whose first byte is the last byte of RAM. */
	ram.base[RAM_SIZE - 1] = 0x01;
	assert_true(nested_io_intercepted(&ram, RAM_SIZE - 1, 0, 1));
	assert_false(nested_io_intercepted(&ram, RAM_SIZE - 1, 1, 1));
	assert_true(nested_io_intercepted(&ram, RAM_SIZE - 1, 7, 2));
}

/* Byte 0x1000 of a map at 2^64 - 0x1000 would wrap to gpa 0, in RAM. */
static void test_io_map_wraps(void **state)
{
	const uint64_t map = 0ull - 0x1000;

	(void)state;
	assert_true(nested_io_intercepted(&ram, map, 0x8000, 1));
	assert_true(nested_io_intercepted(&ram, map, 0x7fff, 2));
	assert_true(nested_io_intercepted(&ram, map, 0xffff, 4));
}

/* ---- Merge ---- */

typedef void merge_fn(uint8_t *dst, const uint8_t *l0, const struct guest_ram *l1, uint64_t pa);

/*
 * Merges L1's map at pa with a patterned L0 map and checks each byte: the
 * first in_ram bytes are l0 | L1's, the rest 0xFF. Also in place (dst = l0).
 */
static void check_merge(merge_fn *merge, uint32_t len, uint64_t pa, uint64_t in_ram)
{
	uint8_t *l0 = malloc(len), *dst = malloc(len);

	assert_non_null(l0);
	assert_non_null(dst);
	for (uint64_t i = 0; i < RAM_SIZE; i++)
		ram.base[i] = pattern(i, 5);
	for (int in_place = 0; in_place < 2; in_place++) {
		uint8_t *out = in_place ? l0 : dst;

		for (uint32_t i = 0; i < len; i++)
			l0[i] = pattern(i, 6);
		memset(dst, 0x5a, len);
		merge(out, l0, &ram, pa);
		for (uint32_t i = 0; i < len; i++) {
			uint8_t want = i < in_ram ? (pattern(i, 6) | pattern(pa + i, 5)) : 0xff;

			assert_int_equal(out[i], want);
		}
	}
	free(l0);
	free(dst);
}

static void test_merge_or(void **state)
{
	(void)state;
	check_merge(nested_msrpm_merge, MSRPM_LEN, MSRPM, MSRPM_LEN);
	check_merge(nested_iopm_merge, IOPM_LEN, IOPM, IOPM_LEN);
	/* Any alignment works; a map ending exactly at the end of RAM is whole. */
	check_merge(nested_msrpm_merge, MSRPM_LEN, 0x1003, MSRPM_LEN);
	check_merge(nested_iopm_merge, IOPM_LEN, RAM_SIZE - IOPM_LEN, IOPM_LEN);
}

static void test_merge_zero_and_ones(void **state)
{
	uint8_t l0[IOPM_LEN], dst[IOPM_LEN];

	(void)state;
	memset(l0, 0, sizeof(l0));
	nested_iopm_merge(dst, l0, &ram, IOPM);
	for (uint32_t i = 0; i < IOPM_LEN; i++)
		assert_int_equal(dst[i], 0);
	memset(l0, 0xff, sizeof(l0));
	nested_msrpm_merge(dst, l0, &ram, MSRPM);
	for (uint32_t i = 0; i < MSRPM_LEN; i++)
		assert_int_equal(dst[i], 0xff);
}

static void test_merge_partial(void **state)
{
	(void)state;
	/* Not a multiple of 8 in RAM: the byte loop finishes the in-RAM part. */
	check_merge(nested_msrpm_merge, MSRPM_LEN, RAM_SIZE - 0x1003, 0x1003);
	check_merge(nested_iopm_merge, IOPM_LEN, RAM_SIZE - 0x2000, 0x2000);
	check_merge(nested_iopm_merge, IOPM_LEN, RAM_SIZE - 5, 5);
}

static void test_merge_outside_ram(void **state)
{
	(void)state;
	check_merge(nested_msrpm_merge, MSRPM_LEN, RAM_SIZE, 0);
	check_merge(nested_iopm_merge, IOPM_LEN, 0x7fff0000ull, 0);
}

/* Bases whose maps would wrap past 2^64 into RAM: nothing of them is RAM. */
static void test_merge_wraps(void **state)
{
	(void)state;
	check_merge(nested_msrpm_merge, MSRPM_LEN, 0ull - 0x800, 0);
	check_merge(nested_iopm_merge, IOPM_LEN, 0ull - 0x1000, 0);
	check_merge(nested_iopm_merge, IOPM_LEN, UINT64_MAX, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_phys_byte, zero_ram),
	    cmocka_unit_test_setup(test_msr_single_bits, zero_ram),
	    cmocka_unit_test_setup(test_msr_known_positions, zero_ram),
	    cmocka_unit_test_setup(test_msr_outside_ranges, zero_ram),
	    cmocka_unit_test_setup(test_msr_all_zero_and_all_ones, zero_ram),
	    cmocka_unit_test_setup(test_msr_random_map, zero_ram),
	    cmocka_unit_test_setup(test_msr_map_outside_ram, zero_ram),
	    cmocka_unit_test_setup(test_msr_map_straddles_ram_end, zero_ram),
	    cmocka_unit_test_setup(test_msr_map_wraps, zero_ram),
	    cmocka_unit_test_setup(test_io_all_zero_and_all_ones, zero_ram),
	    cmocka_unit_test_setup(test_io_random_map, zero_ram),
	    cmocka_unit_test_setup(test_io_single_bits, zero_ram),
	    cmocka_unit_test_setup(test_io_straddle_byte, zero_ram),
	    cmocka_unit_test_setup(test_io_port_ffff, zero_ram),
	    cmocka_unit_test_setup(test_io_bad_size, zero_ram),
	    cmocka_unit_test_setup(test_io_map_outside_ram, zero_ram),
	    cmocka_unit_test_setup(test_io_map_straddles_ram_end, zero_ram),
	    cmocka_unit_test_setup(test_io_map_wraps, zero_ram),
	    cmocka_unit_test_setup(test_merge_or, zero_ram),
	    cmocka_unit_test_setup(test_merge_zero_and_ones, zero_ram),
	    cmocka_unit_test_setup(test_merge_partial, zero_ram),
	    cmocka_unit_test_setup(test_merge_outside_ram, zero_ram),
	    cmocka_unit_test_setup(test_merge_wraps, zero_ram),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
