/*
 * nested_checks: one test per VMRUN consistency check (APM vol. 2 15.5.1
 * "Canonicalization and Consistency Checks", 15.20 "Event Injection";
 * shared/spec/nested-svm.md section 1.2, C1-C17), each with a control just
 * inside the rule.
 *
 * A VMCB12 that breaks exactly one rule must give the minimal #VMEXIT
 * (attack-tests.md "INVALID"): EXITCODE = VMEXIT_INVALID, EXITINFO1 =
 * EXITINFO2 = 0, EVENTINJ cleared (each failing VMCB12 carries a valid
 * injection so that clearing shows), L2 ran no instruction and took no
 * event, L1 resumes right after VMRUN with RAX = the VMCB12 address and
 * RSP, RFLAGS, CR0, CR3, CR4, EFER, DR6, DR7, GDTR, IDTR and selectors as
 * they were, and GIF = 0. GIF is shown architecturally: VMRUN is entered
 * with GIF = 1 and a self-IPI pending in IRR (sent with RFLAGS.IF = 0);
 * after the failure the IPI must stay pending through an IF = 1 window and
 * arrive exactly once at STGI. A control VMCB12 must run L2 to its VMMCALL.
 *
 * L2 is a function of this image on L1's page tables (tests/lib/svm.h);
 * the legacy-PAE and compatibility-mode controls run a 32-bit stub.
 *
 * Bare on QEMU 7.2 (nested-svm.md "QEMU 7.2 TCG facts"): EXITCODE is a
 * zero-extended 32-bit -1, so only its low half is compared; EXITINFO2 is
 * left alone by the checks QEMU runs before CR4, and only EVENTINJ[31:0]
 * is cleared, so those two are checked under nestvisor only. Rows where
 * QEMU gives the other outcome say so with a SKIP naming the APM section.
 */
#include <stddef.h>
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "kernel/console.h"
#include "kernel/kprintf.h"
#include "tests/lib/guest.h"
#include "tests/lib/svm.h"
#include "tests/lib/svm_checks.h"

/* A valid injection every failing VMCB12 carries, so that "EVENTINJ cleared" means something. */
#define PREFILL_VECTOR 0x70
#define SOFT_VECTOR    0x71
#define GP_ERROR_CODE  0x1234

/* CS attributes: 64-bit code, and 32-bit code (for compatibility mode and legacy PAE). */
#define CS_ATTR_64   (SVM_SEG_ATTR_L | SVM_SEG_ATTR_P | SVM_SEG_ATTR_S | 0xB)
#define CS_ATTR_32   (SVM_SEG_ATTR_G | SVM_SEG_ATTR_DB | SVM_SEG_ATTR_P | SVM_SEG_ATTR_S | 0xB)
#define DATA_ATTR_32 (SVM_SEG_ATTR_G | SVM_SEG_ATTR_DB | SVM_SEG_ATTR_P | SVM_SEG_ATTR_S | 0x3)

/* Defined CR4 bits every x86-64 CPU has, beyond what L1 sets. */
#define CR4_DEFINED_EXTRA (CR4_DE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT)
#define CPUID_EXT_EDX_NX  (1u << 20)

static struct l2 l2;
/* The VMCB12 as it was just before VMRUN (static: a page is too big for the stack). */
static struct vmcb before_vmrun;
/* Failed VMRUNs that wrote VMCB12 outside EXITCODE, EXITINFO1/2 and EVENTINJ. */
static unsigned int vmcb12_scribbled;
static unsigned int vmcb12_scribbled_offset;

static volatile unsigned int l2_ran;
volatile unsigned int l2_ran32; /* the 32-bit stub's counter: asm refers to it */

/* Legacy PAE: four PDPTEs (P only; R/W and U/S are reserved there) on the boot 2 MiB PDs. */
static uint64_t pae_pdpt[4] __attribute__((aligned(32)));
extern uint64_t boot_pd[4 * 512];

static void l2_probe(void)
{
	l2_ran++;
}

