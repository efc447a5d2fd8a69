/* host-test-sources: kernel/vlapic.c */
/*
 * Host unit tests for the virtual local APIC: reset values and writable
 * bits of every register, priorities (TPR, ISR, PPR, EOI), self-IPIs,
 * errors, software disable and the timer in both modes with every divider.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vlapic.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define TEST_ID 3

static int setup(void **state)
{
	struct vlapic *l = malloc(sizeof(*l));

	assert_non_null(l);
	/* Junk first: init must not depend on prior contents. */
	memset(l, 0xa5, sizeof(*l));
	vlapic_init(l, TEST_ID);
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static uint32_t rd(struct vlapic *l, uint32_t offset)
{
	return vlapic_read(l, offset, 0);
}

static void wr(struct vlapic *l, uint32_t offset, uint32_t val)
{
	vlapic_write(l, offset, val, 0);
}

static void enable(struct vlapic *l)
{
	wr(l, VLAPIC_SVR, VLAPIC_SVR_ENABLE | 0xff);
}

/* Latches and returns the errors logged so far (the write-then-read protocol). */
static uint32_t esr(struct vlapic *l)
{
	wr(l, VLAPIC_ESR, 0);
	return rd(l, VLAPIC_ESR);
}

static bool irr_has(struct vlapic *l, unsigned int v)
{
	return rd(l, VLAPIC_IRR + (v / 32) * 0x10) & (1u << (v % 32));
}

static bool isr_has(struct vlapic *l, unsigned int v)
{
	return rd(l, VLAPIC_ISR + (v / 32) * 0x10) & (1u << (v % 32));
}

/* Takes the pending interrupt, as the CPU would, and returns it. */
static int take(struct vlapic *l)
{
	int v = vlapic_pending_irq(l);

	if (v >= 0)
		vlapic_accept_irq(l, v);
	return v;
}

static void test_reset_values(void **state)
{
	struct vlapic *l = *state;
	unsigned int i;

	assert_int_equal(rd(l, VLAPIC_ID), TEST_ID << 24);
	assert_int_equal(rd(l, VLAPIC_VERSION), 0x00050014);
	assert_int_equal(rd(l, VLAPIC_TPR), 0);
	assert_int_equal(rd(l, VLAPIC_APR), 0);
	assert_int_equal(rd(l, VLAPIC_PPR), 0);
	assert_int_equal(rd(l, VLAPIC_EOI), 0);
	assert_int_equal(rd(l, VLAPIC_RRD), 0);
	assert_int_equal(rd(l, VLAPIC_LDR), 0);
	assert_int_equal(rd(l, VLAPIC_DFR), 0xffffffff);
	assert_int_equal(rd(l, VLAPIC_SVR), 0xff);
	for (i = 0; i < 8; i++) {
		assert_int_equal(rd(l, VLAPIC_ISR + i * 0x10), 0);
		assert_int_equal(rd(l, VLAPIC_TMR + i * 0x10), 0);
		assert_int_equal(rd(l, VLAPIC_IRR + i * 0x10), 0);
	}
	assert_int_equal(rd(l, VLAPIC_ESR), 0);
	assert_int_equal(rd(l, VLAPIC_ICR_LO), 0);
	assert_int_equal(rd(l, VLAPIC_ICR_HI), 0);
	for (i = VLAPIC_LVT_TIMER; i <= VLAPIC_LVT_ERROR; i += 0x10)
		assert_int_equal(rd(l, i), 0x00010000);
	assert_int_equal(rd(l, VLAPIC_TIMER_ICR), 0);
	assert_int_equal(rd(l, VLAPIC_TIMER_CCR), 0);
	assert_int_equal(rd(l, VLAPIC_TIMER_DCR), 0);
	assert_true(vlapic_timer_deadline(l) == UINT64_MAX);
	assert_int_equal(vlapic_pending_irq(l), -1);
	assert_false(vlapic_take_nmi(l));
	/* None of these reads logged an error. */
	assert_int_equal(esr(l), 0);
	/* Only 8 bits of ID exist in xAPIC mode. */
	vlapic_init(l, 0x1ff);
	assert_int_equal(rd(l, VLAPIC_ID), 0xff000000);
}

struct reg_bits {
	uint32_t offset;
	uint32_t ones;	/* read back after writing all ones */
	uint32_t zeros; /* read back after writing zero */
};

