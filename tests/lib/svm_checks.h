/*
 * Helpers for the L1 test hypervisors that probe VMRUN's consistency checks
 * and the attack catalogue (tests/guests/nested_checks.c, nested_attacks.c;
 * shared/spec/nested-svm.md section 1.2, shared/spec/attack-tests.md). They
 * build on tests/lib/svm.h: L2 is a function of the same image.
 *
 * What they add:
 * - a VMRUN that records what a failed VMRUN must leave alone in L1 (RAX,
 *   RSP, RFLAGS, the instruction after VMRUN) and snapshots of the rest of
 *   L1's state (control registers, EFER, DR6/DR7, GDTR/IDTR, selectors);
 * - GIF made visible: a self-IPI held pending across VMRUN shows whether
 *   GIF is 0 afterwards (held while RFLAGS.IF = 1) and is taken once at STGI;
 * - a recorder for the events L2 receives through the shared IDT;
 * - one TAP line for a case where QEMU 7.2 is known to break the APM.
 */
#ifndef TESTS_LIB_SVM_CHECKS_H
#define TESTS_LIB_SVM_CHECKS_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/tap.h"
#include "tests/lib/svm.h"

/* Vectors the helpers use: the GIF probe's self-IPI, the watchdog's timer, the spurious vector. */
#define SVM_CHECKS_IPI_VECTOR	   0x5E
#define SVM_CHECKS_TIMER_VECTOR	   0x5D
#define SVM_CHECKS_SPURIOUS_VECTOR 0xFF

/* Long enough to see an interrupt that should not come (as in l1_lapic). */
#define SVM_CHECKS_QUIET_TSC 20000000ull

/* Written into the exit fields of a VMCB12 before VMRUN, so a field nobody wrote shows. */
#define SVM_CHECKS_POISON 0x5A5A5A5A5A5A5A5Aull

/* The pseudo exit code svm_checks_run_bounded() returns when the budget ran out. */
#define SVM_CHECKS_TIMEOUT 0xDEADull

/* CPUID 8000_0008 EAX[7:0]: the physical-address width. */
unsigned int svm_checks_maxphyaddr(void);
/* CPUID 8000_000A EBX: the number of ASIDs. */
uint32_t svm_checks_nasid(void);

/*
 * svm_vmcb_init() plus what every check VMCB has: intercepts of SHUTDOWN
 * and of #UD, #DF and #PF (so an L2 that goes astray exits instead of
 * running L1's handlers), and the exit fields poisoned.
 */
void svm_checks_vmcb_init(struct l2 *l2, void (*fn)(void));

/*
 * Whether EXITCODE is VMEXIT_INVALID: all 64 bits under nestvisor; bare,
 * bits 31:0 (QEMU 7.2 writes a zero-extended 32-bit -1).
 */
bool svm_checks_exit_invalid(uint64_t code);

/* What svm_checks_vmrun() saw around its VMRUN. */
struct svm_probe {
	uint64_t rax_after;
	uint64_t rsp_before, rsp_after;
	uint64_t rflags_before, rflags_after;
	uint64_t resumed; /* set by the instruction right after VMRUN */
};
extern struct svm_probe svm_probe;

/*
 * VMRUN vmcb once, touching nothing else (no STGI, no register loading):
 * fills svm_probe and returns the VMCB's EXITCODE. Safe whether VMRUN
 * fails or L2 runs and exits: every GPR but RSP and RBP counts as clobbered.
 */
uint64_t svm_checks_vmrun(struct vmcb *vmcb);

/* L1 state that a VMRUN/#VMEXIT pair must leave as it was. */
struct l1_state {
	uint64_t cr0, cr3, cr4, efer, dr6, dr7;
	uint64_t gdtr_base, idtr_base;
	uint16_t gdtr_limit, idtr_limit;
	uint16_t cs, ss, ds, es;
};
void l1_state_take(struct l1_state *s);
/* NULL if equal, else the name of the first field that differs. */
const char *l1_state_diff(const struct l1_state *a, const struct l1_state *b);