/* 32-bit L2 code (compatibility mode or legacy PAE): count, then VMMCALL. */
void l2_stub32(void);
asm(".pushsection .text\n\t"
    ".code32\n\t"
    ".global l2_stub32\n"
    "l2_stub32:\n\t"
    "incl l2_ran32\n\t"
    "vmmcall\n\t"
    "ud2\n\t"
    ".code64\n\t"
    ".popsection");

/*
 * For a 32-bit L2: run the stub, with an empty IDT (L1's IDT has 64-bit
 * gates): an event that should not come becomes a shutdown, which L1
 * intercepts, instead of a jump through a misread gate.
 */
static void stub32(struct vmcb *v)
{
	v->save.rip = (uint64_t)l2_stub32;
	v->save.idtr.limit = 0;
}

/* The mutations: each breaks (or, for a control, bends) one rule of a valid VMCB12. */
typedef void mutate_fn(struct vmcb *v, uint64_t arg);

static void m_none(struct vmcb *v, uint64_t arg)
{
	(void)v;
	(void)arg;
}

static void m_efer_clear(struct vmcb *v, uint64_t arg)
{
	v->save.efer &= ~arg;
}

static void m_efer_or(struct vmcb *v, uint64_t arg)
{
	v->save.efer |= arg;
}

/* SCE, and NXE where CPUID offers NX: defined bits a 64-bit L2 may set. */
static void m_efer_legal(struct vmcb *v, uint64_t arg)
{
	(void)arg;
	v->save.efer |= EFER_SCE;
	if (cpuid(0x80000001u, 0).edx & CPUID_EXT_EDX_NX)
		v->save.efer |= EFER_NXE;
}

static void m_cr0_or(struct vmcb *v, uint64_t arg)
{
	v->save.cr0 |= arg;
}

static void m_cr0_clear(struct vmcb *v, uint64_t arg)
{
	v->save.cr0 &= ~arg;
}

static void m_cr0_cd_nw(struct vmcb *v, uint64_t arg)
{
	v->save.cr0 = (v->save.cr0 & ~(uint64_t)(CR0_CD | CR0_NW)) | arg;
}

static void m_cr3_or(struct vmcb *v, uint64_t arg)
{
	v->save.cr3 |= arg;
}

/* The lowest bit above the physical-address width (bit 52 if the width is 52). */
static void m_cr3_maxphy(struct vmcb *v, uint64_t arg)
{
	unsigned int m = svm_checks_maxphyaddr();

	(void)arg;
	v->save.cr3 |= 1ull << (m < 52 ? m : 52);
}

static void m_cr4_or(struct vmcb *v, uint64_t arg)
{
	v->save.cr4 |= arg;
}

static void m_cr4_clear(struct vmcb *v, uint64_t arg)
{
	v->save.cr4 &= ~arg;
}

static void m_dr6(struct vmcb *v, uint64_t arg)
{
	v->save.dr6 = arg;
}

static void m_dr7(struct vmcb *v, uint64_t arg)
{
	v->save.dr7 = arg;
}

static void m_cs_attr(struct vmcb *v, uint64_t arg)
{
	v->save.cs.attrib = (uint16_t)arg;
	if (!(arg & SVM_SEG_ATTR_L))
		stub32(v);
}

/* A 32-bit legacy-mode PAE L2 (EFER.LME = 0) on pae_pdpt, with arg ORed into CR3. */
static void m_pae_legacy(struct vmcb *v, uint64_t arg)
{
	v->save.efer &= ~(uint64_t)(EFER_LME | EFER_LMA);
	v->save.cr4 |= CR4_PAE;
	v->save.cr3 = (uint64_t)pae_pdpt | arg;
	v->save.cs.attrib = CS_ATTR_32;
	v->save.ss.attrib = DATA_ATTR_32;
	v->save.ds = v->save.es = v->save.ss;
	stub32(v);
}

/*
 * C22: the legacy-PAE L2 above, with arg ORed into its fourth PDPTE (the
 * 3-4 GiB quarter, which the stub never touches). APM 15.5.1 "Loading
 * Guest State": without nested paging VMRUN loads the PDPTEs, and a
 * present one with a reserved bit fails it. guest_main restores the PDPT.
 */
