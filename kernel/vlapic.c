/*
 * Virtual local APIC (xAPIC mode) register logic. See vlapic.h for the
 * interface and the spec references.
 */
#include "kernel/vlapic.h"

#include "kernel/kstring.h"

#define NR_VECTORS	   256
#define FIRST_LEGAL_VECTOR 16 /* 0-15 are reserved (SDM 11.5.2, "Valid Interrupt Vectors") */
#define BROADCAST_DEST	   0xffu

static bool vec_test(const uint32_t *bits, unsigned int v)
{
	return bits[v / 32] & (1u << (v % 32));
}

static void vec_set(uint32_t *bits, unsigned int v)
{
	bits[v / 32] |= 1u << (v % 32);
}

static void vec_clear(uint32_t *bits, unsigned int v)
{
	bits[v / 32] &= ~(1u << (v % 32));
}

/* The highest vector set in a 256-bit register, or -1. */
static int vec_highest(const uint32_t *bits)
{
	int i;

	for (i = 7; i >= 0; i--)
		if (bits[i])
			return i * 32 + 31 - __builtin_clz(bits[i]);
	return -1;
}

static bool sw_enabled(const struct vlapic *l)
{
	return l->svr & VLAPIC_SVR_ENABLE;
}

/*
 * SDM 11.8.3.1 ("Task and Processor Priorities"): PPR is TPR if TPR's
 * class is at least that of the highest in-service vector, else that
 * vector's class with sub-class 0.
 */
static uint32_t ppr(const struct vlapic *l)
{
	int isrv = vec_highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	if ((l->tpr & 0xf0) >= isr_class)
		return l->tpr & 0xff;
	return isr_class;
}

/*
 * SDM 11.5.3 ("Error Handling"): an error is logged in the hidden ESR
 * state and, if the error LVT is not masked, raises the error interrupt.
 * An illegal vector in the error LVT itself is one more error, without a
 * further interrupt (which keeps this from recursing).
 */
static void raise_error(struct vlapic *l, uint32_t bits)
{
	uint32_t lvt = l->lvt[VLAPIC_LVT_IDX_ERROR];
	unsigned int vector = lvt & VLAPIC_LVT_VECTOR;

	l->esr_pending |= bits;
	if (lvt & VLAPIC_LVT_MASKED)
		return;
	if (vector < FIRST_LEGAL_VECTOR) {
		l->esr_pending |= VLAPIC_ESR_RECV_ILLEGAL;
		return;
	}
	vec_set(l->irr, vector);
	vec_clear(l->tmr, vector);
}

/*
 * A fixed, edge-triggered interrupt arrives at this APIC (timer LVT,
 * self-IPI, external). SDM 11.4.7.2: a software-disabled APIC only
 * responds to INIT, NMI, SMI and SIPI, so it does not take it. SDM 11.5.3:
 * vectors 0-15 are "receive illegal vector" errors and are not accepted.
 * SDM 11.8.4 ("Interrupt Acceptance for Fixed Interrupts"): an accepted
 * vector waits in IRR; TMR is cleared for edge-triggered ones.
 */
static void accept_fixed(struct vlapic *l, unsigned int vector)
{
	if (!sw_enabled(l))
		return;
	if (vector < FIRST_LEGAL_VECTOR) {
		raise_error(l, VLAPIC_ESR_RECV_ILLEGAL);
		return;
	}
	vec_set(l->irr, vector);
	vec_clear(l->tmr, vector);
}

/* Timer divisor as a shift (SDM 11.5.4, "APIC Timer"): 000 -> 2, ... 110 -> 128, 111 -> 1. */
static unsigned int timer_shift(const struct vlapic *l)
{
	uint32_t v = ((l->timer_dcr & 0x8) >> 1) | (l->timer_dcr & 0x3);

	return (v + 1) & 7;
}