/*
 * The failed-VMRUN contract on L1's side (attack-tests.md "INVALID"):
 * VMRUN resumed at the next instruction with RAX = vmcb, RSP and RFLAGS
 * (but for arithmetic flags) and the rest of before unchanged. Returns NULL
 * or the first thing that differs.
 */
const char *svm_checks_l1_intact(const struct vmcb *vmcb, const struct l1_state *before);

/*
 * The GIF probe. Arm: with RFLAGS.IF = 0, send a self-IPI and wait
 * (bounded) until it is pending in IRR; returns false if it never got
 * there. Finish, right after the VMRUN under test: open an interrupt
 * window (IF = 1) with GIF as VMRUN left it, then STGI and wait for the
 * IPI. GIF was 0 iff held_with_if == 0; the IPI must then arrive exactly
 * once after STGI (after_stgi == 1). Leaves GIF = 1, IF = 0.
 */
struct gif_probe {
	bool pending; /* the IPI reached IRR before VMRUN */
	unsigned int held_with_if, after_stgi;
};
void svm_checks_irq_init(void);
bool svm_checks_gif_arm(struct gif_probe *g);
void svm_checks_gif_finish(struct gif_probe *g);
static inline bool svm_checks_gif_was_clear(const struct gif_probe *g)
{
	return g->pending && g->held_with_if == 0 && g->after_stgi == 1;
}

/*
 * Events L2 takes through the shared IDT: the handler counts them and
 * records the last vector, error code (the stubs push 0 where the CPU
 * pushes none) and return RIP. A handler that runs more than limit times
 * bails out (an event storm that should have stopped).
 */
struct l2_events {
	volatile unsigned int count;
	volatile unsigned int vector;
	volatile uint64_t error, rip, cs, rflags;
};
extern struct l2_events l2_events;
void l2_events_reset(void);
void l2_events_install(unsigned int vector);
void l2_events_remove(unsigned int vector);

/*
 * One TAP line for a case where QEMU 7.2 TCG is known to deviate from the
 * APM. apm: the APM outcome was seen; qemu: the known QEMU outcome was
 * seen. Under nestvisor (or if apm): ok iff apm. Bare and qemu: "ok - name
 * # SKIP QEMU deviation: <deviation>". Otherwise not ok. Returns apm.
 */
bool svm_checks_tap(struct tap *tap, bool apm, bool qemu, const char *deviation, const char *fmt,
		    ...) __attribute__((format(printf, 5, 6)));

/*
 * A last resort against an L2 that never exits, for a single VMRUN: arm
 * sets L1's INTR intercept in vmcb, starts a one-shot APIC timer of a
 * couple of seconds and sets RFLAGS.IF (so the VMRUN must come right
 * after); an L2 still running then exits with SVM_EXIT_INTR. Disarm, right
 * after the VMRUN: stops the timer, clears the intercept, takes a pending
 * tick (STGI) and returns whether the timer fired. Leaves GIF = 1, IF = 0.
 */
void svm_checks_watchdog_arm(struct vmcb *vmcb);
bool svm_checks_watchdog_disarm(struct vmcb *vmcb);

/*
 * Runs l2 (svm_run_raw + STGI) until an exit other than a physical
 * interrupt: the APIC timer, in periodic mode, forces an INTR exit every
 * few milliseconds (L1 intercepts INTR and runs L2 with RFLAGS.IF = 1), so
 * an L2 that never exits still ends: after tsc_budget ticks this returns
 * SVM_CHECKS_TIMEOUT. Leaves the timer stopped, the INTR intercept clear,
 * GIF = 1 and IF = 0. Needs svm_checks_irq_init().
 */
uint64_t svm_checks_run_bounded(struct l2 *l2, uint64_t tsc_budget);

#endif
