/*
 * Register logic of a virtual local APIC in xAPIC mode, for single-vCPU
 * guests.
 *
 * A pure model with no globals and no I/O. The hypervisor maps nothing at
 * the APIC page (0xFEE00000), decodes the guest's MOV on the nested page
 * fault and calls vlapic_read()/vlapic_write() with the register offset and
 * a 32-bit value; accesses that are not aligned dwords are its business.
 * It handles IA32_APIC_BASE (global enable, relocation, x2APIC) itself too.
 * Time is passed in as "ticks" of the APIC timer's input clock; the divide
 * configuration register divides it further.
 *
 * Spec references: AMD APM vol. 2 ch. 16 "Advanced Programmable Interrupt
 * Controller (APIC)" and Intel SDM vol. 3A, chapter "Advanced Programmable
 * Interrupt Controller (APIC)" (ch. 11 in current editions, ch. 10 before).
 * SDM section numbers below are from the current editions; the titles are
 * quoted because the numbers moved between editions.
 *
 * What the model offers the guest: version 0x14 with six LVT entries
 * (timer, thermal, performance counter, LINT0, LINT1, error), no CMCI, no
 * directed EOI, no TSC-deadline timer mode (CPUID must not advertise it),
 * self-IPIs (fixed, lowest priority, NMI) and edge-triggered interrupts
 * only (TMR always reads 0).
 */
#ifndef KERNEL_VLAPIC_H
#define KERNEL_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VLAPIC_BASE 0xfee00000u
#define VLAPIC_SIZE 0x1000u

/* Register offsets in the APIC page (SDM Table 11-1, "Local APIC Register Address Map"). */
#define VLAPIC_ID	 0x020
#define VLAPIC_VERSION	 0x030
#define VLAPIC_TPR	 0x080
#define VLAPIC_APR	 0x090
#define VLAPIC_PPR	 0x0a0
#define VLAPIC_EOI	 0x0b0
#define VLAPIC_RRD	 0x0c0 /* remote read: not implemented, reserved here */
#define VLAPIC_LDR	 0x0d0
#define VLAPIC_DFR	 0x0e0
#define VLAPIC_SVR	 0x0f0
#define VLAPIC_ISR	 0x100 /* 8 registers, 0x10 apart */
#define VLAPIC_TMR	 0x180
#define VLAPIC_IRR	 0x200
#define VLAPIC_ESR	 0x280
#define VLAPIC_LVT_CMCI	 0x2f0 /* not implemented, reserved here */
#define VLAPIC_ICR_LO	 0x300
#define VLAPIC_ICR_HI	 0x310
#define VLAPIC_LVT_TIMER 0x320
#define VLAPIC_LVT_THERM 0x330
#define VLAPIC_LVT_PERF	 0x340
#define VLAPIC_LVT_LINT0 0x350
#define VLAPIC_LVT_LINT1 0x360
#define VLAPIC_LVT_ERROR 0x370
#define VLAPIC_TIMER_ICR 0x380 /* initial count */
#define VLAPIC_TIMER_CCR 0x390 /* current count */
#define VLAPIC_TIMER_DCR 0x3e0 /* divide configuration */

/* Version register: version 0x14 (integrated APIC), max LVT entry 5 in bits 16-23. */
#define VLAPIC_VERSION_VALUE 0x00050014u

#define VLAPIC_SVR_VECTOR 0x000000ffu
#define VLAPIC_SVR_ENABLE 0x00000100u /* APIC software enable */
#define VLAPIC_SVR_FOCUS  0x00000200u /* focus processor checking disable (stored only) */
#define VLAPIC_SVR_MASK	  (VLAPIC_SVR_VECTOR | VLAPIC_SVR_ENABLE | VLAPIC_SVR_FOCUS)
#define VLAPIC_SVR_RESET  0x000000ffu

#define VLAPIC_DFR_MODEL 0xf0000000u /* 0xf = flat, 0x0 = cluster */
#define VLAPIC_DFR_RESET 0xffffffffu
#define VLAPIC_LDR_MASK	 0xff000000u

