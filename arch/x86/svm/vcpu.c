/*
 * vCPU set-up, the run loop and event injection. The loop is the only place
 * that enters a guest: inject what is pending, arm the host timer for the
 * next moment L0 must look, VMRUN, then let exits.c decide.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/stacks.h"
#include "arch/x86/svm/known_insn.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vcpu.h"
#include "drivers/lapic.h"
#include "kernel/console.h"
#include "kernel/guest.h"
#include "kernel/guest_walk.h"
#include "kernel/insn_decode.h"
#include "kernel/kstring.h"
#include "kernel/panic.h"
#include "kernel/time.h"

#define MSR_TSC_AUX 0xC0000103u

/* Segment attributes in the VMCB's packed form (APM 15.5.1, Table B-2). */
#define ATTR_CODE32 (SVM_SEG_ATTR_G | SVM_SEG_ATTR_DB | SVM_SEG_ATTR_P | SVM_SEG_ATTR_S | 0xB)
#define ATTR_DATA32 (SVM_SEG_ATTR_G | SVM_SEG_ATTR_DB | SVM_SEG_ATTR_P | SVM_SEG_ATTR_S | 0x3)
#define ATTR_LDT    (SVM_SEG_ATTR_P | 0x2)
#define ATTR_TSS32  (SVM_SEG_ATTR_P | 0xB)
#define PAT_RESET   0x0007040600070406ull /* APM 7.8.2: the power-on PAT */
#define DR6_RESET   0xFFFF0FF0ull
#define DR7_RESET   0x400ull

/*
 * What every L1 guest is intercepted on. INTR/NMI/SMI/INIT: physical events
 * belong to L0. SHUTDOWN: a triple fault must end the guest, not the host.
 * CPUID/MSR/IOIO/HLT: the platform of the guest contract. The SVM
 * instructions: SVM is not offered to L1 yet (#UD). XSETBV/MONITOR/MWAIT:
 * hidden from CPUID, and XCR0 is not switched. #MC is L0's; #AC and #DB are
 * intercepted so that a guest that faults while delivering them cannot
 * wedge the CPU in microcode (CVE-2015-5307, CVE-2015-8104).
 */
static const unsigned int l0_intercepts[] = {
    INTERCEPT_INTR,	    INTERCEPT_NMI,     INTERCEPT_SMI,		INTERCEPT_INIT,
    INTERCEPT_SHUTDOWN,	    INTERCEPT_CPUID,   INTERCEPT_HLT,		INTERCEPT_IOIO_PROT,
    INTERCEPT_MSR_PROT,	    INTERCEPT_INVD,    INTERCEPT_VMRUN,		INTERCEPT_VMMCALL,
    INTERCEPT_VMLOAD,	    INTERCEPT_VMSAVE,  INTERCEPT_STGI,		INTERCEPT_CLGI,
    INTERCEPT_SKINIT,	    INTERCEPT_INVLPGA, INTERCEPT_XSETBV,	INTERCEPT_MONITOR,
    INTERCEPT_MWAIT,	    INTERCEPT_RDPRU,   INTERCEPT_EXCEPTION(18), INTERCEPT_EXCEPTION(17),
    INTERCEPT_EXCEPTION(1),
};

void vcpu_l0_intercepts(struct vmcb_control *c)
{
	/* The list as intercept words, built once: every nested VMRUN ORs them in. */
	static uint32_t words[NR_INTERCEPT_WORDS];
	static bool built;

	if (!built) {
		struct vmcb_control tmp = {0};

		for (unsigned int i = 0; i < sizeof(l0_intercepts) / sizeof(l0_intercepts[0]); i++)
			vmcb_set_intercept(&tmp, l0_intercepts[i]);
		memcpy(words, tmp.intercepts, sizeof(words));
		built = true;
	}
	for (unsigned int i = 0; i < NR_INTERCEPT_WORDS; i++)
		c->intercepts[i] |= words[i];
}

static void set_seg(struct vmcb_seg *seg, uint16_t sel, uint16_t attrib, uint32_t limit)
{
	*seg = (struct vmcb_seg){.selector = sel, .attrib = attrib, .limit = limit, .base = 0};
}

