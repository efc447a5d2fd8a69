/* host-test-sources: arch/x86/svm/nested_cache.c */
/*
 * Host unit tests for arch/x86/svm/nested_cache.c: every field nestvisor
 * consumes reaches the cache, every sanitising rule of vmcb12_cache_fill()
 * holds with the feature on and off, and the snapshot is only read.
 *
 * The snapshot is filled with a byte pattern first, so a field the cache
 * forgot or took from the wrong offset shows up as a mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/svm/nested_cache.h"

static const struct nested_features all_features = {
    .npt = true,
    .vgif = true,
    .nrips = true,
    .vnmi = true,
    .lbrv = true,
    .pause_filter = true,
    .flush_by_asid = true,
};
static const struct nested_features no_features;

static struct vmcb snap;
static struct vmcb snap_copy;

/* A snapshot whose every byte is distinct-ish, so misplaced copies show. */
static void fill_pattern(struct vmcb *v)
{
	uint8_t *p = (uint8_t *)v;
	size_t i;

	for (i = 0; i < sizeof(*v); i++)
		p[i] = (uint8_t)(i * 7 + 3);
}

static void seg_equal(const struct vmcb_seg *a, const struct vmcb_seg *b)
{
	assert_memory_equal(a, b, sizeof(*a));
}

static struct vmcb12_cache fill(const struct nested_features *f)
{
	struct vmcb12_cache c;

	memset(&c, 0xa5, sizeof(c));
	memcpy(&snap_copy, &snap, sizeof(snap));
	vmcb12_cache_fill(&c, &snap, f);
	/* The snapshot is only read. */
	assert_memory_equal(&snap, &snap_copy, sizeof(snap));
	return c;
}

/* Fields copied without any sanitising, whatever the features. */
static void check_raw_fields(const struct vmcb12_cache *c)
{
	unsigned int i;

	for (i = 0; i < 5; i++)
		assert_int_equal(c->intercepts[i], snap.control.intercepts[i]);
	assert_int_equal(c->tsc_offset, snap.control.tsc_offset);
	assert_int_equal(c->asid, snap.control.asid);
	assert_int_equal(c->n_cr3, snap.control.n_cr3);
	seg_equal(&c->es, &snap.save.es);
	seg_equal(&c->cs, &snap.save.cs);
	seg_equal(&c->ss, &snap.save.ss);
	seg_equal(&c->ds, &snap.save.ds);
	seg_equal(&c->gdtr, &snap.save.gdtr);
	seg_equal(&c->idtr, &snap.save.idtr);
	assert_int_equal(c->cpl, snap.save.cpl);
	assert_int_equal(c->efer, snap.save.efer);
	assert_int_equal(c->cr0, snap.save.cr0);
	assert_int_equal(c->cr2, snap.save.cr2);
	assert_int_equal(c->cr3, snap.save.cr3);
	assert_int_equal(c->cr4, snap.save.cr4);
	assert_int_equal(c->dr6, snap.save.dr6);
	assert_int_equal(c->dr7, snap.save.dr7);
	assert_int_equal(c->rflags, snap.save.rflags);
	assert_int_equal(c->rip, snap.save.rip);
	assert_int_equal(c->rsp, snap.save.rsp);
	assert_int_equal(c->rax, snap.save.rax);
	assert_int_equal(c->g_pat, snap.save.g_pat);
}

static void test_raw_fields_pattern(void **state)
{
	struct vmcb12_cache c;

	(void)state;
	fill_pattern(&snap);
	c = fill(&all_features);
	check_raw_fields(&c);
	c = fill(&no_features);
	check_raw_fields(&c);
}

static void test_raw_fields_all_ones(void **state)
{
	struct vmcb12_cache c;

	(void)state;
	memset(&snap, 0xff, sizeof(snap));
	c = fill(&all_features);
	check_raw_fields(&c);
	assert_int_equal(c.tsc_offset, ~0ull);
	assert_int_equal(c.cr3, ~0ull);
	assert_int_equal(c.asid, 0xffffffffu);
}

