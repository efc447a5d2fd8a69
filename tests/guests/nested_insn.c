/*
 * nested_insn: instruction-level faults of the SVM instructions in L1,
 * raised before any VMCB is touched (APM vol. 2 15.4 "Enabling SVM", 15.5.1
 * "VMRUN", 15.5.2 "VMSAVE and VMLOAD", 15.17 "Global Interrupt Flag",
 * 15.27 "SKINIT"; vol. 3 instruction pages; nested-svm.md 1.1 and
 * decision 3):
 *  - EFER.SVME = 0: VMRUN, VMLOAD, VMSAVE, CLGI, STGI, INVLPGA raise #UD
 *    (STGI and CLGI only when neither SVML nor SKINIT is offered);
 *  - SKINIT raises #UD where CPUID does not offer it;
 *  - CPL 3: #GP(0), but #UD first when EFER.SVME = 0;
 *  - rAX of VMRUN, VMLOAD, VMSAVE not 4 KiB aligned or at or above
 *    2^MAXPHYADDR: #GP(0);
 *  - nestvisor only: rAX legal but not guest RAM: #GP(0) (decision 3);
 *  - WRMSR VM_HSAVE_PA unaligned or beyond MAXPHYADDR: #GP (APM 15.30.4);
 *    VM_HSAVE_PA = 0 is no fault, not even at VMRUN (decision 3).
 */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "kernel/console.h"
#include "kernel/kprintf.h"
#include "kernel/kstring.h"
#include "tests/lib/fault.h"
#include "tests/lib/guest.h"
#include "tests/lib/svm.h"
#include "tests/lib/svm_test.h"

#define CPUID1_ECX_HYPERVISOR (1u << 31)
/* An address outside guest RAM under nestvisor: the IOAPIC, which nestvisor does not emulate. */
#define NOT_RAM_PA 0xFEC00000ull
#define PAGE_SIZE  4096

/* One probe per SVM instruction; rax is its rAX operand. */
typedef uint32_t (*probe_fn)(uint64_t rax);

static uint32_t probe_vmrun(uint64_t rax)
{
	return vmrun_safe(rax);
}

static uint32_t probe_vmload(uint64_t rax)
{
	return vmload_safe(rax);
}

static uint32_t probe_vmsave(uint64_t rax)
{
	return vmsave_safe(rax);
}

static uint32_t probe_stgi(uint64_t rax)
{
	(void)rax;
	return stgi_safe();
}

static uint32_t probe_clgi(uint64_t rax)
{
	(void)rax;
	return clgi_safe();
}

static uint32_t probe_invlpga(uint64_t rax)
{
	return invlpga_safe(rax, 1);
}

static uint32_t probe_skinit(uint64_t rax)
{
	return skinit_safe((uint32_t)rax);
}

enum insn_id { VMRUN, VMLOAD, VMSAVE, STGI, CLGI, INVLPGA, SKINIT, NR_INSNS };

static const struct {
	const char *name;
	probe_fn fn;
} insns[NR_INSNS] = {
    [VMRUN] = {"VMRUN", probe_vmrun},	 [VMLOAD] = {"VMLOAD", probe_vmload},
    [VMSAVE] = {"VMSAVE", probe_vmsave}, [STGI] = {"STGI", probe_stgi},
    [CLGI] = {"CLGI", probe_clgi},	 [INVLPGA] = {"INVLPGA", probe_invlpga},
    [SKINIT] = {"SKINIT", probe_skinit},
};