const char *vcpu_init(struct vcpu *v, struct guest *g, const struct guest_boot *boot)
{
	struct vmcb_control *c;
	struct vmcb_save *s;
	const char *err;

	memset(v, 0, sizeof(*v));
	v->guest = g;
	v->vmcb_pa = pmm_alloc(g->pmm, 1, PAGE_SIZE);
	if (!v->vmcb_pa)
		return "out of memory for the VMCB";
	v->vmcb = pmm_virt(g->pmm, v->vmcb_pa);
	c = &v->vmcb->control;
	s = &v->vmcb->save;

	vcpu_l0_intercepts(c);
	c->iopm_base_pa = svm_host.iopm_pa;
	c->msrpm_base_pa = svm_host.msrpm_pa;
	c->asid = g->asid;
	/* The ASID may have served an earlier guest. */
	c->tlb_control = svm_tlb_flush_guest();
	/* APM 15.21.1: physical interrupts follow the host's IF, not the guest's. */
	c->int_ctl = VMCB_INT_CTL_V_INTR_MASKING;
	c->misc_ctl = VMCB_MISC_NP_ENABLE;
	c->n_cr3 = g->npt_root;

	/* Multiboot 0.6.96 3.2: flat 32-bit protected mode, paging off. */
	set_seg(&s->cs, 0x08, ATTR_CODE32, 0xFFFFFFFF);
	set_seg(&s->ds, 0x10, ATTR_DATA32, 0xFFFFFFFF);
	s->es = s->ss = s->fs = s->gs = s->ds;
	set_seg(&s->ldtr, 0, ATTR_LDT, 0);
	set_seg(&s->tr, 0, ATTR_TSS32, 0xFFFF);
	s->gdtr.limit = 0xFFFF;
	s->idtr.limit = 0xFFFF;
	s->cr0 = CR0_PE | CR0_ET;
	/* APM 15.5.1: VMRUN fails unless the guest's EFER.SVME is 1; msr.c hides it. */
	s->efer = EFER_SVME;
	s->dr6 = DR6_RESET;
	s->dr7 = DR7_RESET;
	s->rflags = 2;
	s->rip = boot->entry;
	s->g_pat = PAT_RESET;
	v->regs.gpr[GPR_RAX] = boot->magic;
	v->regs.gpr[GPR_RBX] = boot->info;
	vlapic_init(&v->lapic, 0);
	err = nested_init(v);
	if (!err)
		nested_svme_changed(v);
	return err;
}

void vcpu_destroy(struct vcpu *v)
{
	uint64_t vmcb01_pa = v->nested.vmcb01_pa ? v->nested.vmcb01_pa : v->vmcb_pa;

	nested_destroy(v);
	if (vmcb01_pa)
		pmm_free(v->guest->pmm, vmcb01_pa, 1);
	v->vmcb = 0;
	v->vmcb_pa = 0;
}

/* APM 8.2.9: #DE, #TS, #NP, #SS and #GP are the contributory exceptions. */
static bool contributory(unsigned int vector)
{
	return vector == EXC_DE || (vector >= EXC_TS && vector <= EXC_GP);
}

/*
 * An exception L0 gives the guest, merged with an event whose delivery the
 * exit interrupted (EXITINTINFO) as the CPU would have (APM 8.2.9, 8.4.4):
 * a contributory fault or #PF during a contributory or #PF delivery is
 * #DF, anything during #DF delivery is a shutdown, otherwise the new
 * exception goes first and an interrupted INTR or NMI is delivered after.
 */