static void test_writable_bits(void **state)
{
	struct vlapic *l = *state;
	static const struct reg_bits regs[] = {
	    {VLAPIC_ID, 0xff000000, 0},	       {VLAPIC_TPR, 0xff, 0},
	    {VLAPIC_LDR, 0xff000000, 0},       {VLAPIC_DFR, 0xffffffff, 0x0fffffff},
	    {VLAPIC_ICR_HI, 0xff000000, 0},    {VLAPIC_LVT_TIMER, 0x000300ff, 0},
	    {VLAPIC_LVT_THERM, 0x000107ff, 0}, {VLAPIC_LVT_PERF, 0x000107ff, 0},
	    {VLAPIC_LVT_LINT0, 0x0001a7ff, 0}, {VLAPIC_LVT_LINT1, 0x0001a7ff, 0},
	    {VLAPIC_LVT_ERROR, 0x000100ff, 0}, {VLAPIC_TIMER_ICR, 0xffffffff, 0},
	    {VLAPIC_TIMER_DCR, 0x0000000b, 0},
	};
	unsigned int i;

	enable(l);
	for (i = 0; i < ARRAY_SIZE(regs); i++) {
		wr(l, regs[i].offset, 0xffffffff);
		assert_int_equal(rd(l, regs[i].offset), regs[i].ones);
		wr(l, regs[i].offset, 0);
		assert_int_equal(rd(l, regs[i].offset), regs[i].zeros);
	}
	/* SVR: vector, enable and focus bits; EOI-broadcast suppression is not offered. */
	wr(l, VLAPIC_SVR, 0xffffffff);
	assert_int_equal(rd(l, VLAPIC_SVR), 0x3ff);
	wr(l, VLAPIC_SVR, 0x100);
	assert_int_equal(rd(l, VLAPIC_SVR), 0x100);
	/* ICR low: delivery status reads 0; a reserved delivery mode sends nothing. */
	wr(l, VLAPIC_LVT_ERROR, VLAPIC_LVT_MASKED);
	wr(l, VLAPIC_ICR_LO, 0xffffffff);
	assert_int_equal(rd(l, VLAPIC_ICR_LO), 0x000ccfff);
	assert_int_equal(esr(l), 0);
	/* A fixed IPI with vector 0 is stored, but sending it is an error. */
	wr(l, VLAPIC_ICR_LO, 0);
	assert_int_equal(rd(l, VLAPIC_ICR_LO), 0);
	assert_int_equal(esr(l), VLAPIC_ESR_SEND_ILLEGAL);
	/* Timer mode 2 (TSC-deadline) is not offered: bit 18 is reserved. */
	wr(l, VLAPIC_LVT_TIMER, 0x00040040);
	assert_int_equal(rd(l, VLAPIC_LVT_TIMER), 0x00000040);
	wr(l, VLAPIC_LVT_TIMER, 0x00060040);
	assert_int_equal(rd(l, VLAPIC_LVT_TIMER), 0x00020040);
	assert_int_equal(esr(l), 0);
	assert_int_equal(vlapic_pending_irq(l), -1);
	assert_false(vlapic_take_nmi(l));
}

static void test_read_only_registers(void **state)
{
	struct vlapic *l = *state;
	static const uint32_t ro[] = {
	    VLAPIC_VERSION,    VLAPIC_APR, VLAPIC_PPR,	      VLAPIC_RRD,
	    VLAPIC_TIMER_CCR,  VLAPIC_ISR, VLAPIC_ISR + 0x70, VLAPIC_TMR,
	    VLAPIC_TMR + 0x70, VLAPIC_IRR, VLAPIC_IRR + 0x70,
	};
	uint32_t before[ARRAY_SIZE(ro)];
	unsigned int i;

	enable(l);
	vlapic_set_irq(l, 0xe0);
	vlapic_set_irq(l, 0x21);
	take(l); /* 0xe0 in service */
	for (i = 0; i < ARRAY_SIZE(ro); i++)
		before[i] = rd(l, ro[i]);
	for (i = 0; i < ARRAY_SIZE(ro); i++)
		wr(l, ro[i], 0x5a5a5a5a);
	for (i = 0; i < ARRAY_SIZE(ro); i++)
		assert_int_equal(rd(l, ro[i]), before[i]);
	assert_true(isr_has(l, 0xe0));
	assert_true(irr_has(l, 0x21));
	assert_int_equal(rd(l, VLAPIC_PPR), 0xe0);
	/* EOI is write-only. */
	assert_int_equal(rd(l, VLAPIC_EOI), 0);
	assert_int_equal(esr(l), 0);
}

static void test_reserved_registers(void **state)
{
	struct vlapic *l = *state;
	static const uint32_t reserved[] = {0x000, 0x010, 0x040, 0x070, 0x2f0, 0x3f0, 0x400, 0xff0};
	unsigned int i;

	enable(l);
	for (i = 0; i < ARRAY_SIZE(reserved); i++) {
		assert_int_equal(rd(l, reserved[i]), 0);
		assert_int_equal(esr(l), VLAPIC_ESR_ILLEGAL_REG);
		wr(l, reserved[i], 0xffffffff);
		assert_int_equal(rd(l, reserved[i]), 0);
		assert_int_equal(esr(l), VLAPIC_ESR_ILLEGAL_REG);
		assert_int_equal(esr(l), 0);
	}
	/* The rest of a register's 16-byte slot is silent padding. */
	wr(l, VLAPIC_TPR + 4, 0xff);
	assert_int_equal(rd(l, VLAPIC_TPR), 0);
	assert_int_equal(rd(l, VLAPIC_ID + 4), 0);
	assert_int_equal(rd(l, VLAPIC_ID + 0xc), 0);
	assert_int_equal(esr(l), 0);
}