static void test_bitmap_bases_drop_bits_11_0(void **state)
{
	struct vmcb12_cache c;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	snap.control.iopm_base_pa = 0x123456789abcdfffull;
	snap.control.msrpm_base_pa = 0xfedcba9876543001ull;
	c = fill(&all_features);
	assert_int_equal(c.iopm_base_pa, 0x123456789abcd000ull);
	assert_int_equal(c.msrpm_base_pa, 0xfedcba9876543000ull);

	snap.control.iopm_base_pa = 0xfff;
	snap.control.msrpm_base_pa = 0x1000;
	c = fill(&no_features);
	assert_int_equal(c.iopm_base_pa, 0);
	assert_int_equal(c.msrpm_base_pa, 0x1000);
}

static void test_tlb_control_masked(void **state)
{
	unsigned int v;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	for (v = 0; v < 256; v++) {
		struct vmcb12_cache c;

		snap.control.tlb_control = (uint8_t)v;
		c = fill(&all_features);
		assert_int_equal(c.tlb_control, v & 7);
		c = fill(&no_features);
		assert_int_equal(c.tlb_control, v & 7);
	}
}

static void test_int_vector_and_state_masked(void **state)
{
	struct vmcb12_cache c;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	snap.control.int_vector = 0xdeadbe42;
	snap.control.int_state = ~0ull;
	c = fill(&all_features);
	assert_int_equal(c.int_vector, 0x42);
	/* Only INTERRUPT_SHADOW (bit 0); GUEST_INTERRUPT_MASK (bit 1) is SEV-ES's. */
	assert_int_equal(c.int_state, 1);

	snap.control.int_state = 2;
	c = fill(&all_features);
	assert_int_equal(c.int_state, 0);
	snap.control.int_state = 1;
	c = fill(&no_features);
	assert_int_equal(c.int_state, 1);
}

static void test_event_inj_reserved_bits_cleared(void **state)
{
	struct vmcb12_cache c;
	unsigned int bit;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	snap.control.event_inj = ~0ull;
	c = fill(&all_features);
	/* Bits 63:32 error code, 31 V, 11 EV, 10:8 TYPE, 7:0 VECTOR survive. */
	assert_int_equal(c.event_inj, 0xffffffff80000fffull);

	for (bit = 0; bit < 64; bit++) {
		snap.control.event_inj = 1ull << bit;
		c = fill(&no_features);
		if (bit >= 12 && bit <= 30)
			assert_int_equal(c.event_inj, 0);
		else
			assert_int_equal(c.event_inj, 1ull << bit);
	}
}

static void test_misc_ctl_np_only_with_npt(void **state)
{
	struct vmcb12_cache c;
	struct nested_features f = all_features;
	unsigned int bit;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	snap.control.misc_ctl = ~0ull;
	c = fill(&all_features);
	/* SEV, SEV-ES, GMET, SSS, VTE, RO_GPT, INVLPGB_TLBSYNC, PML...: dropped. */
	assert_int_equal(c.misc_ctl, VMCB_MISC_NP_ENABLE);

	f.npt = false;
	c = fill(&f);
	assert_int_equal(c.misc_ctl, 0);

	for (bit = 0; bit < 64; bit++) {
		snap.control.misc_ctl = 1ull << bit;
		c = fill(&all_features);
		assert_int_equal(c.misc_ctl, bit == 0 ? VMCB_MISC_NP_ENABLE : 0);
	}
	snap.control.misc_ctl = VMCB_MISC_SEV_ENABLE | VMCB_MISC_SEV_ES_ENABLE;
	c = fill(&all_features);
	assert_int_equal(c.misc_ctl, 0);
	snap.control.misc_ctl = VMCB_MISC_NP_ENABLE | VMCB_MISC_GMET_ENABLE;
	c = fill(&all_features);
	assert_int_equal(c.misc_ctl, VMCB_MISC_NP_ENABLE);
}

