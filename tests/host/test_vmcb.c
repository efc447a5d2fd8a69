/* host-test-sources: arch/x86/svm/vmcb_names.c */
/*
 * Host unit tests for arch/x86/svm/vmcb.h and vmcb_names.c.
 *
 * The layout itself is pinned by the _Static_asserts in vmcb.h; these tests
 * look at the raw bytes of a VMCB where a helper is meant to land, so a
 * helper that indexes the wrong word cannot agree with a wrong struct.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/svm/vmcb.h"

static struct vmcb vmcb;

static int setup(void **state)
{
	(void)state;
	memset(&vmcb, 0, sizeof(vmcb));
	return 0;
}

static const uint8_t *raw(void)
{
	return (const uint8_t *)&vmcb;
}

/* How many bits are set in the intercept area, offsets 0x000-0x017. */
static unsigned int intercept_bits_set(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < NR_INTERCEPT_WORDS * 4; i++)
		n += (unsigned int)__builtin_popcount(raw()[i]);
	return n;
}

static void test_each_intercept_bit_alone(void **state)
{
	(void)state;
	for (unsigned int bit = 0; bit < NR_INTERCEPT_BITS; bit++) {
		vmcb.control.clean = 0xffffffffu;
		vmcb_set_intercept(&vmcb.control, bit);

		/* Little-endian words: bit b of word w is byte 4w + b/8. */
		unsigned int byte = (bit / 32) * 4 + (bit % 32) / 8;
		assert_int_equal(raw()[byte], 1u << (bit % 8));
		assert_int_equal(intercept_bits_set(), 1);
		assert_true(vmcb_test_intercept(&vmcb.control, bit));
		/* Changing intercepts dirties clean bit I and nothing else. */
		assert_int_equal(vmcb.control.clean, ~(1u << VMCB_CLEAN_I));

		vmcb.control.clean = 0xffffffffu;
		vmcb_clear_intercept(&vmcb.control, bit);
		assert_false(vmcb_test_intercept(&vmcb.control, bit));
		assert_int_equal(intercept_bits_set(), 0);
		assert_int_equal(vmcb.control.clean, ~(1u << VMCB_CLEAN_I));
	}
}

static void test_all_intercepts_then_clear_one(void **state)
{
	(void)state;
	for (unsigned int bit = 0; bit < NR_INTERCEPT_BITS; bit++)
		vmcb_set_intercept(&vmcb.control, bit);
	for (unsigned int w = 0; w < NR_INTERCEPT_WORDS; w++)
		assert_int_equal(vmcb.control.intercepts[w], 0xffffffffu);
	/* Nothing spilled past word 5 into the reserved area at 0x018. */
	for (size_t i = offsetof(struct vmcb_control, reserved_0x018); i < 0x3c; i++)
		assert_int_equal(raw()[i], 0);

	vmcb_clear_intercept(&vmcb.control, INTERCEPT_MSR_PROT);
	assert_false(vmcb_test_intercept(&vmcb.control, INTERCEPT_MSR_PROT));
	assert_true(vmcb_test_intercept(&vmcb.control, INTERCEPT_IOIO_PROT));
	assert_true(vmcb_test_intercept(&vmcb.control, INTERCEPT_TASK_SWITCH));
	assert_int_equal(vmcb.control.intercepts[3], ~(1u << 28));
	assert_int_equal(intercept_bits_set(), NR_INTERCEPT_BITS - 1);
}

/* Named intercepts land at the byte and bit APM Table B-1 gives them. */
static void test_named_intercept_positions(void **state)
{
	static const struct {
		unsigned int bit;
		size_t byte;
		uint8_t mask;
	} cases[] = {
	    {INTERCEPT_CR0_READ, 0x000, 0x01},
	    {INTERCEPT_CR8_WRITE, 0x003, 0x01},	  /* bit 24 */
	    {INTERCEPT_DR_WRITE(7), 0x006, 0x80}, /* bit 23 */
	    {INTERCEPT_EXCEPTION(14), 0x009, 0x40},
	    {INTERCEPT_INTR, 0x00c, 0x01},
	    {INTERCEPT_CPUID, 0x00e, 0x04}, /* bit 18 */
	    {INTERCEPT_SHUTDOWN, 0x00f, 0x80},
	    {INTERCEPT_VMRUN, 0x010, 0x01},
	    {INTERCEPT_EFER_WRITE_TRAP, 0x011, 0x80},
	    {INTERCEPT_CR_WRITE_TRAP(15), 0x013, 0x80},
	    {INTERCEPT_INVLPGB, 0x014, 0x01},
	    {INTERCEPT_IDLE_HLT, 0x014, 0x40},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&vmcb, 0, sizeof(vmcb));
		vmcb_set_intercept(&vmcb.control, cases[i].bit);
		assert_int_equal(raw()[cases[i].byte], cases[i].mask);
		assert_int_equal(intercept_bits_set(), 1);
	}
}