static void m_pae_pdpte(struct vmcb *v, uint64_t arg)
{
	m_pae_legacy(v, 0);
	pae_pdpt[3] |= arg;
}

/* C22 control: a PDPTE that is not present is not checked, whatever else it holds. */
static void m_pae_pdpte_absent(struct vmcb *v, uint64_t arg)
{
	m_pae_legacy(v, 0);
	pae_pdpt[3] = arg & ~(uint64_t)PTE_P;
}

static void m_no_vmrun_intercept(struct vmcb *v, uint64_t arg)
{
	(void)arg;
	vmcb_clear_intercept(&v->control, INTERCEPT_VMRUN);
}

static void m_asid(struct vmcb *v, uint64_t arg)
{
	v->control.asid = (uint32_t)arg;
}

static void m_asid_last(struct vmcb *v, uint64_t arg)
{
	uint32_t n = svm_checks_nasid();

	(void)arg;
	v->control.asid = n > 1 ? n - 1 : 1;
}

/* Permission-map bases: arg bytes below 2^MAXPHYADDR, or an absolute address. */
static uint64_t pa_limit(void)
{
	return 1ull << svm_checks_maxphyaddr();
}

static void m_msrpm_below_limit(struct vmcb *v, uint64_t arg)
{
	v->control.msrpm_base_pa = pa_limit() - arg;
}

static void m_msrpm_at(struct vmcb *v, uint64_t arg)
{
	v->control.msrpm_base_pa = arg;
}

static void m_iopm_below_limit(struct vmcb *v, uint64_t arg)
{
	v->control.iopm_base_pa = pa_limit() - arg;
}

static void m_iopm_at(struct vmcb *v, uint64_t arg)
{
	v->control.iopm_base_pa = arg;
}

static void m_event(struct vmcb *v, uint64_t arg)
{
	v->control.event_inj = arg;
}

enum expect {
	FAIL,	   /* VMEXIT_INVALID with the whole contract, entered with GIF = 1 */
	FAIL_GIF0, /* the same, entered with GIF = 0 (CLGI): GIF stays 0 */
	RUN,	   /* L2 runs to its VMMCALL (and takes the injected event, if any) */
};

struct check {
	const char *name;
	enum expect expect;
	mutate_fn *mutate;
	uint64_t arg;
	/* Set where QEMU 7.2 is known to give the other outcome: why, with the APM section. */
	const char *deviation;
};

#define EV_RAW(vec, type) (SVM_EVENT_VALID | ((uint64_t)(type) << SVM_EVENT_TYPE_SHIFT) | (vec))
#define EV(vec, type)	  EV_RAW(vec, SVM_EVENT_TYPE_##type)
#define BIT(n)		  (1ull << (n))
#define KIB(n)		  ((uint64_t)(n) << 10)

#define DEV_VECTOR                                                                                 \
	"VMRUN accepts TYPE 3 with a reserved vector below 31 and delivers it (APM 15.20)"
#define DEV_BR "#BR injected into a 64-bit guest is delivered instead of failing (APM 15.20)"
#define DEV_MAP_END                                                                                \
	"VMRUN fails when the map's last byte is the last byte below 2^MAXPHYADDR (APM 15.5.1)"
#define DEV_PAE_CR3 "the VMRUN CR3 check only covers bits at or above MAXPHYADDR (APM 15.5.1)"
#define DEV_PDPTE   "VMRUN does not load or check PAE PDPTEs (APM 15.5.1)"