static void test_esr_protocol(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	vlapic_set_irq(l, 3);
	/* Logged but not visible until the next ESR write. */
	assert_int_equal(rd(l, VLAPIC_ESR), 0);
	wr(l, VLAPIC_ESR, 0);
	assert_int_equal(rd(l, VLAPIC_ESR), VLAPIC_ESR_RECV_ILLEGAL);
	/* Reading does not clear it; errors since the last write accumulate. */
	assert_int_equal(rd(l, VLAPIC_ESR), VLAPIC_ESR_RECV_ILLEGAL);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_SELF | 1);
	rd(l, 0x3f0);
	assert_int_equal(rd(l, VLAPIC_ESR), VLAPIC_ESR_RECV_ILLEGAL);
	wr(l, VLAPIC_ESR, 0xffffffff); /* the value written does not matter */
	assert_int_equal(rd(l, VLAPIC_ESR), VLAPIC_ESR_SEND_ILLEGAL | VLAPIC_ESR_ILLEGAL_REG);
	wr(l, VLAPIC_ESR, 0);
	assert_int_equal(rd(l, VLAPIC_ESR), 0);
}

static void test_error_interrupt(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	/* Masked error LVT: logged only. */
	vlapic_set_irq(l, 7);
	assert_int_equal(vlapic_pending_irq(l), -1);
	assert_int_equal(esr(l), VLAPIC_ESR_RECV_ILLEGAL);
	/* Unmasked: each error raises the error vector. */
	wr(l, VLAPIC_LVT_ERROR, 0xfe);
	vlapic_set_irq(l, 7);
	assert_int_equal(take(l), 0xfe);
	wr(l, VLAPIC_EOI, 0);
	rd(l, 0x050);
	assert_int_equal(take(l), 0xfe);
	wr(l, VLAPIC_EOI, 0);
	assert_int_equal(esr(l), VLAPIC_ESR_RECV_ILLEGAL | VLAPIC_ESR_ILLEGAL_REG);
	/* An illegal vector in the error LVT is one more error, no interrupt. */
	wr(l, VLAPIC_LVT_ERROR, 0x0e);
	rd(l, 0x050);
	assert_int_equal(vlapic_pending_irq(l), -1);
	assert_int_equal(esr(l), VLAPIC_ESR_RECV_ILLEGAL | VLAPIC_ESR_ILLEGAL_REG);
}

static void test_tpr_masking(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	vlapic_set_irq(l, 0x55);
	assert_int_equal(vlapic_pending_irq(l), 0x55);
	/* Class 5 is not above TPR class 5 or 6. */
	wr(l, VLAPIC_TPR, 0x50);
	assert_int_equal(rd(l, VLAPIC_PPR), 0x50);
	assert_int_equal(vlapic_pending_irq(l), -1);
	wr(l, VLAPIC_TPR, 0x5f);
	assert_int_equal(vlapic_pending_irq(l), -1);
	wr(l, VLAPIC_TPR, 0x60);
	assert_int_equal(vlapic_pending_irq(l), -1);
	/* A higher class gets through while 0x55 waits. */
	vlapic_set_irq(l, 0x71);
	assert_int_equal(vlapic_pending_irq(l), 0x71);
	assert_int_equal(take(l), 0x71);
	wr(l, VLAPIC_EOI, 0);
	assert_int_equal(vlapic_pending_irq(l), -1);
	/* The sub-class does not matter: TPR 0x4f lets class 5 through. */
	wr(l, VLAPIC_TPR, 0x4f);
	assert_int_equal(rd(l, VLAPIC_PPR), 0x4f);
	assert_int_equal(vlapic_pending_irq(l), 0x55);
	wr(l, VLAPIC_TPR, 0);
	assert_int_equal(take(l), 0x55);
	assert_int_equal(vlapic_pending_irq(l), -1);
}