/* Exit codes with no intercept bit are simply "not intercepted". */
static void test_intercept_test_out_of_range(void **state)
{
	(void)state;
	memset(vmcb.control.intercepts, 0xff, sizeof(vmcb.control.intercepts));
	assert_false(vmcb_test_intercept(&vmcb.control, NR_INTERCEPT_BITS));
	assert_false(vmcb_test_intercept(&vmcb.control, SVM_EXIT_NPF));
	assert_false(vmcb_test_intercept(&vmcb.control, (unsigned int)SVM_EXIT_INVALID));
	/* ...while an in-range exit code names its own intercept bit. */
	assert_true(vmcb_test_intercept(&vmcb.control, SVM_EXIT_VMMCALL));
}

static void test_exit_names(void **state)
{
	(void)state;
	assert_string_equal(svm_exit_name(SVM_EXIT_CR0_READ), "cr0_read");
	assert_string_equal(svm_exit_name(SVM_EXIT_CR_WRITE(15)), "cr15_write");
	assert_string_equal(svm_exit_name(SVM_EXIT_DR_READ(7)), "dr7_read");
	assert_string_equal(svm_exit_name(SVM_EXIT_EXCP(14)), "excp_pf");
	assert_string_equal(svm_exit_name(SVM_EXIT_EXCP_LAST), "excp_31");
	assert_string_equal(svm_exit_name(SVM_EXIT_INTR), "intr");
	assert_string_equal(svm_exit_name(SVM_EXIT_IOIO), "ioio");
	assert_string_equal(svm_exit_name(SVM_EXIT_VMRUN), "vmrun");
	assert_string_equal(svm_exit_name(SVM_EXIT_RDPRU), "rdpru");
	assert_string_equal(svm_exit_name(SVM_EXIT_CR8_WRITE_TRAP), "cr8_write_trap");
	assert_string_equal(svm_exit_name(SVM_EXIT_IDLE_HLT), "idle_hlt");
	assert_string_equal(svm_exit_name(SVM_EXIT_NPF), "npf");
	assert_string_equal(svm_exit_name(SVM_EXIT_AVIC_INCOMPLETE_IPI), "avic_incomplete_ipi");
	assert_string_equal(svm_exit_name(SVM_EXIT_AVIC_NOACCEL), "avic_noaccel");
	assert_string_equal(svm_exit_name(SVM_EXIT_VMGEXIT), "vmgexit");
	assert_string_equal(svm_exit_name(SVM_EXIT_PML_FULL), "pml_full");
	assert_string_equal(svm_exit_name(SVM_EXIT_BUSY), "busy");
	assert_string_equal(svm_exit_name(SVM_EXIT_IDLE_REQUIRED), "idle_required");
	assert_string_equal(svm_exit_name(SVM_EXIT_INVALID), "invalid");
	assert_string_equal(svm_exit_name(SVM_EXIT_INVALID_PMC), "invalid_pmc");

	/* Gaps and codes that only match in their low 32 bits. */
	assert_null(svm_exit_name(0x0a7));
	assert_null(svm_exit_name(0x3ff));
	assert_null(svm_exit_name(0x404));
	assert_null(svm_exit_name((uint64_t)-5));
	assert_null(svm_exit_name(0x100000000ull | SVM_EXIT_VMRUN));
	assert_null(svm_exit_name(0xffffffffull));
}

/* The dense codes have no holes: 0x000-0x09f and 0x0a0-0x0a6 all have names. */
static void test_exit_names_dense(void **state)
{
	(void)state;
	for (uint64_t code = 0; code <= SVM_EXIT_EFER_WRITE_TRAP + 16; code++)
		assert_non_null(svm_exit_name(code));
	for (uint64_t code = SVM_EXIT_INVLPGB; code <= SVM_EXIT_IDLE_HLT; code++)
		assert_non_null(svm_exit_name(code));
}