static const struct check checks[] = {
    {"baseline: the unmodified VMCB12", RUN, m_none, 0, 0},
    {"C1 EFER.SVME = 0", FAIL, m_efer_clear, EFER_SVME, 0},
    {"C2 CR0.CD = 0 with CR0.NW = 1", FAIL, m_cr0_cd_nw, CR0_NW, 0},
    {"C2 control: CR0.CD = 1 with CR0.NW = 1 is legal", RUN, m_cr0_cd_nw, CR0_CD | CR0_NW, 0},
    {"C3 CR0 bit 32 set", FAIL, m_cr0_or, BIT(32), 0},
    {"C3 CR0 bit 63 set", FAIL, m_cr0_or, BIT(63), 0},
    {"C4 long mode: CR3 bit 63 set", FAIL, m_cr3_or, BIT(63), 0},
    {"C4 long mode: CR3 bit 52 set", FAIL, m_cr3_or, BIT(52), 0},
    {"C4 long mode: CR3 bit MAXPHYADDR set", FAIL, m_cr3_maxphy, 0, 0},
    {"C4 control: long-mode CR3 reserved bits 11:5 and 2:0 (not MBZ)", RUN, m_cr3_or, 0xFE7, 0},
    {"C4 legacy PAE: CR3 bit 63 set", FAIL, m_pae_legacy, BIT(63), 0},
    {"C4 legacy PAE: CR3 bit 32 set", FAIL, m_pae_legacy, BIT(32), DEV_PAE_CR3},
    {"C4 control: legacy PAE L2 with a 32-bit CR3", RUN, m_pae_legacy, 0, 0},
    {"C22 legacy PAE: present PDPTE with bit 1 (R/W, reserved) set", FAIL, m_pae_pdpte, BIT(1),
     DEV_PDPTE},
    {"C22 legacy PAE: present PDPTE with bit 7 (PS, reserved) set", FAIL, m_pae_pdpte, BIT(7),
     DEV_PDPTE},
    {"C22 legacy PAE: present PDPTE with bit 63 (NX, reserved) set", FAIL, m_pae_pdpte, BIT(63),
     DEV_PDPTE},
    {"C22 control: a not-present PDPTE is not checked", RUN, m_pae_pdpte_absent,
     BIT(1) | BIT(7) | BIT(63), 0},
    {"C5 CR4 bit 13 (VMXE, reserved on AMD) set", FAIL, m_cr4_or, BIT(13), 0},
    {"C5 CR4 bit 14 set", FAIL, m_cr4_or, BIT(14), 0},
    {"C5 CR4 bit 15 set", FAIL, m_cr4_or, BIT(15), 0},
    {"C5 CR4 bit 19 set", FAIL, m_cr4_or, BIT(19), 0},
    {"C5 CR4 bit 26 set", FAIL, m_cr4_or, BIT(26), 0},
    {"C5 CR4 bit 31 set", FAIL, m_cr4_or, BIT(31), 0},
    {"C5 CR4 bit 32 set", FAIL, m_cr4_or, BIT(32), 0},
    {"C5 CR4 bit 63 set", FAIL, m_cr4_or, BIT(63), 0},
    {"C5 control: CR4 with DE, MCE, PGE, PCE, OSFXSR, OSXMMEXCPT", RUN, m_cr4_or, CR4_DEFINED_EXTRA,
     0},
    {"C6 DR6 bit 32 set", FAIL, m_dr6, BIT(32) | 0xFFFF0FF0, 0},
    {"C6 DR6 bit 63 set", FAIL, m_dr6, BIT(63) | 0xFFFF0FF0, 0},
    {"C6 control: DR6 = 0xFFFFFFFF (bits 31:0 are not checked)", RUN, m_dr6, 0xFFFFFFFF, 0},
    {"C7 DR7 bit 32 set", FAIL, m_dr7, BIT(32) | 0x400, 0},
    {"C7 DR7 bit 63 set", FAIL, m_dr7, BIT(63) | 0x400, 0},
    {"C7 control: DR7 = 0xFFFF0400 (no breakpoint enabled)", RUN, m_dr7, 0xFFFF0400, 0},
    {"C8 EFER bit 1 (MBZ) set", FAIL, m_efer_or, BIT(1), 0},
    {"C8 EFER bit 9 (MBZ) set", FAIL, m_efer_or, BIT(9), 0},
    {"C8 EFER bit 16 (MBZ) set", FAIL, m_efer_or, BIT(16), 0},
    {"C8 EFER bit 19 (MBZ) set", FAIL, m_efer_or, BIT(19), 0},
    {"C8 EFER bit 22 (MBZ) set", FAIL, m_efer_or, BIT(22), 0},
    {"C8 EFER bit 32 (MBZ) set", FAIL, m_efer_or, BIT(32), 0},
    {"C8 EFER bit 63 (MBZ) set", FAIL, m_efer_or, BIT(63), 0},
    {"C8 control: EFER with SCE and NXE", RUN, m_efer_legal, 0, 0},
    {"C10 EFER.LME and CR0.PG with CR4.PAE = 0", FAIL, m_cr4_clear, CR4_PAE, 0},
    {"C11 EFER.LME and CR0.PG with CR0.PE = 0", FAIL, m_cr0_clear, CR0_PE, 0},
    {"C12 long mode with CS.L = 1 and CS.D = 1", FAIL, m_cs_attr, CS_ATTR_64 | SVM_SEG_ATTR_DB, 0},
    {"C12 control: CS.L = 0, CS.D = 1 (compatibility mode)", RUN, m_cs_attr, CS_ATTR_32, 0},
    {"C14 VMRUN intercept clear", FAIL, m_no_vmrun_intercept, 0, 0},
    {"C15 ASID 0", FAIL, m_asid, 0, 0},
    {"C15 control: ASID = number of ASIDs - 1", RUN, m_asid_last, 0, 0},
    {"C16 MSRPM base 2^MAXPHYADDR - 4K (8K map crosses the limit)", FAIL, m_msrpm_below_limit,
     KIB(4), 0},
    {"C16 MSRPM base 2^MAXPHYADDR", FAIL, m_msrpm_below_limit, 0, 0},
    {"C16 MSRPM base 0xFFFFFFFFFFFFF000 (wraps around)", FAIL, m_msrpm_at, ~0xFFFull, 0},
    {"C16 control: MSRPM base 2^MAXPHYADDR - 8K (map ends at the limit)", RUN, m_msrpm_below_limit,
     KIB(8), DEV_MAP_END},
    {"C16 control: MSRPM base 2^MAXPHYADDR - 8K + 0xFFF (bits 11:0 ignored)", RUN,
     m_msrpm_below_limit, KIB(8) - 0xFFF, DEV_MAP_END},
    {"C16 IOPM base 2^MAXPHYADDR - 8K (12K map crosses the limit)", FAIL, m_iopm_below_limit,
     KIB(8), 0},
    {"C16 IOPM base 2^MAXPHYADDR - 4K", FAIL, m_iopm_below_limit, KIB(4), 0},
    {"C16 IOPM base 0xFFFFFFFFFFFFF000 (wraps around)", FAIL, m_iopm_at, ~0xFFFull, 0},
    {"C16 control: IOPM base 2^MAXPHYADDR - 12K (map ends at the limit)", RUN, m_iopm_below_limit,
     KIB(12), 0},
    {"C16 control: IOPM base 2^MAXPHYADDR - 12K + 0xFFF (bits 11:0 ignored)", RUN,
     m_iopm_below_limit, KIB(12) - 0xFFF, 0},
    {"C17 EVENTINJ reserved TYPE 1", FAIL, m_event, EV_RAW(PREFILL_VECTOR, 1), 0},
    {"C17 EVENTINJ reserved TYPE 5", FAIL, m_event, EV_RAW(PREFILL_VECTOR, 5), 0},
    {"C17 EVENTINJ reserved TYPE 6", FAIL, m_event, EV_RAW(PREFILL_VECTOR, 6), 0},
    {"C17 EVENTINJ reserved TYPE 7", FAIL, m_event, EV_RAW(PREFILL_VECTOR, 7), 0},
    {"C17 EVENTINJ TYPE 3 (exception) vector 2 (NMI)", FAIL, m_event, EV(2, EXCEPTION), 0},
    {"C17 EVENTINJ TYPE 3 vector 9 (reserved)", FAIL, m_event, EV(9, EXCEPTION), DEV_VECTOR},
    {"C17 EVENTINJ TYPE 3 vector 15 (reserved)", FAIL, m_event, EV(15, EXCEPTION), DEV_VECTOR},
    {"C17 EVENTINJ TYPE 3 vector 20 (reserved)", FAIL, m_event, EV(20, EXCEPTION), DEV_VECTOR},
    {"C17 EVENTINJ TYPE 3 vector 22 (reserved)", FAIL, m_event, EV(22, EXCEPTION), DEV_VECTOR},
    {"C17 EVENTINJ TYPE 3 vector 23 (reserved)", FAIL, m_event, EV(23, EXCEPTION), DEV_VECTOR},
    {"C17 EVENTINJ TYPE 3 vector 24 (reserved)", FAIL, m_event, EV(24, EXCEPTION), DEV_VECTOR},
    {"C17 EVENTINJ TYPE 3 vector 25 (reserved)", FAIL, m_event, EV(25, EXCEPTION), DEV_VECTOR},
    {"C17 EVENTINJ TYPE 3 vector 26 (reserved)", FAIL, m_event, EV(26, EXCEPTION), DEV_VECTOR},
    {"C17 EVENTINJ TYPE 3 vector 27 (reserved)", FAIL, m_event, EV(27, EXCEPTION), DEV_VECTOR},
    {"C17 EVENTINJ TYPE 3 vector 31 (reserved)", FAIL, m_event, EV(31, EXCEPTION), 0},
    {"C17 EVENTINJ TYPE 3 vector 32 (not an exception)", FAIL, m_event, EV(32, EXCEPTION), 0},
    {"C17 EVENTINJ TYPE 3 vector 255 (not an exception)", FAIL, m_event, EV(255, EXCEPTION), 0},
    {"C17 EVENTINJ #BR (TYPE 3 vector 5) into a 64-bit L2", FAIL, m_event, EV(5, EXCEPTION),
     DEV_BR},
    {"C17 control: #GP with error code (TYPE 3 vector 13, EV)", RUN, m_event,
     SVM_EVENT_VALID | SVM_EVENT_EV | (3ull << 8) | 13 | ((uint64_t)GP_ERROR_CODE << 32), 0},
    {"C17 control: #DE (TYPE 3 vector 0)", RUN, m_event, EV(0, EXCEPTION), 0},
    {"C17 control: INTR (TYPE 0) vector 0x70", RUN, m_event, EV(PREFILL_VECTOR, INTR), 0},
    {"C17 control: NMI (TYPE 2)", RUN, m_event, EV(0, NMI), 0},
    {"C17 control: software interrupt (TYPE 4) vector 0x71", RUN, m_event, EV(SOFT_VECTOR, SOFT),
     0},
    {"GIF = 0 at VMRUN (CLGI), ASID 0: INVALID and GIF stays 0", FAIL_GIF0, m_asid, 0, 0},
    {"GIF = 0 at VMRUN (CLGI), CR0 bit 32: INVALID and GIF stays 0", FAIL_GIF0, m_cr0_or, BIT(32),
     0},
};