/* A zeroed VMCB page (and room past it for the unaligned probes), L1's own VMSAVE image. */
static uint8_t scratch[3 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static struct vmcb l1_state;
static uint8_t page0_copy[PAGE_SIZE];
static struct l2 l2;
static uint64_t probe_rax;
static bool skinit_offered;

struct outcome {
	int vector;	  /* -1: no fault */
	uint64_t error;	  /* error code of that fault, if it has one */
	unsigned int cpl; /* CPL the fault was raised at */
};

/* Runs at CPL 3: the probe idx with rAX = probe_rax. */
static uint64_t user_probe(uint64_t idx)
{
	return insns[idx].fn(probe_rax);
}

static bool svme_on(void)
{
	return rdmsr(MSR_EFER) & EFER_SVME;
}

/*
 * Physical page 0 is where an implementation that skips the rAX checks
 * (older QEMU versions) reads and writes a VMCB at
 * rAX = 2^64 - 1, addresses wrapping: zero it around such a probe so that
 * a VMRUN there fails its consistency checks instead of running garbage,
 * and put it back after.
 */
static volatile uintptr_t page0_va; /* 0; volatile so that it is not a known null pointer */

static void page0_stash(void)
{
	volatile uint8_t *p0 = (volatile uint8_t *)page0_va;

	for (unsigned int i = 0; i < PAGE_SIZE; i++) {
		page0_copy[i] = p0[i];
		p0[i] = 0;
	}
}

static void page0_restore(void)
{
	volatile uint8_t *p0 = (volatile uint8_t *)page0_va;

	for (unsigned int i = 0; i < PAGE_SIZE; i++)
		p0[i] = page0_copy[i];
}

static struct outcome probe(enum insn_id id, uint64_t rax, bool user)
{
	struct outcome o;
	struct exc_record r;
	uint32_t fault;
	bool svme = svme_on();

	exc_record_reset(EXC_GP);
	exc_record_reset(EXC_UD);
	memset(scratch, 0, sizeof(scratch));
	probe_rax = rax;
	if (user)
		fault = (uint32_t)cpl3_call(user_probe, id);
	else
		fault = insns[id].fn(rax);
	/*
	 * Undo whatever an instruction that did not fault may have done: a
	 * VMLOAD replaced L1's FS/GS/TR/LDTR and MSRs, a VMRUN that failed its
	 * checks or CLGI left GIF = 0.
	 */
	if (svme) {
		vmload_safe((uint64_t)&l1_state);
		stgi_safe();
	}
	o.vector = fault_vector(fault);
	r = exc_record_get(o.vector < 0 ? EXC_GP : (unsigned int)o.vector);
	o.error = r.error;
	o.cpl = r.cpl;
	return o;
}

static bool is_ud(struct outcome o)
{
	return o.vector == EXC_UD;
}

static bool is_gp0(struct outcome o, unsigned int cpl)
{
	return o.vector == EXC_GP && o.error == 0 && o.cpl == cpl;
}

static void explain(struct outcome o)
{
	if (o.vector < 0)
		kprintf("# no fault\n");
	else
		kprintf("# vector %d, error 0x%lx, at CPL %u\n", o.vector, o.error, o.cpl);
}

/* APM 15.4: with EFER.SVME = 0 the SVM instructions are undefined. */
static void test_svme_off(struct tap *tap)
{
	/* APM vol. 3 CLGI, STGI: #UD with SVME = 0 only if neither SVML nor SKINIT exists. */
	bool gif_insns_ud = !skinit_offered && !(cpuid(0x8000000Au, 0).edx & CPUID_SVM_EDX_SVML);

	svm_disable();
	for (unsigned int id = 0; id < NR_INSNS; id++) {
		struct outcome o;
		bool want_ud = (id != STGI && id != CLGI) || gif_insns_ud;

		if (id == SKINIT && skinit_offered) {
			tap_skip(tap, "CPUID offers SKINIT", "EFER.SVME=0: SKINIT raises #UD");
			continue;
		}
		o = probe(id, (uint64_t)scratch, false);
		if (id == CLGI && o.vector < 0)
			stgi_safe();
		if (!tap_check(tap, want_ud ? is_ud(o) : o.vector < 0, "EFER.SVME=0: %s %s",
			       insns[id].name, want_ud ? "raises #UD" : "executes (SVML/SKINIT)"))
			explain(o);
	}
	/* APM 15.4: SVME is checked before the privilege level. */
	if (!cpl3_init())
		guest_bail_out("cannot run at CPL 3");
	{
		struct outcome o = probe(VMRUN, (uint64_t)scratch, true);

		if (!tap_check(tap, is_ud(o) && o.cpl == 3,
			       "EFER.SVME=0 at CPL 3: VMRUN raises #UD, not #GP"))
			explain(o);
	}
	if (!svm_enable())
		guest_bail_out("EFER.SVME does not set again");
}

/* SKINIT is not offered by CPUID: it is an undefined opcode even with SVME = 1. */
static void test_skinit(struct tap *tap)
{
	struct outcome o;

	if (skinit_offered) {
		tap_skip(tap, "CPUID offers SKINIT",
			 "EFER.SVME=1: SKINIT raises #UD (not in CPUID)");
		tap_skip(tap, "CPUID offers SKINIT", "CPL 3: SKINIT raises #UD (not in CPUID)");
		return;
	}
	o = probe(SKINIT, 0, false);
	if (!tap_check(tap, is_ud(o), "EFER.SVME=1: SKINIT raises #UD (not in CPUID)"))
		explain(o);
	o = probe(SKINIT, 0, true);
	if (!tap_check(tap, is_ud(o), "CPL 3: SKINIT raises #UD (not in CPUID)"))
		explain(o);
}

/* The instructions work at CPL 0 with SVME = 1: the faults below are not the environment's. */
static void test_cpl0_control(struct tap *tap)
{
	static const enum insn_id ok_insns[] = {VMSAVE, VMLOAD, CLGI, STGI, INVLPGA};
	bool ok = true;

	vmsave_safe((uint64_t)&l1_state);
	for (unsigned int i = 0; i < ARRAY_SIZE(ok_insns); i++) {
		enum insn_id id = ok_insns[i];
		/* VMLOAD and VMSAVE on L1's own image; INVLPGA of some page in ASID 1. */
		uint64_t rax = id == INVLPGA ? (uint64_t)scratch : (uint64_t)&l1_state;
		struct outcome o = probe(id, rax, false);

		if (o.vector >= 0) {
			kprintf("# %s: ", insns[id].name);
			explain(o);
			ok = false;
		}
	}
	tap_check(tap, ok, "CPL 0, EFER.SVME=1: VMSAVE, VMLOAD, CLGI, STGI, INVLPGA do not fault");
}

/* APM vol. 3, each SVM instruction: "#GP(0): CPL was not zero". */
static void test_cpl3(struct tap *tap)
{
	for (unsigned int id = 0; id < NR_INSNS; id++) {
		struct outcome o;

		if (id == SKINIT)
			continue;
		o = probe(id, (uint64_t)scratch, true);
		if (!tap_check(tap, is_gp0(o, 3), "CPL 3, EFER.SVME=1: %s raises #GP(0)",
			       insns[id].name))
			explain(o);
	}
}

/*
 * APM 15.5.1 (VMRUN) and vol. 3 VMLOAD/VMSAVE: "#GP(0): the address in rAX
 * is not aligned on a 4 KiB boundary, or is beyond the supported physical
 * address range". (The QEMU 7.2 we run checks both; older QEMU did not.)
 */
static void test_rax(struct tap *tap)
{
	static const enum insn_id vmcb_insns[] = {VMRUN, VMLOAD, VMSAVE};
	unsigned int maxphy = cpu_maxphyaddr();
	const struct {
		const char *what;
		uint64_t rax;
	} bad[] = {
	    {"rAX = VMCB + 1 (unaligned)", (uint64_t)scratch + 1},
	    {"rAX = VMCB + 0x800 (unaligned)", (uint64_t)scratch + 0x800},
	    {"rAX = 2^MAXPHYADDR", 1ull << maxphy},
	    {"rAX = 2^64 - 1", ~0ull},
	};

	kprintf("# MAXPHYADDR %u\n", maxphy);
	for (unsigned int b = 0; b < ARRAY_SIZE(bad); b++) {
		for (unsigned int i = 0; i < ARRAY_SIZE(vmcb_insns); i++) {
			enum insn_id id = vmcb_insns[i];
			struct outcome o;

			page0_stash();
			o = probe(id, bad[b].rax, false);
			page0_restore();
			if (!tap_apm(tap, is_gp0(o, 0), o.vector < 0,
				     "rAX not checked (APM 15.5.1, vol. 3 VMLOAD/VMSAVE)",
				     "%s: %s raises #GP(0)", bad[b].what, insns[id].name))
				explain(o);
		}
	}
}

/*
 * nestvisor decision 3: a VMCB address inside the physical-address width
 * but outside guest RAM is #GP(0) (L1 has nothing there). Bare, QEMU reads
 * unassigned memory instead, and hardware may do anything.
 */
static void test_not_ram(struct tap *tap)
{
	static const enum insn_id vmcb_insns[] = {VMRUN, VMLOAD, VMSAVE};
	uint64_t top = guest_ram_top();
	const struct {
		const char *what;
		uint64_t rax;
	} outside[] = {
	    {"rAX = 0xFEC00000 (not RAM)", NOT_RAM_PA},
	    {"rAX = top of guest RAM", top},
	};

	for (unsigned int b = 0; b < ARRAY_SIZE(outside); b++) {
		for (unsigned int i = 0; i < ARRAY_SIZE(vmcb_insns); i++) {
			enum insn_id id = vmcb_insns[i];
			char name[96];
			struct outcome o;

			ksnprintf(name, sizeof(name), "%s: %s raises #GP(0) (decision 3)",
				  outside[b].what, insns[id].name);
			if (!nestvisor_only(tap, name))
				continue;
			o = probe(id, outside[b].rax, false);
			if (!tap_check(tap, is_gp0(o, 0), "%s", name))
				explain(o);
		}
	}
}

/*
 * APM 15.30.4 VM_HSAVE_PA: bits 11:0 MBZ and the address must be within
 * the physical-address width; a WRMSR that breaks either raises #GP.
 */
static void test_hsave_msr(struct tap *tap)
{
	uint64_t saved = rdmsr(MSR_VM_HSAVE_PA), got = 0;
	unsigned int maxphy = cpu_maxphyaddr();
	const struct {
		const char *what;
		uint64_t val;
	} bad[] = {
	    {"unaligned (0x1001)", 0x1001},
	    {"unaligned (hsave + 0x800)", saved + 0x800},
	    {"at 2^MAXPHYADDR", 1ull << maxphy},
	    {"all ones", ~0ull},
	};
	uint32_t fault;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		exc_record_reset(EXC_GP);
		fault = wrmsr_safe(MSR_VM_HSAVE_PA, bad[i].val);
		rdmsr_safe(MSR_VM_HSAVE_PA, &got);
		wrmsr(MSR_VM_HSAVE_PA, saved);
		if (!tap_apm(tap, fault_vector(fault) == EXC_GP && got == saved, !fault,
			     "VM_HSAVE_PA not checked (APM 15.30.4)",
			     "WRMSR VM_HSAVE_PA %s raises #GP, value unchanged", bad[i].what))
			kprintf("# vector %d, read back 0x%lx\n", fault_vector(fault), got);
	}

	fault = wrmsr_safe(MSR_VM_HSAVE_PA, (uint64_t)scratch);
	rdmsr_safe(MSR_VM_HSAVE_PA, &got);
	wrmsr(MSR_VM_HSAVE_PA, saved);
	tap_check(tap, !fault && got == (uint64_t)scratch,
		  "WRMSR VM_HSAVE_PA of an aligned RAM page: no fault, reads back (0x%lx)", got);
	fault = wrmsr_safe(MSR_VM_HSAVE_PA, 0);
	rdmsr_safe(MSR_VM_HSAVE_PA, &got);
	wrmsr(MSR_VM_HSAVE_PA, saved);
	tap_check(tap, !fault && got == 0, "WRMSR VM_HSAVE_PA = 0: no fault, reads back 0");
}