static void test_isr_priority(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	vlapic_set_irq(l, 0x40);
	assert_int_equal(take(l), 0x40);
	assert_true(isr_has(l, 0x40));
	assert_false(irr_has(l, 0x40));
	assert_int_equal(rd(l, VLAPIC_PPR), 0x40);
	/* Lower and equal classes wait. */
	vlapic_set_irq(l, 0x35);
	vlapic_set_irq(l, 0x4f);
	assert_int_equal(vlapic_pending_irq(l), -1);
	/* A higher class preempts. */
	vlapic_set_irq(l, 0x61);
	assert_int_equal(take(l), 0x61);
	assert_int_equal(rd(l, VLAPIC_PPR), 0x60);
	assert_int_equal(rd(l, VLAPIC_ISR + 0x30), 1u << 1);
	/* TPR above the ISR class wins; below it, ISR wins. */
	wr(l, VLAPIC_TPR, 0x72);
	assert_int_equal(rd(l, VLAPIC_PPR), 0x72);
	wr(l, VLAPIC_TPR, 0x32);
	assert_int_equal(rd(l, VLAPIC_PPR), 0x60);
	wr(l, VLAPIC_TPR, 0);
	/* EOI retires 0x61 only; 0x40 still blocks class 4. */
	wr(l, VLAPIC_EOI, 0);
	assert_false(isr_has(l, 0x61));
	assert_true(isr_has(l, 0x40));
	assert_int_equal(rd(l, VLAPIC_PPR), 0x40);
	assert_int_equal(vlapic_pending_irq(l), -1);
	/* EOI of 0x40: now 0x4f, then 0x35. */
	wr(l, VLAPIC_EOI, 0);
	assert_int_equal(rd(l, VLAPIC_PPR), 0);
	assert_int_equal(take(l), 0x4f);
	wr(l, VLAPIC_EOI, 0);
	assert_int_equal(take(l), 0x35);
	wr(l, VLAPIC_EOI, 0);
	assert_int_equal(vlapic_pending_irq(l), -1);
}

static void test_eoi(void **state)
{
	struct vlapic *l = *state;
	unsigned int i;

	enable(l);
	/* EOI with nothing in service is harmless. */
	wr(l, VLAPIC_EOI, 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(rd(l, VLAPIC_ISR + i * 0x10), 0);
	/* Nested: each EOI retires the highest in-service vector, whatever is written. */
	vlapic_set_irq(l, 0x20);
	take(l);
	vlapic_set_irq(l, 0x90);
	take(l);
	vlapic_set_irq(l, 0xff);
	take(l);
	assert_int_equal(rd(l, VLAPIC_ISR + 0x70), 0x80000000);
	wr(l, VLAPIC_EOI, 0x12345678);
	assert_int_equal(rd(l, VLAPIC_ISR + 0x70), 0);
	assert_true(isr_has(l, 0x90));
	wr(l, VLAPIC_EOI, 0);
	assert_false(isr_has(l, 0x90));
	assert_true(isr_has(l, 0x20));
	wr(l, VLAPIC_EOI, 0);
	assert_false(isr_has(l, 0x20));
	assert_int_equal(rd(l, VLAPIC_PPR), 0);
}

static void test_accept_and_set_bad_args(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	/* Accepting what is not requested changes nothing. */
	vlapic_accept_irq(l, 0x80);
	vlapic_accept_irq(l, -1);
	vlapic_accept_irq(l, 256);
	assert_false(isr_has(l, 0x80));
	vlapic_set_irq(l, -1);
	vlapic_set_irq(l, 256);
	assert_int_equal(vlapic_pending_irq(l), -1);
	assert_int_equal(esr(l), 0);
	/* An already-requested vector stays a single request. */
	vlapic_set_irq(l, 0x80);
	vlapic_set_irq(l, 0x80);
	assert_int_equal(take(l), 0x80);
	assert_int_equal(vlapic_pending_irq(l), -1);
	/* Vector 16 is the first legal one. */
	vlapic_set_irq(l, 16);
	wr(l, VLAPIC_EOI, 0);
	assert_int_equal(take(l), 16);
	assert_int_equal(esr(l), 0);
}

static void test_self_ipi_shorthand(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	wr(l, VLAPIC_ICR_HI, 0x55000000); /* ignored with a shorthand */
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_SELF | 0x50);
	assert_int_equal(rd(l, VLAPIC_ICR_LO) & VLAPIC_ICR_STATUS, 0);
	assert_true(irr_has(l, 0x50));
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_ALL | VLAPIC_ICR_ASSERT | 0x51);
	assert_true(irr_has(l, 0x51));
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_OTHERS | 0x52);
	assert_false(irr_has(l, 0x52));
	assert_int_equal(take(l), 0x51);
	wr(l, VLAPIC_EOI, 0);
	assert_int_equal(take(l), 0x50);
	wr(l, VLAPIC_EOI, 0);
	assert_int_equal(vlapic_pending_irq(l), -1);
	assert_int_equal(esr(l), 0);
}