/* The vector an EVENTINJ value delivers (NMI: 2), or -1 if it injects nothing. */
static int injected_vector(uint64_t ev)
{
	if (!(ev & SVM_EVENT_VALID))
		return -1;
	if (svm_event_type(ev) == SVM_EVENT_TYPE_NMI)
		return EXC_NMI;
	return (int)svm_event_vector(ev);
}

/* Whether a failed VMRUN left VMCB12 alone outside the four fields it must write. */
static bool vmcb12_only_exit_fields(const struct vmcb *now, const struct vmcb *then,
				    unsigned int *offset)
{
	const uint8_t *a = (const uint8_t *)now, *b = (const uint8_t *)then;

	for (unsigned int i = 0; i < sizeof(struct vmcb); i++) {
		if (i == offsetof(struct vmcb, control.exit_code) ||
		    i == offsetof(struct vmcb, control.exit_info1) ||
		    i == offsetof(struct vmcb, control.exit_info2) ||
		    i == offsetof(struct vmcb, control.event_inj)) {
			i += 7;
			continue;
		}
		if (a[i] != b[i]) {
			*offset = i;
			return false;
		}
	}
	return true;
}

static bool event_cleared(uint64_t ev)
{
	return under_nestvisor() ? ev == 0 : (uint32_t)ev == 0;
}