/* LVT entries (SDM 11.5.1, "Local Vector Table"). */
#define VLAPIC_LVT_VECTOR     0x000000ffu
#define VLAPIC_LVT_DM	      0x00000700u /* delivery mode */
#define VLAPIC_LVT_STATUS     0x00001000u /* delivery status, always 0 (idle) */
#define VLAPIC_LVT_POLARITY   0x00002000u
#define VLAPIC_LVT_REMOTE_IRR 0x00004000u /* read-only, always 0 */
#define VLAPIC_LVT_LEVEL      0x00008000u
#define VLAPIC_LVT_MASKED     0x00010000u
#define VLAPIC_LVT_PERIODIC   0x00020000u /* timer mode bit 17: 0 = one-shot, 1 = periodic */
#define VLAPIC_LVT_RESET      VLAPIC_LVT_MASKED

/*
 * Timer mode is bits 17-18, but mode 2 (TSC-deadline) needs
 * CPUID.01H:ECX[24], which we do not offer, so bit 18 is reserved: it is
 * not writable, and a write of mode 2 reads back as one-shot (mode 3 as
 * periodic), the "reserved bits ignored" behaviour.
 */
#define VLAPIC_LVT_TIMER_MASK (VLAPIC_LVT_VECTOR | VLAPIC_LVT_MASKED | VLAPIC_LVT_PERIODIC)
#define VLAPIC_LVT_THERM_MASK (VLAPIC_LVT_VECTOR | VLAPIC_LVT_DM | VLAPIC_LVT_MASKED)
#define VLAPIC_LVT_PERF_MASK  VLAPIC_LVT_THERM_MASK
#define VLAPIC_LVT_LINT_MASK                                                                       \
	(VLAPIC_LVT_VECTOR | VLAPIC_LVT_DM | VLAPIC_LVT_POLARITY | VLAPIC_LVT_LEVEL |              \
	 VLAPIC_LVT_MASKED)
#define VLAPIC_LVT_ERROR_MASK (VLAPIC_LVT_VECTOR | VLAPIC_LVT_MASKED)

/* Index into struct vlapic.lvt[]: (offset - VLAPIC_LVT_TIMER) / 0x10. */
enum vlapic_lvt {
	VLAPIC_LVT_IDX_TIMER,
	VLAPIC_LVT_IDX_THERM,
	VLAPIC_LVT_IDX_PERF,
	VLAPIC_LVT_IDX_LINT0,
	VLAPIC_LVT_IDX_LINT1,
	VLAPIC_LVT_IDX_ERROR,
	VLAPIC_NR_LVT,
};

/* Error status register bits (SDM 11.5.3, "Error Handling"). */
#define VLAPIC_ESR_SEND_ILLEGAL 0x20u /* illegal vector (0-15) in a message sent */
#define VLAPIC_ESR_RECV_ILLEGAL 0x40u /* illegal vector received, locally generated included */
#define VLAPIC_ESR_ILLEGAL_REG	0x80u /* access to a reserved register */

/* Interrupt command register, low half (SDM 11.6.1, "Interrupt Command Register (ICR)"). */
#define VLAPIC_ICR_VECTOR     0x000000ffu
#define VLAPIC_ICR_DM	      0x00000700u
#define VLAPIC_ICR_DM_FIXED   0x00000000u
#define VLAPIC_ICR_DM_LOWEST  0x00000100u
#define VLAPIC_ICR_DM_SMI     0x00000200u
#define VLAPIC_ICR_DM_NMI     0x00000400u
#define VLAPIC_ICR_DM_INIT    0x00000500u
#define VLAPIC_ICR_DM_STARTUP 0x00000600u
#define VLAPIC_ICR_LOGICAL    0x00000800u
#define VLAPIC_ICR_STATUS     0x00001000u /* delivery status, always 0 (idle) */
#define VLAPIC_ICR_ASSERT     0x00004000u
#define VLAPIC_ICR_LEVEL      0x00008000u
#define VLAPIC_ICR_SHORTHAND  0x000c0000u
#define VLAPIC_ICR_SH_NONE    0x00000000u
#define VLAPIC_ICR_SH_SELF    0x00040000u
#define VLAPIC_ICR_SH_ALL     0x00080000u /* all including self */
#define VLAPIC_ICR_SH_OTHERS  0x000c0000u /* all excluding self */
#define VLAPIC_ICR_LO_MASK                                                                         \
	(VLAPIC_ICR_VECTOR | VLAPIC_ICR_DM | VLAPIC_ICR_LOGICAL | VLAPIC_ICR_ASSERT |              \
	 VLAPIC_ICR_LEVEL | VLAPIC_ICR_SHORTHAND)