static void test_self_ipi_physical(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	wr(l, VLAPIC_ICR_HI, TEST_ID << 24);
	wr(l, VLAPIC_ICR_LO, 0x60);
	assert_true(irr_has(l, 0x60));
	wr(l, VLAPIC_ICR_HI, (TEST_ID + 1) << 24);
	wr(l, VLAPIC_ICR_LO, 0x61);
	assert_false(irr_has(l, 0x61));
	wr(l, VLAPIC_ICR_HI, 0xff000000); /* broadcast */
	wr(l, VLAPIC_ICR_LO, 0x62);
	assert_true(irr_has(l, 0x62));
	/* After changing our ID, the new one matches. */
	wr(l, VLAPIC_ID, 7u << 24);
	wr(l, VLAPIC_ICR_HI, 7u << 24);
	wr(l, VLAPIC_ICR_LO, 0x63);
	assert_true(irr_has(l, 0x63));
	wr(l, VLAPIC_ICR_HI, TEST_ID << 24);
	wr(l, VLAPIC_ICR_LO, 0x64);
	assert_false(irr_has(l, 0x64));
	/* Lowest priority to ourselves is delivered too. */
	wr(l, VLAPIC_ICR_HI, 7u << 24);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_DM_LOWEST | 0x65);
	assert_true(irr_has(l, 0x65));
	assert_int_equal(esr(l), 0);
}

static void test_self_ipi_logical(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	/* Flat model (DFR reset): LDR bit set in the destination mask. */
	wr(l, VLAPIC_LDR, 0x04000000);
	wr(l, VLAPIC_ICR_HI, 0x06000000);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_LOGICAL | 0x70);
	assert_true(irr_has(l, 0x70));
	wr(l, VLAPIC_ICR_HI, 0x03000000);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_LOGICAL | 0x71);
	assert_false(irr_has(l, 0x71));
	/* Cluster model: cluster 2, member bit 0. */
	wr(l, VLAPIC_DFR, 0);
	wr(l, VLAPIC_LDR, 0x21000000);
	wr(l, VLAPIC_ICR_HI, 0x23000000);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_LOGICAL | 0x72);
	assert_true(irr_has(l, 0x72));
	wr(l, VLAPIC_ICR_HI, 0x22000000);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_LOGICAL | 0x73);
	assert_false(irr_has(l, 0x73));
	wr(l, VLAPIC_ICR_HI, 0x11000000);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_LOGICAL | 0x74);
	assert_false(irr_has(l, 0x74));
	wr(l, VLAPIC_ICR_HI, 0xff000000); /* broadcast */
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_LOGICAL | 0x75);
	assert_true(irr_has(l, 0x75));
	/* A reserved model matches nothing. */
	wr(l, VLAPIC_DFR, 0x80000000);
	wr(l, VLAPIC_ICR_HI, 0x21000000);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_LOGICAL | 0x76);
	assert_false(irr_has(l, 0x76));
}

static void test_nmi_self(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_SELF | VLAPIC_ICR_DM_NMI);
	assert_true(vlapic_take_nmi(l));
	assert_false(vlapic_take_nmi(l));
	/* NMIs bypass IRR and ignore the vector: no illegal-vector error. */
	assert_int_equal(vlapic_pending_irq(l), -1);
	assert_int_equal(esr(l), 0);
	wr(l, VLAPIC_ICR_HI, TEST_ID << 24);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_DM_NMI | 0x30);
	assert_true(vlapic_take_nmi(l));
	assert_int_equal(vlapic_pending_irq(l), -1);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_OTHERS | VLAPIC_ICR_DM_NMI);
	assert_false(vlapic_take_nmi(l));
	/* A software-disabled APIC still takes NMIs. */
	wr(l, VLAPIC_SVR, 0xff);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_SELF | VLAPIC_ICR_DM_NMI);
	assert_true(vlapic_take_nmi(l));
	/* SMI, INIT and SIPI are not modelled. */
	enable(l);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_SELF | VLAPIC_ICR_DM_SMI | 0x40);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_SELF | VLAPIC_ICR_DM_INIT | 0x40);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_SELF | VLAPIC_ICR_DM_STARTUP | 0x40);
	assert_false(vlapic_take_nmi(l));
	assert_int_equal(vlapic_pending_irq(l), -1);
	assert_int_equal(esr(l), 0);
}