static void test_intercept_word5(void **state)
{
	struct vmcb12_cache c;
	unsigned int bit;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	memset(snap.control.intercepts, 0xff, sizeof(snap.control.intercepts));
	c = fill(&all_features);
	for (bit = 0; bit < 5 * 32; bit++)
		assert_true(vmcb12_cache_intercepts(&c, bit));
	assert_true(vmcb12_cache_intercepts(&c, INTERCEPT_INVLPGB));
	assert_true(vmcb12_cache_intercepts(&c, INTERCEPT_INVLPGB_ILLEGAL));
	assert_true(vmcb12_cache_intercepts(&c, INTERCEPT_INVPCID));
	assert_true(vmcb12_cache_intercepts(&c, INTERCEPT_MCOMMIT));
	assert_true(vmcb12_cache_intercepts(&c, INTERCEPT_TLBSYNC));
	/* Never advertised (8000_000A EDX[29], [30]). */
	assert_false(vmcb12_cache_intercepts(&c, INTERCEPT_BUS_LOCK));
	assert_false(vmcb12_cache_intercepts(&c, INTERCEPT_IDLE_HLT));
	/* Bits 31:7 of word 5 are reserved. */
	for (bit = INTERCEPT_BIT(5, 7); bit < NR_INTERCEPT_BITS; bit++)
		assert_false(vmcb12_cache_intercepts(&c, bit));
	assert_int_equal(c.intercepts[5], 0x1f);
	c = fill(&no_features);
	assert_int_equal(c.intercepts[5], 0x1f);
	/* The CPUID-gated intercepts KVM clears stay (nested_cache.c explains why). */
	assert_true(vmcb12_cache_intercepts(&c, INTERCEPT_XSETBV));
	assert_true(vmcb12_cache_intercepts(&c, INTERCEPT_RDTSCP));
	assert_true(vmcb12_cache_intercepts(&c, INTERCEPT_SKINIT));
	assert_true(vmcb12_cache_intercepts(&c, INTERCEPT_RDPRU));
}

static void test_intercepts_helper(void **state)
{
	struct vmcb12_cache c;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	snap.control.intercepts[4] = 1u << 0; /* VMRUN */
	snap.control.intercepts[3] = 1u << 1; /* NMI */
	c = fill(&all_features);
	assert_true(vmcb12_cache_intercepts(&c, INTERCEPT_VMRUN));
	assert_true(vmcb12_cache_intercepts(&c, INTERCEPT_NMI));
	assert_false(vmcb12_cache_intercepts(&c, INTERCEPT_INTR));
	assert_false(vmcb12_cache_intercepts(&c, INTERCEPT_VMMCALL));
	assert_false(vmcb12_cache_intercepts(&c, INTERCEPT_CR0_READ));
	/* Past the vector: false, like vmcb_test_intercept(). */
	memset(c.intercepts, 0xff, sizeof(c.intercepts));
	assert_true(vmcb12_cache_intercepts(&c, NR_INTERCEPT_BITS - 1));
	assert_false(vmcb12_cache_intercepts(&c, NR_INTERCEPT_BITS));
	assert_false(vmcb12_cache_intercepts(&c, SVM_EXIT_NPF));
	assert_false(vmcb12_cache_intercepts(&c, ~0u));
}

static void test_int_ctl_vgif(void **state)
{
	struct vmcb12_cache c;
	struct nested_features f = all_features;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	snap.control.int_ctl = 0xffffffffu;
	c = fill(&all_features);
	assert_int_equal(c.int_ctl, 0xffffffffu); /* raw, allowlisted for VMCB02 later */

	f.vgif = false;
	c = fill(&f);
	assert_int_equal(c.int_ctl,
			 0xffffffffu & ~(VMCB_INT_CTL_V_GIF | VMCB_INT_CTL_V_GIF_ENABLE));

	snap.control.int_ctl = VMCB_INT_CTL_V_GIF_ENABLE;
	c = fill(&f);
	assert_int_equal(c.int_ctl, 0);
	snap.control.int_ctl = VMCB_INT_CTL_V_GIF;
	c = fill(&f);
	assert_int_equal(c.int_ctl, 0);
}

