/*
 * One virtual CPU of an L1 guest: its VMCB, registers, local APIC and the
 * event state L0 tracks between #VMEXITs.
 */
#ifndef ARCH_X86_SVM_VCPU_H
#define ARCH_X86_SVM_VCPU_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/svm/guest_regs.h"
#include "arch/x86/svm/nested.h"
#include "arch/x86/svm/vmcb.h"
#include "kernel/guest_walk.h"
#include "kernel/loader.h"
#include "kernel/vlapic.h"

struct guest;

/*
 * The translation of the page holding RIP, with the page-table entries it
 * came from: emulating an intercepted instruction needs its bytes, and
 * without NRIPS or decode assists (QEMU TCG) that means a guest page walk
 * on every such exit. Reused only while the entries are unchanged.
 */
struct fetch_cache {
	bool valid;
	uint64_t cr0, cr3, cr4, efer;
	uint8_t cpl;
	uint64_t va_page;
	const uint8_t *page;		    /* host address of the guest page */
	unsigned int nr, esize;		    /* the walk's page-table entries: */
	const void *entry[WALK_MAX_LEVELS]; /* where they are (host addresses) */
	uint64_t value[WALK_MAX_LEVELS];    /* and what they held */
};

struct vcpu {
	struct guest_regs regs;
	struct vmcb *vmcb;
	uint64_t vmcb_pa;
	struct guest *guest;
	struct vlapic lapic;
	uint64_t pending_event;	 /* SVM_EVENT_* to inject at the next VMRUN, 0 if none */
	uint64_t reinject_event; /* an interrupted INTR/NMI to deliver after it */
	bool nmi_masked;	 /* an injected NMI has not seen its IRET yet */
	bool nmi_iret_seen;	 /* IRET intercepted: unmask after the next #VMEXIT */
	bool stopped;
	bool l0_vintr_window; /* V_IRQ/VINTR of the active VMCB is L0's own window request */
	struct fetch_cache fetch;
	struct nested nested;
	uint64_t tsc_aux;
	uint64_t nr_exits;
};

enum vcpu_action { VCPU_RESUME, VCPU_STOP };

/* Builds the VMCB for the multiboot entry state in boot (Multiboot 0.6.96 3.2). */
const char *vcpu_init(struct vcpu *v, struct guest *g, const struct guest_boot *boot);
void vcpu_destroy(struct vcpu *v);
/* Runs the guest until an exit handler stops it. */
void vcpu_run(struct vcpu *v);

/* The intercepts L0 needs in every VMCB it runs, vmcb01 and vmcb02 alike. */
void vcpu_l0_intercepts(struct vmcb_control *c);
/* An EXITINTINFO-format event fit to re-inject (QEMU reports INTR/NMI as type 3). */
uint64_t vcpu_sanitize_event(uint64_t ev);
/* Bits 63:48 copied from bit 47, as VMLOAD does to the bases it loads (APM 15.5.2). */
static inline uint64_t canonical_va(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16);
}

/*
 * L1's global interrupt flag (APM 15.17). With hardware vGIF it lives in
 * vmcb01's V_GIF while L1 runs, where L1's STGI/CLGI flip it without an
 * exit (APM 15.33.2); otherwise, and while L2 runs, in nested.gif.
 */
static inline bool vcpu_gif(const struct vcpu *v)
{
	if (v->nested.vgif && !v->nested.in_l2)
		return v->nested.vmcb01->control.int_ctl & VMCB_INT_CTL_V_GIF;
	return v->nested.gif;
}

static inline void vcpu_set_gif(struct vcpu *v, bool gif)
{
	struct vmcb_control *c = &v->nested.vmcb01->control;

	v->nested.gif = gif;
	if (v->nested.vgif)
		c->int_ctl = (c->int_ctl & ~VMCB_INT_CTL_V_GIF) | (gif ? VMCB_INT_CTL_V_GIF : 0);
}

/* Whether a pending interrupt could be taken now (by L1 or L2): what ends a HLT. */
bool vcpu_irq_can_wake(const struct vcpu *v);

/* For exit handlers. */
void vcpu_skip_insn(struct vcpu *v, unsigned int len);
/* Steps over the emulated instruction at RIP (decoding its length); STOP if it cannot. */
enum vcpu_action vcpu_complete_insn(struct vcpu *v);
/*
 * The same for an exit whose instruction is known (known_insn.h): when the
 * bytes at RIP are exactly its encoding (no prefixes), nothing needs
 * decoding; otherwise the full decoder decides.
 */
struct known_insn;
enum vcpu_action vcpu_complete_known_insn(struct vcpu *v, struct known_insn insn);
void vcpu_inject_exception(struct vcpu *v, unsigned int vector, bool has_error, uint32_t error);
void vcpu_dump(const struct vcpu *v);
/* The guest's RAM and its current paging mode, for software page walks. */
struct guest_ram vcpu_guest_ram(const struct vcpu *v);
struct guest_paging vcpu_paging(const struct vcpu *v);
/* Fetches and decodes the instruction at the guest's RIP; its length, or 0 after stopping the
 * guest. */
struct insn;
unsigned int vcpu_decode_insn(struct vcpu *v, struct insn *insn);
/* Handles the exit recorded in v->vmcb (exits.c). */
enum vcpu_action vcpu_handle_exit(struct vcpu *v);

#endif