static void check_fail(struct tap *tap, const struct check *k, uint64_t code,
		       const struct gif_probe *g, const char *intact)
{
	const struct vmcb_control *c = &l2.vmcb.control;
	bool nv = under_nestvisor();
	char why[160] = "";

	if (!svm_checks_exit_invalid(code))
		ksnprintf(why, sizeof(why), "EXITCODE 0x%lx", code);
	else if (c->exit_info1 != 0 || (nv && c->exit_info2 != 0))
		ksnprintf(why, sizeof(why), "EXITINFO1 0x%lx, EXITINFO2 0x%lx", c->exit_info1,
			  c->exit_info2);
	else if (!event_cleared(c->event_inj))
		ksnprintf(why, sizeof(why), "EVENTINJ 0x%lx not cleared", c->event_inj);
	else if (l2_ran || l2_ran32 || l2_events.count)
		ksnprintf(why, sizeof(why), "L2 ran (%u) or took an event (%u, vector %u)",
			  l2_ran + l2_ran32, l2_events.count, l2_events.vector);
	else if (intact)
		ksnprintf(why, sizeof(why), "L1 %s changed", intact);
	else if (!svm_checks_gif_was_clear(g))
		ksnprintf(
		    why, sizeof(why),
		    "GIF: IPI pending before %d, taken with IF=1 after VMRUN %u, after STGI %u",
		    g->pending, g->held_with_if, g->after_stgi);
	if (nv && !why[0] &&
	    !vmcb12_only_exit_fields(&l2.vmcb, &before_vmrun, &vmcb12_scribbled_offset))
		vmcb12_scribbled++;
	if (why[0])
		kprintf("# %s: %s\n", k->name, why);
	svm_checks_tap(tap, !why[0], (uint32_t)code != (uint32_t)SVM_EXIT_INVALID, k->deviation,
		       "%s: VMEXIT_INVALID, L1 intact, GIF = 0", k->name);
}