static void test_illegal_vectors(void **state)
{
	struct vlapic *l = *state;
	int v;

	enable(l);
	for (v = 0; v < 16; v++) {
		vlapic_set_irq(l, v);
		assert_int_equal(vlapic_pending_irq(l), -1);
		assert_int_equal(rd(l, VLAPIC_IRR), 0);
		assert_int_equal(esr(l), VLAPIC_ESR_RECV_ILLEGAL);
		wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_SELF | (uint32_t)v);
		assert_int_equal(rd(l, VLAPIC_IRR), 0);
		assert_int_equal(esr(l), VLAPIC_ESR_SEND_ILLEGAL);
	}
	/* The sender detects it whatever the destination. */
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_OTHERS | 2);
	assert_int_equal(esr(l), VLAPIC_ESR_SEND_ILLEGAL);
	/* A timer LVT with an illegal vector: a receive error when it fires. */
	wr(l, VLAPIC_TIMER_DCR, 0xb);
	wr(l, VLAPIC_LVT_TIMER, 2);
	vlapic_write(l, VLAPIC_TIMER_ICR, 10, 100);
	vlapic_update_timer(l, 110);
	assert_int_equal(rd(l, VLAPIC_IRR), 0);
	assert_int_equal(esr(l), VLAPIC_ESR_RECV_ILLEGAL);
}

static void test_sw_disabled(void **state)
{
	struct vlapic *l = *state;
	unsigned int i;

	/* At reset the APIC is software-disabled: fixed interrupts are not accepted. */
	vlapic_set_irq(l, 0x40);
	wr(l, VLAPIC_ICR_LO, VLAPIC_ICR_SH_SELF | 0x41);
	assert_false(irr_has(l, 0x40));
	assert_false(irr_has(l, 0x41));
	assert_int_equal(vlapic_pending_irq(l), -1);
	/* LVT masks cannot be cleared while disabled. */
	wr(l, VLAPIC_LVT_TIMER, 0x20);
	assert_int_equal(rd(l, VLAPIC_LVT_TIMER), 0x10020);
	/* Pending requests are held over a disable, and delivered after re-enabling. */
	enable(l);
	vlapic_set_irq(l, 0x40);
	vlapic_set_irq(l, 0x80);
	assert_int_equal(take(l), 0x80);
	for (i = VLAPIC_LVT_TIMER; i <= VLAPIC_LVT_ERROR; i += 0x10)
		wr(l, i, 0x30);
	wr(l, VLAPIC_SVR, 0xff);
	assert_int_equal(vlapic_pending_irq(l), -1);
	assert_true(irr_has(l, 0x40));
	assert_true(isr_has(l, 0x80));
	/* Disabling masked every LVT entry. */
	for (i = VLAPIC_LVT_TIMER; i <= VLAPIC_LVT_ERROR; i += 0x10)
		assert_int_equal(rd(l, i), 0x10030);
	/* The timer counts but does not interrupt; error interrupts are masked too. */
	wr(l, VLAPIC_TIMER_DCR, 0xb);
	vlapic_write(l, VLAPIC_TIMER_ICR, 5, 0);
	vlapic_update_timer(l, 5);
	vlapic_set_irq(l, 1);
	wr(l, VLAPIC_SVR, 0x1ff);
	assert_int_equal(rd(l, VLAPIC_IRR + 0x10), 0); /* 0x30 not requested */
	assert_false(irr_has(l, 0x30));
	/* Re-enabling does not unmask. */
	for (i = VLAPIC_LVT_TIMER; i <= VLAPIC_LVT_ERROR; i += 0x10)
		assert_int_equal(rd(l, i), 0x10030);
	/* ISR still blocks class 4 until EOI. */
	assert_int_equal(vlapic_pending_irq(l), -1);
	wr(l, VLAPIC_EOI, 0);
	assert_int_equal(take(l), 0x40);
}

struct divider {
	uint32_t dcr;
	uint64_t div;
};

static const struct divider dividers[] = {
    {0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16}, {0x8, 32}, {0x9, 64}, {0xa, 128}, {0xb, 1},
};

static void test_oneshot_dividers(void **state)
{
	struct vlapic *l = *state;
	const uint64_t start = 1000;
	const uint32_t count = 10;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dividers); i++) {
		uint64_t div = dividers[i].div;
		uint64_t deadline = start + count * div;

		vlapic_init(l, TEST_ID);
		enable(l);
		wr(l, VLAPIC_TIMER_DCR, dividers[i].dcr);
		wr(l, VLAPIC_LVT_TIMER, 0x30);
		vlapic_write(l, VLAPIC_TIMER_ICR, count, start);
		assert_true(vlapic_timer_deadline(l) == deadline);
		assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, start), count);
		assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, start + div - 1), count);
		assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, start + div), count - 1);
		assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, start + 7 * div), count - 7);
		assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, deadline - 1), 1);
		vlapic_update_timer(l, deadline - 1);
		assert_false(irr_has(l, 0x30));
		vlapic_update_timer(l, deadline);
		assert_true(irr_has(l, 0x30));
		assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, deadline), 0);
		assert_true(vlapic_timer_deadline(l) == UINT64_MAX);
		/* Once only. */
		assert_int_equal(take(l), 0x30);
		wr(l, VLAPIC_EOI, 0);
		vlapic_update_timer(l, deadline + 100 * count * div);
		assert_int_equal(vlapic_pending_irq(l), -1);
		assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, deadline + 5), 0);
		/* The initial count is still readable. */
		assert_int_equal(rd(l, VLAPIC_TIMER_ICR), count);
	}
}