void vcpu_inject_exception(struct vcpu *v, unsigned int vector, bool has_error, uint32_t error)
{
	uint64_t prev = v->vmcb->control.exit_int_info;
	unsigned int pv = svm_event_vector(prev);

	if (prev & SVM_EVENT_VALID) {
		v->vmcb->control.exit_int_info = 0;
		if (svm_event_type(prev) != SVM_EVENT_TYPE_EXCEPTION) {
			if (svm_event_type(prev) != SVM_EVENT_TYPE_SOFT)
				v->reinject_event = vcpu_sanitize_event(prev);
		} else if (pv == EXC_DF) {
			guest_stop(v->guest, GUEST_SHUTDOWN,
				   "shutdown (triple fault): #%s while delivering #DF",
				   exception_mnemonic(vector) + 1);
			return;
		} else if ((contributory(pv) && contributory(vector)) ||
			   (pv == EXC_PF && (contributory(vector) || vector == EXC_PF))) {
			vector = EXC_DF;
			has_error = true;
			error = 0;
		}
	}
	/*
	 * An exception L0 raises in L2 on L1's behalf is L1's to see first if
	 * it intercepts that vector (APM 15.12, spec 4.1).
	 */
	if (v->nested.in_l2 && nested_l1_intercepts(v, INTERCEPT_EXCEPTION(vector))) {
		nested_vmexit(v, SVM_EXIT_EXCP_BASE + vector, has_error ? error : 0,
			      vector == EXC_PF ? v->vmcb->save.cr2 : 0);
		return;
	}
	v->pending_event = svm_event(vector, SVM_EVENT_TYPE_EXCEPTION, has_error, error);
}

void vcpu_skip_insn(struct vcpu *v, unsigned int len)
{
	v->vmcb->save.rip += len;
	/* The emulated instruction completed: any STI/MOV SS shadow ended with it. */
	v->vmcb->control.int_state &= ~VMCB_INT_STATE_SHADOW;
}

enum vcpu_action __attribute__((noinline)) vcpu_complete_insn(struct vcpu *v)
{
	struct insn insn;
	unsigned int len = vcpu_decode_insn(v, &insn);

	if (!len)
		return VCPU_STOP;
	vcpu_skip_insn(v, len);
	return VCPU_RESUME;
}

static enum cpu_mode cpu_mode(const struct vmcb_save *s)
{
	if ((s->efer & EFER_LMA) && (s->cs.attrib & SVM_SEG_ATTR_L))
		return MODE_LONG64;
	if (!(s->cr0 & CR0_PE))
		return MODE_REAL16;
	return (s->cs.attrib & SVM_SEG_ATTR_DB) ? MODE_PROT32 : MODE_PROT16;
}

struct guest_ram vcpu_guest_ram(const struct vcpu *v)
{
	return (struct guest_ram){pmm_virt(v->guest->pmm, v->guest->ram_pa), v->guest->ram_size};
}

struct guest_paging vcpu_paging(const struct vcpu *v)
{
	const struct vmcb_save *s = &v->vmcb->save;

	/* The guest sees the host's physical-address width (CPUID 8000_0008 EAX[7:0]). */
	return (struct guest_paging){s->cr0, s->cr3, s->cr4, s->efer, svm_host.phys_addr_bits};
}

static uint64_t rip_linear(const struct vmcb_save *s)
{
	uint64_t rip = s->cs.base + s->rip;

	return (s->efer & EFER_LMA) && (s->cs.attrib & SVM_SEG_ATTR_L) ? rip : (uint32_t)rip;
}

static unsigned int fetch_access(const struct vmcb_save *s)
{
	return WALK_FETCH | (s->cpl == 3 ? WALK_USER : 0);
}

/* Whether the page-table entries behind the cached translation are unchanged. */
static bool fetch_cache_entries_valid(const struct fetch_cache *fc)
{
	unsigned int i;

	if (fc->esize == 8) {
		for (i = 0; i < fc->nr; i++)
			if (*(const uint64_t *)fc->entry[i] != fc->value[i])
				return false;
		return true;
	}
	for (i = 0; i < fc->nr; i++)
		if (*(const uint32_t *)fc->entry[i] != fc->value[i])
			return false;
	return true;
}