static void check_run(struct tap *tap, const struct check *k, uint64_t code, const char *intact)
{
	const struct vmcb *v = &l2.vmcb;
	uint64_t ev = before_vmrun.control.event_inj;
	int vec = injected_vector(ev);
	char why[160] = "";

	if (code != SVM_EXIT_VMMCALL || l2_ran + l2_ran32 != 1)
		ksnprintf(
		    why, sizeof(why),
		    "exit 0x%lx (EXITINFO1 0x%lx, EXITINFO2 0x%lx, RIP 0x%lx), L2 ran %u times",
		    code, v->control.exit_info1, v->control.exit_info2, v->save.rip,
		    l2_ran + l2_ran32);
	else if (intact)
		ksnprintf(why, sizeof(why), "L1 %s changed", intact);
	else if (vec >= 0 && (l2_events.count != 1 || l2_events.vector != (unsigned int)vec ||
			      l2_events.rip != before_vmrun.save.rip))
		ksnprintf(why, sizeof(why),
			  "event: %u taken, vector %u at 0x%lx (want %d at 0x%lx)", l2_events.count,
			  l2_events.vector, l2_events.rip, vec, before_vmrun.save.rip);
	else if (vec >= 0 && (ev & SVM_EVENT_EV) && l2_events.error != svm_event_error(ev))
		ksnprintf(why, sizeof(why), "error code 0x%lx, want 0x%x", l2_events.error,
			  svm_event_error(ev));
	else if (vec >= 0 && !event_cleared(v->control.event_inj))
		ksnprintf(why, sizeof(why), "EVENTINJ 0x%lx not cleared", v->control.event_inj);
	else if (vec < 0 && l2_events.count)
		ksnprintf(why, sizeof(why), "unexpected event vector %u", l2_events.vector);
	if (why[0])
		kprintf("# %s: %s\n", k->name, why);
	svm_checks_tap(tap, !why[0], (uint32_t)code == (uint32_t)SVM_EXIT_INVALID, k->deviation,
		       "%s: L2 runs to its VMMCALL", k->name);
}