static void test_int_ctl_vnmi(void **state)
{
	struct vmcb12_cache c;
	struct nested_features f = all_features;
	const uint32_t vnmi =
	    VMCB_INT_CTL_V_NMI | VMCB_INT_CTL_V_NMI_MASK | VMCB_INT_CTL_V_NMI_ENABLE;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	f.vnmi = false;
	snap.control.int_ctl = 0xffffffffu;
	c = fill(&f);
	assert_int_equal(c.int_ctl, 0xffffffffu & ~vnmi);
	/* V_GIF and AVIC bits are not vNMI's to drop. */
	assert_true(c.int_ctl & VMCB_INT_CTL_V_GIF_ENABLE);
	assert_true(c.int_ctl & VMCB_INT_CTL_AVIC_ENABLE);

	snap.control.int_ctl = vnmi | VMCB_INT_CTL_V_IRQ;
	c = fill(&f);
	assert_int_equal(c.int_ctl, VMCB_INT_CTL_V_IRQ);
	c = fill(&all_features);
	assert_int_equal(c.int_ctl, vnmi | VMCB_INT_CTL_V_IRQ);

	c = fill(&no_features);
	assert_int_equal(c.int_ctl, VMCB_INT_CTL_V_IRQ);
}

static void test_virt_ext_lbr_only_with_lbrv(void **state)
{
	struct vmcb12_cache c;
	struct nested_features f = all_features;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	snap.control.virt_ext = ~0ull;
	c = fill(&all_features);
	/* V_VMSAVE_VMLOAD, IBS, PMC and reserved bits: never advertised. */
	assert_int_equal(c.virt_ext, VMCB_VIRT_EXT_LBR_ENABLE);
	f.lbrv = false;
	c = fill(&f);
	assert_int_equal(c.virt_ext, 0);
	snap.control.virt_ext = VMCB_VIRT_EXT_V_VMSAVE_VMLOAD;
	c = fill(&all_features);
	assert_int_equal(c.virt_ext, 0);
}

static void test_pause_filter_only_when_advertised(void **state)
{
	struct vmcb12_cache c;
	struct nested_features f = all_features;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	snap.control.pause_filter_count = 0x1234;
	snap.control.pause_filter_thresh = 0xabcd;
	c = fill(&all_features);
	assert_int_equal(c.pause_filter_count, 0x1234);
	assert_int_equal(c.pause_filter_thresh, 0xabcd);
	f.pause_filter = false;
	c = fill(&f);
	assert_int_equal(c.pause_filter_count, 0);
	assert_int_equal(c.pause_filter_thresh, 0);
}

static void test_next_rip_needs_nrips(void **state)
{
	struct vmcb12_cache c;
	struct nested_features f = all_features;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	snap.control.next_rip = 0x401002;
	snap.save.rip = 0x401000;
	c = fill(&all_features);
	assert_int_equal(c.next_rip, 0x401002);
	/* Without NRIPS, software interrupts are injected at RIP (APM 15.20). */
	f.nrips = false;
	c = fill(&f);
	assert_int_equal(c.next_rip, 0x401000);
	assert_int_equal(c.rip, 0x401000);
}

/* flush_by_asid gates nothing in the cache (decision 6: every transition flushes). */
static void test_flush_by_asid_changes_nothing(void **state)
{
	static struct vmcb12_cache a, b;
	struct nested_features f = all_features;

	(void)state;
	fill_pattern(&snap);
	vmcb12_cache_fill(&a, &snap, &all_features);
	f.flush_by_asid = false;
	vmcb12_cache_fill(&b, &snap, &f);
	assert_memory_equal(&a, &b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_raw_fields_pattern),
	    cmocka_unit_test(test_raw_fields_all_ones),
	    cmocka_unit_test(test_bitmap_bases_drop_bits_11_0),
	    cmocka_unit_test(test_tlb_control_masked),
	    cmocka_unit_test(test_int_vector_and_state_masked),
	    cmocka_unit_test(test_event_inj_reserved_bits_cleared),
	    cmocka_unit_test(test_misc_ctl_np_only_with_npt),
	    cmocka_unit_test(test_intercept_word5),
	    cmocka_unit_test(test_intercepts_helper),
	    cmocka_unit_test(test_int_ctl_vgif),
	    cmocka_unit_test(test_int_ctl_vnmi),
	    cmocka_unit_test(test_virt_ext_lbr_only_with_lbrv),
	    cmocka_unit_test(test_pause_filter_only_when_advertised),
	    cmocka_unit_test(test_next_rip_needs_nrips),
	    cmocka_unit_test(test_flush_by_asid_changes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