static void test_event_packing(void **state)
{
	(void)state;
	/* #PF with error code 0x1234: V | EV | TYPE 3 | vector 14. */
	uint64_t ev = svm_event(14, SVM_EVENT_TYPE_EXCEPTION, true, 0x1234);

	assert_int_equal(ev, 0x0000123480000b0eull);
	assert_int_equal(svm_event_vector(ev), 14);
	assert_int_equal(svm_event_type(ev), SVM_EVENT_TYPE_EXCEPTION);
	assert_int_equal(svm_event_error(ev), 0x1234);
	assert_true(ev & SVM_EVENT_EV);
	assert_int_equal(ev & SVM_EVENT_RESERVED_MASK, 0);

	/* An external interrupt: no EV, no error code bits. */
	ev = svm_event(0x20, SVM_EVENT_TYPE_INTR, false, 0xdead);
	assert_int_equal(ev, 0x0000000080000020ull);

	/* NMI and a software interrupt; out-of-range inputs are masked. */
	assert_int_equal(svm_event(2, SVM_EVENT_TYPE_NMI, false, 0), 0x80000202ull);
	assert_int_equal(svm_event(0x180, SVM_EVENT_TYPE_SOFT, false, 0), 0x80000480ull);
	assert_int_equal(svm_event(8, SVM_EVENT_TYPE_EXCEPTION, true, 0xffffffffu),
			 0xffffffff80000b08ull);

	/* The value lands at EVENTINJ, VMCB offset 0x0a8, little-endian. */
	vmcb.control.event_inj = svm_event(13, SVM_EVENT_TYPE_EXCEPTION, true, 0);
	assert_int_equal(raw()[0x0a8], 13);
	assert_int_equal(raw()[0x0a9], 0x0b);
	assert_int_equal(raw()[0x0ab], 0x80);
}

static void test_seg_attrib_from_desc(void **state)
{
	(void)state;
	/* Flat 64-bit ring-0 code: access byte 0x9b, flags L=1 (0xa). */
	assert_int_equal(svm_seg_attrib_from_desc(0x00af9b000000ffffull), 0xa9b);
	/* Flat 32-bit ring-3 data: access 0xf3, flags G=1 D/B=1 (0xc). */
	assert_int_equal(svm_seg_attrib_from_desc(0x00cff3000000ffffull), 0xcf3);
	uint16_t a = svm_seg_attrib_from_desc(0x00cff3000000ffffull);
	assert_int_equal((a & SVM_SEG_ATTR_DPL_MASK) >> SVM_SEG_ATTR_DPL_SHIFT, 3);
	assert_true(a & SVM_SEG_ATTR_P);
	assert_true(a & SVM_SEG_ATTR_G);
	assert_false(a & SVM_SEG_ATTR_L);
}

/* Spot checks of the save area through raw bytes, for asm users (T2). */
static void test_save_area_bytes(void **state)
{
	(void)state;
	vmcb.save.rax = 0x1122334455667788ull;
	vmcb.save.rflags = 0x2;
	vmcb.save.cpl = 3;
	vmcb.save.cs.attrib = 0xa9b;
	vmcb.control.exit_code = SVM_EXIT_INVALID;

	uint64_t v;

	memcpy(&v, raw() + 0x5f8, sizeof(v));
	assert_int_equal(v, 0x1122334455667788ull);
	memcpy(&v, raw() + 0x570, sizeof(v));
	assert_int_equal(v, 0x2);
	assert_int_equal(raw()[0x4cb], 3);
	assert_int_equal(raw()[0x412], 0x9b);
	assert_int_equal(raw()[0x413], 0x0a);
	memcpy(&v, raw() + 0x070, sizeof(v));
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal((uintptr_t)&vmcb % 4096, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_each_intercept_bit_alone, setup),
	    cmocka_unit_test_setup(test_all_intercepts_then_clear_one, setup),
	    cmocka_unit_test_setup(test_named_intercept_positions, setup),
	    cmocka_unit_test_setup(test_intercept_test_out_of_range, setup),
	    cmocka_unit_test_setup(test_exit_names, setup),
	    cmocka_unit_test_setup(test_exit_names_dense, setup),
	    cmocka_unit_test_setup(test_event_packing, setup),
	    cmocka_unit_test_setup(test_seg_attrib_from_desc, setup),
	    cmocka_unit_test_setup(test_save_area_bytes, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