static void l2_vmmcall(void)
{
	asm volatile("vmmcall" ::: "memory");
}

/*
 * Decision 3: VMRUN does not check VM_HSAVE_PA (nor does the APM: host
 * state goes wherever it points, here physical page 0, stashed around the
 * run). KVM, as a bare host, raises a non-architectural #GP instead.
 */
static void test_hsave_zero_vmrun(struct tap *tap)
{
	uint64_t saved = rdmsr(MSR_VM_HSAVE_PA), code = 0;
	bool other_hv = !under_nestvisor() && (cpuid(1, 0).ecx & CPUID1_ECX_HYPERVISOR);
	uint32_t fault;

	svm_vmcb_init(&l2, l2_vmmcall);
	page0_stash();
	wrmsr(MSR_VM_HSAVE_PA, 0);
	fault = vmrun_safe((uint64_t)&l2.vmcb);
	wrmsr(MSR_VM_HSAVE_PA, saved);
	stgi();
	page0_restore();
	code = l2.vmcb.control.exit_code;
	if (fault && other_hv) {
		tap_skip(tap, "KVM-style hypervisor: non-architectural #GP",
			 "VM_HSAVE_PA = 0: VMRUN runs L2 without a fault");
		return;
	}
	tap_check(tap, !fault && code == SVM_EXIT_VMMCALL,
		  "VM_HSAVE_PA = 0: VMRUN runs L2 without a fault (vector %d, exit 0x%lx)",
		  fault_vector(fault), code);
}

/* 8 SVME=0, 2 SKINIT, 1 control, 6 CPL 3, 12 rAX, 6 not RAM, 6 VM_HSAVE_PA, 1 HSAVE=0 run. */
#define NR_TESTS 42

void guest_main(struct tap *tap)
{
	tap_plan(tap, NR_TESTS);
	if (!svm_enable())
		guest_bail_out("no SVM");
	skinit_offered = cpuid(0x80000001u, 0).ecx & CPUID_EXT_ECX_SKINIT;
	exc_record_install(EXC_UD);
	exc_record_install(EXC_GP);
	test_cpl0_control(tap);
	test_svme_off(tap);
	test_skinit(tap);
	test_cpl3(tap);
	test_rax(tap);
	test_not_ram(tap);
	test_hsave_msr(tap);
	test_hsave_zero_vmrun(tap);
}