static void test_periodic_no_drift(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	wr(l, VLAPIC_TIMER_DCR, 0xb); /* divide by 1 */
	wr(l, VLAPIC_LVT_TIMER, VLAPIC_LVT_PERIODIC | 0x31);
	vlapic_write(l, VLAPIC_TIMER_ICR, 100, 0);
	assert_true(vlapic_timer_deadline(l) == 100);
	vlapic_update_timer(l, 99);
	assert_int_equal(vlapic_pending_irq(l), -1);
	vlapic_update_timer(l, 100);
	assert_int_equal(take(l), 0x31);
	wr(l, VLAPIC_EOI, 0);
	assert_true(vlapic_timer_deadline(l) == 200);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 100), 100);
	/* Late by 50: the next deadline is still previous + period. */
	vlapic_update_timer(l, 250);
	assert_int_equal(take(l), 0x31);
	wr(l, VLAPIC_EOI, 0);
	assert_true(vlapic_timer_deadline(l) == 300);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 250), 50);
	/* Exactly on time. */
	vlapic_update_timer(l, 300);
	assert_true(vlapic_timer_deadline(l) == 400);
	assert_int_equal(take(l), 0x31);
	wr(l, VLAPIC_EOI, 0);
	/* Missed many periods: one interrupt, phase kept. */
	vlapic_update_timer(l, 1234);
	assert_int_equal(take(l), 0x31);
	assert_int_equal(vlapic_pending_irq(l), -1);
	assert_true(vlapic_timer_deadline(l) == 1300);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 1234), 66);
	/* A read also brings the timer up to date. */
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 1310), 90);
	assert_true(vlapic_timer_deadline(l) == 1400);
	assert_true(irr_has(l, 0x31));
	wr(l, VLAPIC_EOI, 0);
}

static void test_periodic_divider(void **state)
{
	struct vlapic *l = *state;
	uint64_t t;

	enable(l);
	wr(l, VLAPIC_TIMER_DCR, 0x3); /* divide by 16 */
	wr(l, VLAPIC_LVT_TIMER, VLAPIC_LVT_PERIODIC | 0x32);
	vlapic_write(l, VLAPIC_TIMER_ICR, 3, 5);
	for (t = 5 + 48; t <= 5 + 10 * 48; t += 48) {
		assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, t - 1), 1);
		vlapic_update_timer(l, t);
		assert_int_equal(take(l), 0x32);
		wr(l, VLAPIC_EOI, 0);
		assert_true(vlapic_timer_deadline(l) == t + 48);
		assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, t + 16), 2);
	}
}

static void test_masked_timer(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	wr(l, VLAPIC_TIMER_DCR, 0xb);
	wr(l, VLAPIC_LVT_TIMER, VLAPIC_LVT_MASKED | VLAPIC_LVT_PERIODIC | 0x33);
	vlapic_write(l, VLAPIC_TIMER_ICR, 10, 0);
	/* It still counts and re-arms... */
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 4), 6);
	vlapic_update_timer(l, 10);
	assert_true(vlapic_timer_deadline(l) == 20);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 13), 7);
	/* ...but does not interrupt. */
	assert_int_equal(vlapic_pending_irq(l), -1);
	assert_false(irr_has(l, 0x33));
	/* Unmasking after a missed expiry does not deliver it late. */
	vlapic_write(l, VLAPIC_LVT_TIMER, VLAPIC_LVT_PERIODIC | 0x33, 25);
	assert_false(irr_has(l, 0x33));
	assert_true(vlapic_timer_deadline(l) == 30);
	vlapic_update_timer(l, 30);
	assert_int_equal(take(l), 0x33);
	wr(l, VLAPIC_EOI, 0);

	/* One-shot expiring while masked: gone for good. */
	wr(l, VLAPIC_LVT_TIMER, VLAPIC_LVT_MASKED | 0x34);
	vlapic_write(l, VLAPIC_TIMER_ICR, 10, 100);
	vlapic_write(l, VLAPIC_LVT_TIMER, 0x34, 200);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 200), 0);
	vlapic_update_timer(l, 300);
	assert_int_equal(vlapic_pending_irq(l), -1);
}