/* Ticks one full count-down from the initial count takes. */
static uint64_t timer_period(const struct vlapic *l)
{
	return (uint64_t)l->timer_initial << timer_shift(l);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Current count register: the count decrements once every divisor ticks and stops at 0. */
static uint32_t timer_current(const struct vlapic *l, uint64_t now)
{
	unsigned int shift = timer_shift(l);
	uint64_t left;

	if (!l->timer_armed || now >= l->timer_deadline)
		return 0;
	/* Rounded up: the count reaches 0 exactly at the deadline. */
	left = ((l->timer_deadline - now) + (1ull << shift) - 1) >> shift;
	return left > l->timer_initial ? l->timer_initial : (uint32_t)left;
}

/*
 * SDM 11.5.4: a write to the initial-count register (re)starts the count
 * from the new value; a value of 0 stops the timer in either mode.
 */
static void timer_start(struct vlapic *l, uint64_t now)
{
	l->timer_armed = l->timer_initial != 0;
	l->timer_deadline = l->timer_armed ? add_sat(now, timer_period(l)) : UINT64_MAX;
}

/*
 * The SDM leaves a divide-configuration change during a count-down open.
 * We keep the current count and let it continue at the new rate (the
 * fraction of the current decrement interval is dropped); a periodic
 * reload then uses the new divisor in full.
 */
static void timer_set_dcr(struct vlapic *l, uint32_t val, uint64_t now)
{
	uint32_t count = timer_current(l, now);

	l->timer_dcr = val & VLAPIC_DCR_MASK;
	if (l->timer_armed)
		l->timer_deadline = add_sat(now, (uint64_t)count << timer_shift(l));
}

void vlapic_update_timer(struct vlapic *l, uint64_t now)
{
	uint32_t lvt = l->lvt[VLAPIC_LVT_IDX_TIMER];
	uint64_t period, late;

	if (!l->timer_armed || now < l->timer_deadline)
		return;
	/*
	 * SDM 11.5.4: at zero the timer interrupt is generated, unless the
	 * LVT entry is masked (the count-down itself goes on regardless).
	 */
	if (!(lvt & VLAPIC_LVT_MASKED))
		accept_fixed(l, lvt & VLAPIC_LVT_VECTOR);
	if (!(lvt & VLAPIC_LVT_PERIODIC)) {
		/* One-shot: the count stays at 0 until reprogrammed. */
		l->timer_armed = false;
		l->timer_deadline = UINT64_MAX;
		return;
	}
	/*
	 * Periodic: reload from the initial count. The next deadline is
	 * measured from the previous one, not from now, so that a late call
	 * does not make the timer drift. Periods missed entirely collapse
	 * into the single IRR bit set above, as on hardware where the vector
	 * is still pending.
	 */
	period = timer_period(l);
	late = (now - l->timer_deadline) % period;
	l->timer_deadline = add_sat(now - late, period);
}

/*
 * ICR destination matching for the one APIC there is (SDM 11.6.2,
 * "Determining IPI Destination"). Shorthands: self and all-including-self
 * hit us, all-excluding-self does not. Without a shorthand, physical mode
 * compares the ID (0xff broadcasts); logical mode matches LDR under the
 * flat or cluster model of DFR (SDM 11.6.2.2, "Logical Destination Mode").
 */
static bool icr_targets_self(const struct vlapic *l)
{
	uint32_t dest = l->icr_hi >> 24;
	uint32_t ldr = l->ldr >> 24;

	switch (l->icr_lo & VLAPIC_ICR_SHORTHAND) {
	case VLAPIC_ICR_SH_SELF:
	case VLAPIC_ICR_SH_ALL:
		return true;
	case VLAPIC_ICR_SH_OTHERS:
		return false;
	default:
		break;
	}
	if (dest == BROADCAST_DEST)
		return true;
	if (!(l->icr_lo & VLAPIC_ICR_LOGICAL))
		return dest == l->id;
	/* Flat model: one bit per APIC. */
	if ((l->dfr & VLAPIC_DFR_MODEL) == VLAPIC_DFR_MODEL)
		return (dest & ldr) != 0;
	/* Cluster model: cluster number in bits 4-7, one bit per APIC in bits 0-3. */
	if ((l->dfr & VLAPIC_DFR_MODEL) == 0)
		return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
	/* The other models are reserved and match nothing. */
	return false;
}

/*
 * A write to the ICR low half sends the IPI (SDM 11.6.1). With one vCPU
 * only IPIs that include ourselves do anything. Delivery is instant, so
 * the delivery status bit always reads 0 (idle).
 */
static void send_ipi(struct vlapic *l)
{
	unsigned int vector = l->icr_lo & VLAPIC_ICR_VECTOR;

	switch (l->icr_lo & VLAPIC_ICR_DM) {
	case VLAPIC_ICR_DM_FIXED:
	case VLAPIC_ICR_DM_LOWEST:
		/*
		 * SDM 11.5.3: "send illegal vector" is detected by the
		 * sender, whatever the destination, and nothing is sent.
		 * Lowest priority among the one APIC is this APIC.
		 */
		if (vector < FIRST_LEGAL_VECTOR) {
			raise_error(l, VLAPIC_ESR_SEND_ILLEGAL);
			return;
		}
		if (icr_targets_self(l))
			accept_fixed(l, vector);
		return;
	case VLAPIC_ICR_DM_NMI:
		/* NMI bypasses IRR/ISR and ignores the vector (SDM 11.8.4 note). */
		if (icr_targets_self(l))
			l->nmi_pending = true;
		return;
	default:
		/* SMI, INIT, SIPI and reserved modes: not modelled, ignored. */
		return;
	}
}

/*
 * SDM 11.8.5 ("Signaling Interrupt Servicing Completion"): EOI retires
 * the highest-priority in-service vector. Level-triggered vectors would
 * also need an EOI message to the I/O APIC; we only have edge ones.
 */
static void eoi(struct vlapic *l)
{
	int v = vec_highest(l->isr);

	if (v < 0)
		return;
	vec_clear(l->isr, (unsigned int)v);
	vec_clear(l->tmr, (unsigned int)v);
}

static const uint32_t lvt_masks[VLAPIC_NR_LVT] = {
    [VLAPIC_LVT_IDX_TIMER] = VLAPIC_LVT_TIMER_MASK, [VLAPIC_LVT_IDX_THERM] = VLAPIC_LVT_THERM_MASK,
    [VLAPIC_LVT_IDX_PERF] = VLAPIC_LVT_PERF_MASK,   [VLAPIC_LVT_IDX_LINT0] = VLAPIC_LVT_LINT_MASK,
    [VLAPIC_LVT_IDX_LINT1] = VLAPIC_LVT_LINT_MASK,  [VLAPIC_LVT_IDX_ERROR] = VLAPIC_LVT_ERROR_MASK,
};

static void write_lvt(struct vlapic *l, unsigned int idx, uint32_t val)
{
	val &= lvt_masks[idx];
	/* SDM 11.4.7.2: while software-disabled, LVT mask bits cannot be cleared. */
	if (!sw_enabled(l))
		val |= VLAPIC_LVT_MASKED;
	l->lvt[idx] = val;
}

static void write_svr(struct vlapic *l, uint32_t val)
{
	unsigned int i;

	/*
	 * All eight vector bits are writable, as on current processors (P6
	 * and Pentium hard-wired bits 0-3 to 1). EOI-broadcast suppression
	 * (bit 12) needs version bit 24, which we do not offer.
	 */
	l->svr = val & VLAPIC_SVR_MASK;
	/* SDM 11.4.7.2: software disable sets every LVT mask bit. */
	if (!sw_enabled(l))
		for (i = 0; i < VLAPIC_NR_LVT; i++)
			l->lvt[i] |= VLAPIC_LVT_MASKED;
}

void vlapic_init(struct vlapic *l, uint32_t apic_id)
{
	unsigned int i;

	/*
	 * SDM 11.4.7.1 ("Local APIC State After Power-Up or Reset"): IRR,
	 * ISR, TMR, ICR, LDR, TPR, the timer counts and divide configuration
	 * are 0, DFR is all ones, LVT entries only have the mask bit, and SVR
	 * is 0xff (software-disabled).
	 */
	memset(l, 0, sizeof(*l));
	l->id = apic_id & 0xff;
	l->dfr = VLAPIC_DFR_RESET;
	l->svr = VLAPIC_SVR_RESET;
	for (i = 0; i < VLAPIC_NR_LVT; i++)
		l->lvt[i] = VLAPIC_LVT_RESET;
	l->timer_deadline = UINT64_MAX;
}

uint32_t vlapic_read(struct vlapic *l, uint32_t offset, uint64_t now)
{
	vlapic_update_timer(l, now);
	/* The rest of each 16-byte slot holds nothing. */
	if (offset % 0x10)
		return 0;
	switch (offset) {
	case VLAPIC_ID:
		return l->id << 24;
	case VLAPIC_VERSION:
		return VLAPIC_VERSION_VALUE;
	case VLAPIC_TPR:
		return l->tpr;
	case VLAPIC_APR:
		/* Arbitration priority: meaningless with one APIC. */
		return 0;
	case VLAPIC_PPR:
		return ppr(l);
	case VLAPIC_EOI:
		return 0; /* write-only */
	case VLAPIC_RRD:
		return 0; /* remote read is not supported */
	case VLAPIC_LDR:
		return l->ldr;
	case VLAPIC_DFR:
		return l->dfr;
	case VLAPIC_SVR:
		return l->svr;
	case VLAPIC_ISR ... VLAPIC_ISR + 0x70:
		return l->isr[(offset - VLAPIC_ISR) / 0x10];
	case VLAPIC_TMR ... VLAPIC_TMR + 0x70:
		return l->tmr[(offset - VLAPIC_TMR) / 0x10];
	case VLAPIC_IRR ... VLAPIC_IRR + 0x70:
		return l->irr[(offset - VLAPIC_IRR) / 0x10];
	case VLAPIC_ESR:
		return l->esr;
	case VLAPIC_ICR_LO:
		return l->icr_lo;
	case VLAPIC_ICR_HI:
		return l->icr_hi;
	case VLAPIC_LVT_TIMER ... VLAPIC_LVT_ERROR:
		return l->lvt[(offset - VLAPIC_LVT_TIMER) / 0x10];
	case VLAPIC_TIMER_ICR:
		return l->timer_initial;
	case VLAPIC_TIMER_CCR:
		return timer_current(l, now);
	case VLAPIC_TIMER_DCR:
		return l->timer_dcr;
	default:
		/* SDM 11.5.3: an access to a reserved register is an error. */
		raise_error(l, VLAPIC_ESR_ILLEGAL_REG);
		return 0;
	}
}

void vlapic_write(struct vlapic *l, uint32_t offset, uint32_t val, uint64_t now)
{
	vlapic_update_timer(l, now);
	if (offset % 0x10)
		return;
	switch (offset) {
	case VLAPIC_ID:
		/* Read/write in xAPIC mode (SDM Table 11-1); only bits 24-31 exist. */
		l->id = val >> 24;
		break;
	case VLAPIC_TPR:
		l->tpr = val & 0xff;
		break;
	case VLAPIC_EOI:
		eoi(l);
		break;
	case VLAPIC_LDR:
		l->ldr = val & VLAPIC_LDR_MASK;
		break;
	case VLAPIC_DFR:
		/* Only the model bits are writable; bits 0-27 read as ones. */
		l->dfr = (val & VLAPIC_DFR_MODEL) | ~VLAPIC_DFR_MODEL;
		break;
	case VLAPIC_SVR:
		write_svr(l, val);
		break;
	case VLAPIC_ESR:
		/*
		 * SDM 11.5.3: a write (of any value) makes the errors logged
		 * since the previous write readable and starts a new log.
		 */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case VLAPIC_ICR_LO:
		l->icr_lo = val & VLAPIC_ICR_LO_MASK;
		send_ipi(l);
		break;
	case VLAPIC_ICR_HI:
		l->icr_hi = val & VLAPIC_ICR_HI_MASK;
		break;
	case VLAPIC_LVT_TIMER ... VLAPIC_LVT_ERROR:
		write_lvt(l, (offset - VLAPIC_LVT_TIMER) / 0x10, val);
		break;
	case VLAPIC_TIMER_ICR:
		l->timer_initial = val;
		timer_start(l, now);
		break;
	case VLAPIC_TIMER_DCR:
		timer_set_dcr(l, val, now);
		break;
	case VLAPIC_VERSION:
	case VLAPIC_APR:
	case VLAPIC_PPR:
	case VLAPIC_RRD:
	case VLAPIC_ISR ... VLAPIC_ISR + 0x70:
	case VLAPIC_TMR ... VLAPIC_TMR + 0x70:
	case VLAPIC_IRR ... VLAPIC_IRR + 0x70:
	case VLAPIC_TIMER_CCR:
		/* Read-only registers ignore writes. */
		break;
	default:
		raise_error(l, VLAPIC_ESR_ILLEGAL_REG);
		break;
	}
}

/*
 * SDM 11.8.4: the highest-priority IRR vector is dispatched when its class
 * is above the processor priority class.
 */
int vlapic_pending_irq(const struct vlapic *l)
{
	int v;

	if (!sw_enabled(l))
		return -1;
	v = vec_highest(l->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

void vlapic_accept_irq(struct vlapic *l, int vector)
{
	if (vector < 0 || vector >= NR_VECTORS || !vec_test(l->irr, (unsigned int)vector))
		return;
	vec_clear(l->irr, (unsigned int)vector);
	vec_set(l->isr, (unsigned int)vector);
}

bool vlapic_take_nmi(struct vlapic *l)
{
	bool pending = l->nmi_pending;

	l->nmi_pending = false;
	return pending;
}

void vlapic_set_irq(struct vlapic *l, int vector)
{
	if (vector < 0 || vector >= NR_VECTORS)
		return;
	accept_fixed(l, (unsigned int)vector);
}