#define VLAPIC_ICR_HI_MASK 0xff000000u /* destination field, bits 56-63 of the ICR */

#define VLAPIC_DCR_MASK 0x0000000bu /* divide value in bits 0, 1 and 3 */

struct vlapic {
	uint32_t id; /* the 8-bit APIC ID (ID register bits 24-31) */
	uint32_t tpr;
	uint32_t ldr;
	uint32_t dfr;
	uint32_t svr;
	uint32_t irr[8], isr[8], tmr[8]; /* bit (v % 32) of word (v / 32) is vector v */
	uint32_t esr;			 /* what the guest reads */
	uint32_t esr_pending;		 /* errors since the last ESR write */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[VLAPIC_NR_LVT];
	/* Timer. */
	uint32_t timer_initial;	 /* initial count register */
	uint32_t timer_dcr;	 /* divide configuration register */
	bool timer_armed;	 /* counting towards timer_deadline */
	uint64_t timer_deadline; /* absolute tick at which the count reaches 0 */
	bool nmi_pending;
};

/* Puts the APIC into its power-up state (SDM 11.4.7.1) with the given 8-bit ID. */
void vlapic_init(struct vlapic *l, uint32_t apic_id);

/*
 * now is the current time in APIC timer input ticks (the caller converts
 * from TSC). Both first run vlapic_update_timer(l, now), so that an expiry
 * that is due is processed under the settings in force when it happened.
 * Reserved offsets read 0 and ignore writes (and flag ESR "illegal register
 * address" when they are a whole reserved register); writes to read-only
 * registers are ignored.
 */
uint32_t vlapic_read(struct vlapic *l, uint32_t offset, uint64_t now);
void vlapic_write(struct vlapic *l, uint32_t offset, uint32_t val, uint64_t now);

/*
 * Fires the timer if it is due: sets IRR (unless masked), re-arms a
 * periodic timer at previous deadline + period (missed periods collapse
 * into the one IRR bit; the phase is kept), stops a one-shot timer.
 */
void vlapic_update_timer(struct vlapic *l, uint64_t now);

/* Absolute tick of the next expiry (masked or not), or UINT64_MAX when the timer is stopped. */
/* A software-disabled APIC delivers no interrupt (SDM 11.4.7.2): a cheap first test. */
static inline bool vlapic_sw_enabled(const struct vlapic *l)
{
	return l->svr & VLAPIC_SVR_ENABLE;
}

static inline uint64_t vlapic_timer_deadline(const struct vlapic *l)
{
	return l->timer_armed ? l->timer_deadline : UINT64_MAX;
}

/*
 * Highest IRR vector deliverable given PPR (TPR and ISR), or -1; none when
 * the APIC is software-disabled (SVR bit 8 = 0).
 */
int vlapic_pending_irq(const struct vlapic *l);

/* The CPU took vector (from vlapic_pending_irq): IRR -> ISR. Others are ignored. */
void vlapic_accept_irq(struct vlapic *l, int vector);

/* An NMI is pending: clear it and return true. */
bool vlapic_take_nmi(struct vlapic *l);

/*
 * An edge-triggered fixed interrupt arrives from outside (tests, the
 * hypervisor). Vectors 0-15 are illegal (ESR "receive illegal vector"),
 * and a software-disabled APIC does not accept it.
 */
void vlapic_set_irq(struct vlapic *l, int vector);

#endif