static void test_timer_stop_restart(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	wr(l, VLAPIC_TIMER_DCR, 0x0); /* divide by 2 */
	wr(l, VLAPIC_LVT_TIMER, VLAPIC_LVT_PERIODIC | 0x35);
	vlapic_write(l, VLAPIC_TIMER_ICR, 50, 0);
	assert_true(vlapic_timer_deadline(l) == 100);
	/* Writing 0 stops it, in periodic mode too. */
	vlapic_write(l, VLAPIC_TIMER_ICR, 0, 40);
	assert_true(vlapic_timer_deadline(l) == UINT64_MAX);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 40), 0);
	vlapic_update_timer(l, 1000);
	assert_int_equal(vlapic_pending_irq(l), -1);
	/* Writing a new count restarts from now. */
	vlapic_write(l, VLAPIC_TIMER_ICR, 20, 1000);
	assert_true(vlapic_timer_deadline(l) == 1040);
	vlapic_write(l, VLAPIC_TIMER_ICR, 30, 1030);
	assert_true(vlapic_timer_deadline(l) == 1090);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 1030), 30);
	vlapic_update_timer(l, 1089);
	assert_int_equal(vlapic_pending_irq(l), -1);
	vlapic_update_timer(l, 1090);
	assert_int_equal(take(l), 0x35);
	/* One-shot stop as well. */
	wr(l, VLAPIC_LVT_TIMER, 0x35);
	vlapic_write(l, VLAPIC_TIMER_ICR, 0, 1100);
	vlapic_update_timer(l, 5000);
	assert_false(irr_has(l, 0x35));
}

static void test_timer_reprogramming(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	/* Divider change mid-count: the count goes on at the new rate. */
	wr(l, VLAPIC_TIMER_DCR, 0x0); /* 2 */
	wr(l, VLAPIC_LVT_TIMER, 0x36);
	vlapic_write(l, VLAPIC_TIMER_ICR, 100, 0);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 50), 75);
	vlapic_write(l, VLAPIC_TIMER_DCR, 0x2, 50); /* 8 */
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_DCR, 50), 0x2);
	assert_true(vlapic_timer_deadline(l) == 50 + 75 * 8);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 50), 75);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 50 + 8), 74);
	vlapic_update_timer(l, 50 + 75 * 8);
	assert_int_equal(take(l), 0x36);
	wr(l, VLAPIC_EOI, 0);
	/* A divider change while stopped only sets the divider. */
	vlapic_write(l, VLAPIC_TIMER_DCR, 0xb, 1000);
	assert_true(vlapic_timer_deadline(l) == UINT64_MAX);
	vlapic_write(l, VLAPIC_TIMER_ICR, 7, 1000);
	assert_true(vlapic_timer_deadline(l) == 1007);

	/* One-shot switched to periodic mid-count keeps going after the expiry. */
	vlapic_write(l, VLAPIC_LVT_TIMER, VLAPIC_LVT_PERIODIC | 0x36, 1003);
	vlapic_update_timer(l, 1007);
	assert_int_equal(take(l), 0x36);
	wr(l, VLAPIC_EOI, 0);
	assert_true(vlapic_timer_deadline(l) == 1014);
	/* And periodic switched to one-shot stops after the next one. */
	vlapic_write(l, VLAPIC_LVT_TIMER, 0x36, 1010);
	vlapic_update_timer(l, 1014);
	assert_int_equal(take(l), 0x36);
	wr(l, VLAPIC_EOI, 0);
	assert_true(vlapic_timer_deadline(l) == UINT64_MAX);
}

static void test_timer_extremes(void **state)
{
	struct vlapic *l = *state;

	enable(l);
	/* The longest count: 2^32 - 1 at divide by 128 fits in 64 bits. */
	wr(l, VLAPIC_TIMER_DCR, 0xa);
	wr(l, VLAPIC_LVT_TIMER, 0x37);
	vlapic_write(l, VLAPIC_TIMER_ICR, 0xffffffff, 0);
	assert_true(vlapic_timer_deadline(l) == 0xffffffffull * 128);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 128), 0xfffffffe);
	/* Time going backwards (a caller bug) does not read above the initial count. */
	vlapic_write(l, VLAPIC_TIMER_ICR, 10, 1000);
	assert_int_equal(vlapic_read(l, VLAPIC_TIMER_CCR, 0), 10);
	/* A deadline past the end of time saturates instead of wrapping. */
	vlapic_write(l, VLAPIC_TIMER_ICR, 0, 1000);
	vlapic_write(l, VLAPIC_TIMER_ICR, 10, UINT64_MAX - 5);
	assert_true(vlapic_timer_deadline(l) == UINT64_MAX);
	vlapic_update_timer(l, UINT64_MAX - 1);
	assert_int_equal(vlapic_pending_irq(l), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writable_bits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_registers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reserved_registers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_esr_protocol, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_interrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tpr_masking, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_isr_priority, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eoi, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_accept_and_set_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_self_ipi_shorthand, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_self_ipi_physical, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_self_ipi_logical, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nmi_self, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_illegal_vectors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sw_disabled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oneshot_dividers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_periodic_no_drift, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_periodic_divider, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_masked_timer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timer_stop_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timer_reprogramming, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timer_extremes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