static bool __attribute__((noinline)) fetch_cache_fill(struct vcpu *v, uint64_t page)
{
	const struct vmcb_save *s = &v->vmcb->save;
	struct fetch_cache *fc = &v->fetch;
	struct guest_ram ram = vcpu_guest_ram(v);
	struct guest_paging pg = vcpu_paging(v);
	struct walk_trace trace;
	struct walk_result w = guest_walk_traced(&ram, &pg, page, fetch_access(s), &trace);

	fc->valid = w.status == WALK_OK && w.gpa < ram.size && ram.size - w.gpa >= PAGE_SIZE;
	if (!fc->valid)
		return false;
	fc->cr0 = s->cr0;
	fc->cr3 = s->cr3;
	fc->cr4 = s->cr4;
	fc->efer = s->efer;
	fc->cpl = s->cpl;
	fc->va_page = page;
	fc->page = ram.base + w.gpa;
	fc->nr = trace.nr;
	fc->esize = trace.esize;
	/* A completed walk read every entry from RAM, so these pointers are in bounds. */
	for (unsigned int i = 0; i < trace.nr; i++) {
		fc->entry[i] = ram.base + trace.gpa[i];
		fc->value[i] = trace.entry[i];
	}
	return true;
}

/*
 * Host pointer to the len bytes at RIP when they lie in one page of RAM
 * whose translation is cached (or can be cached now); NULL otherwise.
 */