static void run_check(struct tap *tap, const struct check *k)
{
	struct vmcb *v = &l2.vmcb;
	struct l1_state before;
	struct gif_probe gif = {0};
	const char *intact;
	uint64_t code;
	int vec;

	svm_checks_vmcb_init(&l2, l2_probe);
	/* For a software interrupt: the return address when NRIPS is in use (APM 15.20). */
	v->control.next_rip = v->save.rip;
	if (k->expect != RUN)
		v->control.event_inj = svm_event(PREFILL_VECTOR, SVM_EVENT_TYPE_INTR, false, 0);
	k->mutate(v, k->arg);
	before_vmrun = *v;

	l2_ran = l2_ran32 = 0;
	l2_events_reset();
	vec = injected_vector(v->control.event_inj);
	if (vec >= 0)
		l2_events_install((unsigned int)vec);

	stgi();
	if (k->expect == RUN) {
		/* L2 should run: a watchdog in case it never exits. */
		svm_checks_watchdog_arm(v);
		l1_state_take(&before);
		code = svm_checks_vmrun(v);
		intact = svm_checks_l1_intact(v, &before);
		svm_checks_watchdog_disarm(v);
	} else {
		/* VMRUN should fail: RFLAGS.IF = 0 so that the IPI stays pending. */
		svm_checks_gif_arm(&gif);
		if (k->expect == FAIL_GIF0)
			clgi();
		l1_state_take(&before);
		code = svm_checks_vmrun(v);
		intact = svm_checks_l1_intact(v, &before);
		svm_checks_gif_finish(&gif);
	}
	stgi();

	if (vec >= 0)
		l2_events_remove((unsigned int)vec);
	if (k->expect == RUN)
		check_run(tap, k, code, intact);
	else
		check_fail(tap, k, code, &gif, intact);
}

void guest_main(struct tap *tap)
{
	bool lm = cpuid(0x80000001u, 0).edx & CPUID_EXT_EDX_LM;

	tap_plan(tap, ARRAY_SIZE(checks) + 2);
	if (!svm_enable())
		guest_bail_out("no SVM (CPUID 8000_0001 ECX[2])");
	svm_checks_irq_init();
	for (unsigned int i = 0; i < 4; i++)
		pae_pdpt[i] = (uint64_t)&boot_pd[i * 512] | PTE_P;
	kprintf("# MAXPHYADDR %u, %u ASIDs\n", svm_checks_maxphyaddr(), svm_checks_nasid());
	if (!under_nestvisor())
		kprintf("# bare: EXITCODE compared in bits 31:0; EXITINFO2 and EVENTINJ[63:32] "
			"not checked (QEMU 7.2 leaves them)\n");

	for (unsigned int i = 0; i < ARRAY_SIZE(checks); i++) {
		run_check(tap, &checks[i]);
		/* C22 rows edit the PDPT; every row starts from the legal one. */
		for (unsigned int j = 0; j < 4; j++)
			pae_pdpt[j] = (uint64_t)&boot_pd[j * 512] | PTE_P;
	}

	/*
	 * C9 (EFER.LME or LMA set without long mode) needs a CPU without long
	 * mode, which could not have booted this 64-bit guest: say so.
	 */
	tap_check(tap, lm,
		  "C9 EFER.LME without long mode: not constructible, CPUID 8000_0001 EDX[29] "
		  "(long mode) is set");

	if (nestvisor_only(tap, "nestvisor: failed VMRUNs wrote only EXITCODE, EXITINFO1/2 and "
				"EVENTINJ of VMCB12 (decisions 2, 8)"))
		tap_check(tap, vmcb12_scribbled == 0,
			  "nestvisor: failed VMRUNs wrote only EXITCODE, EXITINFO1/2 and EVENTINJ "
			  "of VMCB12 (decisions 2, 8) (%u did not, first at offset 0x%x)",
			  vmcb12_scribbled, vmcb12_scribbled_offset);
}