static const uint8_t *fetch_fast(struct vcpu *v, unsigned int len)
{
	const struct vmcb_save *s = &v->vmcb->save;
	struct fetch_cache *fc = &v->fetch;
	uint64_t rip = rip_linear(s);
	uint64_t page = rip & ~(PAGE_SIZE - 1);

	if ((rip & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
		return 0;
	if (!fc->valid || fc->va_page != page || fc->cr3 != s->cr3 || fc->cr0 != s->cr0 ||
	    fc->cr4 != s->cr4 || fc->efer != s->efer || fc->cpl != s->cpl ||
	    !fetch_cache_entries_valid(fc)) {
		if (!fetch_cache_fill(v, page))
			return 0;
	}
	return fc->page + (rip & (PAGE_SIZE - 1));
}

enum vcpu_action vcpu_complete_known_insn(struct vcpu *v, struct known_insn insn)
{
	uint32_t mask = insn.len >= 4 ? ~0u : (1u << (8 * insn.len)) - 1;
	const uint8_t *p;
	uint32_t have;

	/* APM 15.7.1: with NRIPS the CPU saves the next RIP of an intercepted instruction. */
	if ((svm_host.caps.features & SVM_FEAT_NRIPS) && v->vmcb->control.next_rip) {
		v->vmcb->save.rip = v->vmcb->control.next_rip;
		v->vmcb->control.int_state &= ~VMCB_INT_STATE_SHADOW;
		return VCPU_RESUME;
	}
	/* One 4-byte compare (the page must hold 4 bytes; else the slow path). */
	p = fetch_fast(v, sizeof(have));
	if (p) {
		__builtin_memcpy(&have, p, sizeof(have));
		if ((have & mask) == insn.bytes) {
			vcpu_skip_insn(v, insn.len);
			return VCPU_RESUME;
		}
	}
	return vcpu_complete_insn(v);
}

unsigned int vcpu_decode_insn(struct vcpu *v, struct insn *insn)
{
	const struct vmcb_save *s = &v->vmcb->save;
	struct guest_ram ram = vcpu_guest_ram(v);
	struct guest_paging pg = vcpu_paging(v);
	uint64_t rip = rip_linear(s);
	uint8_t bytes[INSN_MAX_LEN];
	const uint8_t *fast = fetch_fast(v, INSN_MAX_LEN);
	unsigned int avail = sizeof(bytes);

	/* APM 15 "Decode Assists": an NPF exit then carries the bytes it fetched. */
	if ((svm_host.caps.features & SVM_FEAT_DECODE_ASSISTS) &&
	    v->vmcb->control.exit_code == SVM_EXIT_NPF && v->vmcb->control.insn_len) {
		avail = v->vmcb->control.insn_len < sizeof(bytes) ? v->vmcb->control.insn_len
								  : sizeof(bytes);
		memcpy(bytes, v->vmcb->control.insn_bytes, avail);
	} else if (fast) {
		memcpy(bytes, fast, sizeof(bytes));
	} else {
		struct walk_result w =
		    guest_read_virt(&ram, &pg, rip, bytes, sizeof(bytes), fetch_access(s));

		/* The instruction may end before an unmapped page: decode what could be read. */
		if (w.status != WALK_OK)
			avail = (unsigned int)(w.fault_va - rip);
	}
	if (insn_decode(bytes, avail, cpu_mode(s), insn) == 0)
		return insn->len;
	guest_stop(v->guest, GUEST_STOPPED,
		   "cannot decode the instruction at rip 0x%lx (%u bytes readable)", s->rip, avail);
	return 0;
}

/* APM 15.7.2: QEMU reports an interrupted INTR or NMI as type 3; fix the type. */
uint64_t vcpu_sanitize_event(uint64_t ev)
{
	unsigned int vector = svm_event_vector(ev);

	if (svm_event_type(ev) == SVM_EVENT_TYPE_EXCEPTION && vector == 2)
		return svm_event(2, SVM_EVENT_TYPE_NMI, false, 0);
	if (svm_event_type(ev) == SVM_EVENT_TYPE_EXCEPTION && vector >= 32)
		return svm_event(vector, SVM_EVENT_TYPE_INTR, false, 0);
	return ev;
}

/*
 * Whether an interrupt for L1 can be taken now. In L2, L1 sees it through
 * #VMEXIT(INTR) when it intercepts INTR: with V_INTR_MASKING its own IF as
 * saved at VMRUN counts, else L2's (APM 15.21.1, spec 4.4); the interrupt
 * shadow does not hold the exit back. Otherwise it goes to whichever guest
 * runs, through its IDT, when its IF is set and no shadow is active.
 */
static bool irq_window_open(const struct vcpu *v, bool *as_vmexit)
{
	const struct vmcb *vmcb = v->vmcb;
	const struct nested *n = &v->nested;
	bool shadow = vmcb->control.int_state & VMCB_INT_STATE_SHADOW;

	*as_vmexit = n->in_l2 && nested_l1_intercepts(v, INTERCEPT_INTR);
	if (*as_vmexit && (n->cache.int_ctl & VMCB_INT_CTL_V_INTR_MASKING))
		return n->vmcb01->save.rflags & RFLAGS_IF;
	return (vmcb->save.rflags & RFLAGS_IF) && (*as_vmexit || !shadow);
}

bool vcpu_irq_can_wake(const struct vcpu *v)
{
	bool as_vmexit;

	return vcpu_gif(v) && vlapic_pending_irq(&v->lapic) >= 0 && irq_window_open(v, &as_vmexit);
}

static void request_irq_window(struct vcpu *v, int vector)
{
	struct vmcb_control *c = &v->vmcb->control;

	/*
	 * APM 15.21.4: a virtual interrupt request with the VINTR intercept
	 * exits as soon as the guest can take an interrupt; then it is injected.
	 */
	c->int_ctl |= VMCB_INT_CTL_V_IRQ | VMCB_INT_CTL_V_IGN_TPR | VMCB_INT_CTL_V_INTR_PRIO_MASK;
	c->int_vector = (uint32_t)vector;
	vmcb_set_intercept(c, INTERCEPT_VINTR);
	v->l0_vintr_window = true;
}

static void clear_irq_window(struct vcpu *v)
{
	struct vmcb_control *c = &v->vmcb->control;

	if (!v->l0_vintr_window)
		return;
	c->int_ctl &=
	    ~(VMCB_INT_CTL_V_IRQ | VMCB_INT_CTL_V_IGN_TPR | VMCB_INT_CTL_V_INTR_PRIO_MASK);
	/* L1's own V_IRQ request for L2 stays as L1 set it. */
	if (v->nested.in_l2)
		c->int_ctl |=
		    v->nested.cache.int_ctl &
		    (VMCB_INT_CTL_V_IRQ | VMCB_INT_CTL_V_IGN_TPR | VMCB_INT_CTL_V_INTR_PRIO_MASK);
	if (!v->nested.in_l2 || !nested_l1_intercepts(v, INTERCEPT_VINTR))
		vmcb_clear_intercept(c, INTERCEPT_VINTR);
	v->l0_vintr_window = false;
}

static void inject_events(struct vcpu *v)
{
	struct vmcb_control *c = &v->vmcb->control;
	bool shadow = c->int_state & VMCB_INT_STATE_SHADOW;
	bool as_vmexit;
	int vector;

	c->event_inj = 0;
	/* Most exits have nothing to deliver: keep their path short. */
	if (!(c->exit_int_info & SVM_EVENT_VALID) && !v->pending_event && !v->reinject_event &&
	    !v->lapic.nmi_pending && !v->l0_vintr_window &&
	    (!vlapic_sw_enabled(&v->lapic) || vlapic_pending_irq(&v->lapic) < 0))
		return;
	clear_irq_window(v);

	/*
	 * APM 15.7.2: an event whose delivery the #VMEXIT interrupted is
	 * redelivered first. A software interrupt is not: without NRIPS, RIP
	 * still points at the INTn, which simply executes again.
	 */
	if ((c->exit_int_info & SVM_EVENT_VALID) &&
	    svm_event_type(c->exit_int_info) != SVM_EVENT_TYPE_SOFT) {
		c->event_inj = vcpu_sanitize_event(c->exit_int_info);
		c->exit_int_info = 0;
		return;
	}
	if (v->pending_event) {
		c->event_inj = v->pending_event;
		v->pending_event = 0;
		return;
	}
	if (v->reinject_event) {
		c->event_inj = v->reinject_event;
		v->reinject_event = 0;
		return;
	}
	/* APM 15.17: while GIF is 0, NMIs and interrupts stay pending. */
	if (!vcpu_gif(v)) {
		/*
		 * With vGIF, L1's STGI does not exit: V_IRQ waits for V_GIF and
		 * IF (the VINTR exit comes right after STGI), and an NMI needs
		 * the STGI intercept to see the window (APM 15.33.2).
		 */
		if (nested_hw_vgif() && !v->nested.in_l2) {
			if (v->lapic.nmi_pending)
				vmcb_set_intercept(c, INTERCEPT_STGI);
			vector = vlapic_pending_irq(&v->lapic);
			if (vector >= 0)
				request_irq_window(v, vector);
		}
		return;
	}
	if (v->lapic.nmi_pending) {
		if (v->nested.in_l2 && nested_l1_intercepts(v, INTERCEPT_NMI)) {
			nested_vmexit(v, SVM_EXIT_NMI, 0, 0);
			return;
		}
		if (!v->nmi_masked && !shadow) {
			vlapic_take_nmi(&v->lapic);
			c->event_inj = svm_event(2, SVM_EVENT_TYPE_NMI, false, 0);
			/* NMIs stay blocked until the handler's IRET (APM 15.20). */
			v->nmi_masked = true;
			vmcb_set_intercept(c, INTERCEPT_IRET);
			return;
		}
	}
	vector = vlapic_pending_irq(&v->lapic);
	if (vector < 0)
		return;
	if (irq_window_open(v, &as_vmexit)) {
		if (as_vmexit) {
			/* The interrupt stays pending in L1's APIC (APM 15.21.1). */
			nested_vmexit(v, SVM_EXIT_INTR, 0, 0);
			return;
		}
		c->event_inj = svm_event((unsigned int)vector, SVM_EVENT_TYPE_INTR, false, 0);
		vlapic_accept_irq(&v->lapic, vector);
		return;
	}
	request_irq_window(v, vector);
}

/* The host timer fires when L0 must look again: the budget or a virtual timer. */
static void arm_host_timer(struct vcpu *v, uint64_t now)
{
	uint64_t until = v->guest->deadline_tsc;
	uint64_t timer = vlapic_timer_deadline(&v->lapic);

	if (timer < until)
		until = timer;
	if (until != lapic_armed_deadline)
		lapic_timer_arm_at(until, now);
}

/*
 * QEMU TCG can hand back host CR0 without PG after a guest ran with
 * EFER.LME=1 and paging off (shared/spec/nested-svm.md); hardware never
 * does, so this costs three compares there.
 */
static void restore_host_mode(void)
{
	if (read_cr0() != svm_host.host_cr0)
		write_cr0(svm_host.host_cr0);
	if (read_cr4() != svm_host.host_cr4)
		write_cr4(svm_host.host_cr4);
	if (rdmsr(MSR_EFER) != svm_host.host_efer)
		wrmsr(MSR_EFER, svm_host.host_efer);
}

void vcpu_run(struct vcpu *v)
{
	struct guest *g = v->guest;

	wrmsr(MSR_TSC_AUX, v->tsc_aux);
	while (!v->stopped) {
		uint64_t now = rdtsc();
		struct vmcb *vmcb;

		if (v->lapic.timer_armed && now >= v->lapic.timer_deadline)
			vlapic_update_timer(&v->lapic, now);
		if (now >= g->deadline_tsc) {
			guest_stop(g, GUEST_TIMEOUT, "ran past its budget of %lu ms",
				   tsc_to_ms(g->deadline_tsc - g->start_tsc));
			break;
		}
		inject_events(v);
		arm_host_timer(v, now);
		/* Injection may have switched to L1 with a #VMEXIT: use what is active now. */
		vmcb = v->vmcb;
		vmcb->save.rax = v->regs.gpr[GPR_RAX];
		vmcb->save.rsp = v->regs.gpr[GPR_RSP];

		svm_world_switch(&v->regs, v->vmcb_pa, svm_host.host_state_pa);

		restore_host_mode();
		/* STYLE H20: the world switch must leave L0's stack as it found it. */
		if (!stack_canary_intact())
			panic("boot stack canary clobbered after a #VMEXIT of %s", g->name);
		v->regs.gpr[GPR_RAX] = vmcb->save.rax;
		v->regs.gpr[GPR_RSP] = vmcb->save.rsp;
		vmcb->control.tlb_control = VMCB_TLB_CONTROL_DO_NOTHING;
		v->nr_exits++;
		if (v->nmi_iret_seen) {
			v->nmi_masked = false;
			v->nmi_iret_seen = false;
		}
		if (vcpu_handle_exit(v) == VCPU_STOP)
			break;
	}
	lapic_timer_stop();
}

static void dump_seg(const char *name, const struct vmcb_seg *s)
{
	kprintf("  %-4s sel=%04x attr=%03x limit=%08x base=%016lx\n", name, s->selector, s->attrib,
		s->limit, s->base);
}

void vcpu_dump(const struct vcpu *v)
{
	const struct vmcb_control *c = &v->vmcb->control;
	const struct vmcb_save *s = &v->vmcb->save;

	kprintf("  exit_code=0x%lx (%s) info1=0x%lx info2=0x%lx exit_int_info=0x%lx\n",
		c->exit_code, svm_exit_name(c->exit_code) ? svm_exit_name(c->exit_code) : "unnamed",
		c->exit_info1, c->exit_info2, c->exit_int_info);
	kprintf("  intercepts=%08x %08x %08x %08x %08x %08x\n", c->intercepts[0], c->intercepts[1],
		c->intercepts[2], c->intercepts[3], c->intercepts[4], c->intercepts[5]);
	kprintf("  asid=%u tlb=%u int_ctl=%08x int_vector=%02x int_state=%lx event_inj=%lx\n",
		c->asid, c->tlb_control, c->int_ctl, c->int_vector, c->int_state, c->event_inj);
	kprintf("  misc=%lx n_cr3=%lx iopm=%lx msrpm=%lx\n", c->misc_ctl, c->n_cr3, c->iopm_base_pa,
		c->msrpm_base_pa);
	kprintf("  rip=%016lx rsp=%016lx rflags=%016lx rax=%016lx cpl=%u\n", s->rip, s->rsp,
		s->rflags, s->rax, s->cpl);
	kprintf("  cr0=%lx cr2=%lx cr3=%lx cr4=%lx efer=%lx dr6=%lx dr7=%lx\n", s->cr0, s->cr2,
		s->cr3, s->cr4, s->efer, s->dr6, s->dr7);
	dump_seg("cs", &s->cs);
	dump_seg("ss", &s->ss);
	dump_seg("ds", &s->ds);
	dump_seg("tr", &s->tr);
	dump_seg("gdtr", &s->gdtr);
	dump_seg("idtr", &s->idtr);
}
