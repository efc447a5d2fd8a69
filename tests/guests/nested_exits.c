/*
 * nested_exits: L1 intercepts one L2 instruction per run and checks the
 * #VMEXIT (APM vol. 2 15.6 "#VMEXIT", 15.7 "Intercept Operation", Table
 * C-1 exit codes): EXITCODE; EXITINFO1/2 where the APM defines them (IOIO
 * 15.10.2, MSR 15.11, #PF 15.12); L2's RIP (the intercepted instruction,
 * not past it: no NRIPS here), RSP and RAX in the VMCB; EXITINTINFO = 0
 * and EVENTINJ = 0 (15.7.2, 15.20). L1 then emulates the instruction where
 * that means something (puts a result into L2's registers), moves RIP past
 * it by its known length and resumes L2, which records what it saw.
 * The same instructions without an intercept act as on L1's hardware:
 * CPUID and RDMSR return L1's values, and VMMCALL raises #UD in L2 (15.18).
 *
 * Each L2 is a routine made by DEFINE_L2 below: it stores its RSP, executes
 * the instruction at NAME_insn, continues at NAME_next, stores what it saw
 * in l2_out[] and returns (into svm.c's final VMMCALL).
 */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/stacks.h"
#include "kernel/console.h"
#include "kernel/kstring.h"
#include "tests/lib/guest.h"
#include "tests/lib/svm.h"
#include "tests/lib/svm_test.h"

#define PORT_W	  0x1234 /* unassigned ports: nothing answers if an access got through */
#define PORT_L	  0x1230
#define PORT_STR  0x1231
#define PORT_INS  0x1232
#define PORT_POST 0x80
#define REP_COUNT 3
#define STAR_L1	  0x0023001000000000ull /* what L1 keeps in STAR while L2 runs */
#define MAGIC_RAX 0x1122334455667788ull
#define REPLY_RAX 0x0123456789ABCDEFull

/* The IOIO EXITINFO1 bits the APM defines without decode assists (15.10.2). */
#define IOIO_CHECKED                                                                               \
	(SVM_IOIO_TYPE_IN | SVM_IOIO_STR | SVM_IOIO_REP | SVM_IOIO_SZ8 | SVM_IOIO_SZ16 |           \
	 SVM_IOIO_SZ32 | SVM_IOIO_PORT_MASK)
#define IOIO_ASIZE   (SVM_IOIO_A16 | SVM_IOIO_A32 | SVM_IOIO_A64)
#define IOIO_PORT(p) ((uint64_t)(p) << SVM_IOIO_PORT_SHIFT)

/* Written by L2 (same memory as L1: shared, identity-mapped page tables). */
volatile uint64_t l2_rsp, l2_out[4];
static uint8_t l2_buf[16];

/*
 * One L2 routine: NAME stores RSP, executes insn at NAME_insn and goes on
 * at NAME_next with after, then returns. Register contract: RAX comes from
 * the VMCB, every other GPR from l2.regs (svm.h), so L1 sets a routine's
 * operands before VMRUN.
 */
#define DEFINE_L2(name, insn, after)                                                               \
	asm(".pushsection .text\n"                                                                 \
	    ".global " #name ", " #name "_insn, " #name "_next\n" #name ":\n\t"                    \
	    "mov %rsp, l2_rsp(%rip)\n" #name "_insn:\n\t" insn "\n" #name "_next:\n\t" after       \
	    "\n\tret\n"                                                                            \
	    ".popsection");                                                                        \
	void name(void);                                                                           \
	extern char name##_insn[], name##_next[]

/* RAX in, RAX (L1's reply) out. */
DEFINE_L2(l2_vmmcall, "vmmcall", "mov %rax, l2_out(%rip)");
/* Leaf in RAX, subleaf in RCX. */
DEFINE_L2(l2_cpuid, "cpuid",
	  "mov %rax, l2_out(%rip)\n\tmov %rbx, l2_out+8(%rip)\n\t"
	  "mov %rcx, l2_out+16(%rip)\n\tmov %rdx, l2_out+24(%rip)");
DEFINE_L2(l2_outb_imm, "outb %al, $0x80", "movq $1, l2_out(%rip)");
DEFINE_L2(l2_inw_dx, "inw %dx, %ax", "mov %rax, l2_out(%rip)");
DEFINE_L2(l2_outl_dx, "outl %eax, %dx", "movq $1, l2_out(%rip)");
DEFINE_L2(l2_rep_outsb, "rep outsb", "mov %rcx, l2_out(%rip)\n\tmov %rsi, l2_out+8(%rip)");
DEFINE_L2(l2_insb, "insb", "mov %rdi, l2_out(%rip)");
DEFINE_L2(l2_rdmsr, "rdmsr", "mov %rax, l2_out(%rip)\n\tmov %rdx, l2_out+8(%rip)");
DEFINE_L2(l2_wrmsr, "wrmsr", "movq $1, l2_out(%rip)");
DEFINE_L2(l2_hlt, "hlt", "movq $1, l2_out(%rip)");
DEFINE_L2(l2_ud2, "ud2", "movq $1, l2_out(%rip)");
/* RBX holds the address; RCX is the data, so RAX stays what the VMCB gave. */
DEFINE_L2(l2_load, "mov (%rbx), %rcx", "movq $1, l2_out(%rip)");
DEFINE_L2(l2_store, "mov %rcx, (%rbx)", "movq $1, l2_out(%rip)");
DEFINE_L2(l2_int3, "int3", "movq $1, l2_out(%rip)");
/*
 * VMMCALL without its intercept: the #UD goes through the IDT shared with
 * L1, whose fixup resumes at _next; L2 then stops on an intercepted HLT
 * (its return address would be another VMMCALL).
 */
DEFINE_L2(l2_vmmcall_ud, "vmmcall", "mov %rax, l2_out(%rip)\n\tjmp l2_vmmcall_ud_hlt");
asm(".pushsection .text\n"
    ".global l2_vmmcall_ud_hlt\n"
    "l2_vmmcall_ud_hlt:\n\t"
    "hlt\n\t"
    "jmp l2_vmmcall_ud_hlt\n"
    ".popsection\n"
    /* Fixups: the faulting VMMCALL, and the trap-style #BP reported after INT3. */
    ".pushsection .extable, \"a\"\n\t"
    ".balign 8\n\t"
    ".quad l2_vmmcall_ud_insn, l2_vmmcall_ud_next\n\t"
    ".quad l2_int3_next, l2_int3_next\n"
    ".popsection");
extern char l2_vmmcall_ud_hlt[];

static struct l2 l2;
static uint8_t iopm[SVM_IOPM_SIZE] __attribute__((aligned(4096)));
static uint8_t msrpm[SVM_MSRPM_SIZE] __attribute__((aligned(4096)));
/* EXITINFO1 of each IOIO exit seen, for the address-size check. */
static uint64_t ioio_info[8];
static unsigned int nr_ioio;

static void iopm_intercept(uint16_t port)
{
	iopm[port / 8] |= 1u << (port % 8);
}

/* APM 15.11: two bits per MSR, read at 2k and write at 2k + 1, in three 2 KiB ranges. */
static void msrpm_intercept(uint32_t msr, bool read, bool write)
{
	uint32_t base = msr >= SVM_MSRPM_RANGE1_MSR ? SVM_MSRPM_RANGE1_MSR : 0;
	uint32_t off = msr >= SVM_MSRPM_RANGE1_MSR ? SVM_MSRPM_RANGE1_OFFSET : 0;
	uint32_t bit = (msr - base) * 2;

	if (read)
		msrpm[off + bit / 8] |= 1u << (bit % 8);
	if (write)
		msrpm[off + (bit + 1) / 8] |= 1u << ((bit + 1) % 8);
}

/* ---- the intercepted cases ---- */

struct exit_case {
	const char *name;
	void (*entry)(void);
	const char *insn, *next; /* the routine's labels */
	unsigned int intercept;	 /* INTERCEPT_* */
	uint64_t rax;		 /* L2's RAX at the instruction */
	uint64_t code;		 /* expected EXITCODE */
	/* EXITINFO1 under info1_mask (0: the APM defines none); EXITINFO2 where defined. */
	uint64_t info1, info1_mask;
	bool info2_defined;
	void (*setup)(struct l2 *g);	     /* operands and maps, before VMRUN */
	void (*emulate)(struct l2 *g);	     /* after the exit, before resuming */
	bool (*resumed)(const struct l2 *g); /* what L2 saw after resuming */
	/* Bare QEMU only: the exit is known to differ from the APM (with why). */
	bool (*qemu_deviates)(uint64_t code);
	const char *deviation;
};

#define ROUTINE(r) .entry = r, .insn = r##_insn, .next = r##_next

static void reply_rax(struct l2 *g)
{
	g->vmcb.save.rax = REPLY_RAX;
}

static bool saw_reply_rax(const struct l2 *g)
{
	(void)g;
	return l2_out[0] == REPLY_RAX;
}

static bool continued(const struct l2 *g)
{
	(void)g;
	return l2_out[0] == 1;
}

static void cpuid_setup(struct l2 *g)
{
	g->regs.rcx = 0;
}

/* L1's emulated CPUID: arbitrary values that no CPU returns for leaf 0x4000_0123. */
static void cpuid_emulate(struct l2 *g)
{
	g->vmcb.save.rax = 0xA1;
	g->regs.rbx = 0xB2;
	g->regs.rcx = 0xC3;
	g->regs.rdx = 0xD4;
}

static bool cpuid_resumed(const struct l2 *g)
{
	(void)g;
	return l2_out[0] == 0xA1 && l2_out[1] == 0xB2 && l2_out[2] == 0xC3 && l2_out[3] == 0xD4;
}

static void io_setup(struct l2 *g)
{
	vmcb_set_intercept(&g->vmcb.control, INTERCEPT_IOIO_PROT);
	memset(iopm, 0, sizeof(iopm));
	iopm_intercept(PORT_POST);
	iopm_intercept(PORT_W);
	iopm_intercept(PORT_L);
	iopm_intercept(PORT_STR);
	iopm_intercept(PORT_INS);
	g->vmcb.control.iopm_base_pa = (uint64_t)iopm;
}

static void inw_setup(struct l2 *g)
{
	io_setup(g);
	g->regs.rdx = PORT_W;
}

static void outl_setup(struct l2 *g)
{
	io_setup(g);
	g->regs.rdx = PORT_L;
}

static void outsb_setup(struct l2 *g)
{
	io_setup(g);
	g->regs.rdx = PORT_STR;
	g->regs.rsi = (uint64_t)l2_buf;
	g->regs.rcx = REP_COUNT;
}

static void insb_setup(struct l2 *g)
{
	io_setup(g);
	g->regs.rdx = PORT_INS;
	g->regs.rdi = (uint64_t)l2_buf;
}

/* IN: L1 supplies the data in AL/AX/EAX; the rest of RAX is L2's. */
static void inw_emulate(struct l2 *g)
{
	g->vmcb.save.rax = (g->vmcb.save.rax & ~0xFFFFull) | 0xBEEF;
}

static bool inw_resumed(const struct l2 *g)
{
	(void)g;
	return l2_out[0] == ((MAGIC_RAX & ~0xFFFFull) | 0xBEEF);
}

/* L1 skipped the string instruction without emulating it: RCX, RSI, RDI untouched. */
static bool outsb_resumed(const struct l2 *g)
{
	(void)g;
	return l2_out[0] == REP_COUNT && l2_out[1] == (uint64_t)l2_buf;
}

static bool insb_resumed(const struct l2 *g)
{
	(void)g;
	return l2_out[0] == (uint64_t)l2_buf;
}

static void msr_setup(struct l2 *g)
{
	vmcb_set_intercept(&g->vmcb.control, INTERCEPT_MSR_PROT);
	memset(msrpm, 0, sizeof(msrpm));
	msrpm_intercept(MSR_STAR, true, true);
	g->vmcb.control.msrpm_base_pa = (uint64_t)msrpm;
	g->regs.rcx = MSR_STAR;
	g->regs.rdx = 0x55667788;
}

static void rdmsr_emulate(struct l2 *g)
{
	g->vmcb.save.rax = 0x89ABCDEF;
	g->regs.rdx = 0x01234567;
}

static bool rdmsr_resumed(const struct l2 *g)
{
	(void)g;
	return l2_out[0] == 0x89ABCDEF && l2_out[1] == 0x01234567;
}

/* WRMSR: the value is in EDX:EAX and ECX names the MSR, none of it written. */
static bool wrmsr_resumed(const struct l2 *g)
{
	return l2_out[0] == 1 && g->regs.rcx == MSR_STAR && rdmsr(MSR_STAR) == STAR_L1;
}

static void pf_setup(struct l2 *g)
{
	g->regs.rbx = (uint64_t)boot_stack_guard;
}

static bool int3_not_intercepted(uint64_t code)
{
	return code == SVM_EXIT_VMMCALL && exc_record_get(EXC_BP).count == 1;
}

/* #PF error code (APM 8.4.2): P=0 (not present), W/R, U/S=0. */
#define PF_READ	 0x0ull
#define PF_WRITE 0x2ull

static const struct exit_case exit_cases[] = {
    {.name = "VMMCALL",
     ROUTINE(l2_vmmcall),
     .intercept = INTERCEPT_VMMCALL,
     .rax = MAGIC_RAX,
     .code = SVM_EXIT_VMMCALL,
     .emulate = reply_rax,
     .resumed = saw_reply_rax},
    {.name = "CPUID",
     ROUTINE(l2_cpuid),
     .intercept = INTERCEPT_CPUID,
     .rax = 0x40000123,
     .code = SVM_EXIT_CPUID,
     .setup = cpuid_setup,
     .emulate = cpuid_emulate,
     .resumed = cpuid_resumed},
    {.name = "OUT imm8, AL",
     ROUTINE(l2_outb_imm),
     .intercept = INTERCEPT_IOIO_PROT,
     .rax = 0x5A,
     .code = SVM_EXIT_IOIO,
     .info1 = SVM_IOIO_SZ8 | IOIO_PORT(PORT_POST),
     .info1_mask = IOIO_CHECKED,
     .info2_defined = true,
     .setup = io_setup,
     .resumed = continued},
    {.name = "IN AX, DX",
     ROUTINE(l2_inw_dx),
     .intercept = INTERCEPT_IOIO_PROT,
     .rax = MAGIC_RAX,
     .code = SVM_EXIT_IOIO,
     .info1 = SVM_IOIO_TYPE_IN | SVM_IOIO_SZ16 | IOIO_PORT(PORT_W),
     .info1_mask = IOIO_CHECKED,
     .info2_defined = true,
     .setup = inw_setup,
     .emulate = inw_emulate,
     .resumed = inw_resumed},
    {.name = "OUT DX, EAX",
     ROUTINE(l2_outl_dx),
     .intercept = INTERCEPT_IOIO_PROT,
     .rax = 0xCAFEF00D,
     .code = SVM_EXIT_IOIO,
     .info1 = SVM_IOIO_SZ32 | IOIO_PORT(PORT_L),
     .info1_mask = IOIO_CHECKED,
     .info2_defined = true,
     .setup = outl_setup,
     .resumed = continued},
    {.name = "REP OUTSB",
     ROUTINE(l2_rep_outsb),
     .intercept = INTERCEPT_IOIO_PROT,
     .rax = MAGIC_RAX,
     .code = SVM_EXIT_IOIO,
     .info1 = SVM_IOIO_STR | SVM_IOIO_REP | SVM_IOIO_SZ8 | IOIO_PORT(PORT_STR),
     .info1_mask = IOIO_CHECKED,
     .info2_defined = true,
     .setup = outsb_setup,
     .resumed = outsb_resumed},
    {.name = "INSB",
     ROUTINE(l2_insb),
     .intercept = INTERCEPT_IOIO_PROT,
     .rax = MAGIC_RAX,
     .code = SVM_EXIT_IOIO,
     .info1 = SVM_IOIO_TYPE_IN | SVM_IOIO_STR | SVM_IOIO_SZ8 | IOIO_PORT(PORT_INS),
     .info1_mask = IOIO_CHECKED,
     .info2_defined = true,
     .setup = insb_setup,
     .resumed = insb_resumed},
    {.name = "RDMSR STAR",
     ROUTINE(l2_rdmsr),
     .intercept = INTERCEPT_MSR_PROT,
     .rax = MAGIC_RAX,
     .code = SVM_EXIT_MSR,
     .info1 = SVM_EXITINFO_MSR_READ,
     .info1_mask = ~0ull,
     .setup = msr_setup,
     .emulate = rdmsr_emulate,
     .resumed = rdmsr_resumed},
    {.name = "WRMSR STAR",
     ROUTINE(l2_wrmsr),
     .intercept = INTERCEPT_MSR_PROT,
     .rax = 0x11223344,
     .code = SVM_EXIT_MSR,
     .info1 = SVM_EXITINFO_MSR_WRITE,
     .info1_mask = ~0ull,
     .setup = msr_setup,
     .resumed = wrmsr_resumed},
    {.name = "HLT",
     ROUTINE(l2_hlt),
     .intercept = INTERCEPT_HLT,
     .rax = MAGIC_RAX,
     .code = SVM_EXIT_HLT,
     .resumed = continued},
    {.name = "UD2 (#UD intercept)",
     ROUTINE(l2_ud2),
     .intercept = INTERCEPT_EXCEPTION(EXC_UD),
     .rax = MAGIC_RAX,
     .code = SVM_EXIT_EXCP(EXC_UD),
     .resumed = continued},
    {.name = "load from an unmapped page (#PF intercept)",
     ROUTINE(l2_load),
     .intercept = INTERCEPT_EXCEPTION(EXC_PF),
     .rax = MAGIC_RAX,
     .code = SVM_EXIT_EXCP(EXC_PF),
     .info1 = PF_READ,
     .info1_mask = ~0ull,
     .info2_defined = true,
     .setup = pf_setup,
     .resumed = continued},
    {.name = "store to an unmapped page (#PF intercept)",
     ROUTINE(l2_store),
     .intercept = INTERCEPT_EXCEPTION(EXC_PF),
     .rax = MAGIC_RAX,
     .code = SVM_EXIT_EXCP(EXC_PF),
     .info1 = PF_WRITE,
     .info1_mask = ~0ull,
     .info2_defined = true,
     .setup = pf_setup,
     .resumed = continued},
    /* APM 15.12: INT3 raises #BP, which the exception intercept catches before delivery. */
    {.name = "INT3 (#BP intercept)",
     ROUTINE(l2_int3),
     .intercept = INTERCEPT_EXCEPTION(EXC_BP),
     .rax = MAGIC_RAX,
     .code = SVM_EXIT_EXCP(EXC_BP),
     .resumed = continued,
     .qemu_deviates = int3_not_intercepted,
     .deviation = "INT3 not caught by the #BP intercept (APM 15.12)"},
};

/* The #PF address goes to EXITINFO2 (APM 15.12), known only at run time. */
static uint64_t expected_info2(const struct exit_case *t)
{
	if (t->code == SVM_EXIT_IOIO)
		return (uint64_t)t->next;
	return (uint64_t)boot_stack_guard;
}

static bool exit_state_ok(const struct exit_case *t, uint64_t code)
{
	const struct vmcb_control *c = &l2.vmcb.control;
	const struct vmcb_save *s = &l2.vmcb.save;
	bool ok = code == t->code && s->rip == (uint64_t)t->insn && s->rsp == l2_rsp &&
		  s->rax == t->rax && c->exit_int_info == 0 && c->event_inj == 0;

	ok &= (c->exit_info1 & t->info1_mask) == t->info1;
	if (t->info2_defined)
		ok &= c->exit_info2 == expected_info2(t);
	if (!ok)
		kprintf(
		    "# exit 0x%lx info1 0x%lx info2 0x%lx rip 0x%lx (insn at %p) rsp 0x%lx (0x%lx) "
		    "rax 0x%lx exitintinfo 0x%lx eventinj 0x%lx\n",
		    code, c->exit_info1, c->exit_info2, s->rip, t->insn, s->rsp, l2_rsp, s->rax,
		    c->exit_int_info, c->event_inj);
	return ok;
}

static void run_exit_case(struct tap *tap, const struct exit_case *t)
{
	uint64_t code;
	bool ok;

	memset((void *)l2_out, 0, sizeof(l2_out));
	exc_record_reset(EXC_BP);
	svm_vmcb_init(&l2, t->entry);
	vmcb_set_intercept(&l2.vmcb.control, t->intercept);
	l2.vmcb.save.rax = t->rax;
	if (t->setup)
		t->setup(&l2);
	code = svm_run(&l2);
	if (code == SVM_EXIT_IOIO && nr_ioio < ARRAY_SIZE(ioio_info))
		ioio_info[nr_ioio++] = l2.vmcb.control.exit_info1;

	ok = exit_state_ok(t, code);
	if (!ok && t->qemu_deviates && t->qemu_deviates(code) && !under_nestvisor()) {
		tap_apm(tap, false, true, t->deviation, "%s: #VMEXIT(0x%lx) at it", t->name,
			t->code);
		tap_apm(tap, false, true, t->deviation, "%s: L2 resumes after it", t->name);
		return;
	}
	tap_check(tap, ok,
		  "%s: #VMEXIT(0x%lx) at it, L2's RIP/RSP/RAX saved, EXITINFO as APM, "
		  "EXITINTINFO = EVENTINJ = 0",
		  t->name, t->code);
	if (!ok) {
		tap_check(tap, false, "%s: L2 resumes after it (not run)", t->name);
		return;
	}
	if (t->emulate)
		t->emulate(&l2);
	svm_skip(&l2, (unsigned int)(t->next - t->insn));
	code = svm_run(&l2);
	tap_check(tap, code == SVM_EXIT_VMMCALL && t->resumed(&l2),
		  "%s: L2 resumes after it (%lu bytes) and sees L1's emulation (exit 0x%lx)",
		  t->name, (uint64_t)(t->next - t->insn), code);
}

/*
 * APM 15.10.2: EXITINFO1[9:7] is the address size of the I/O instruction,
 * one-hot; L2 runs in 64-bit mode, so A64.
 */
static void test_ioio_address_size(struct tap *tap)
{
	bool ok = nr_ioio > 0, none = true;

	for (unsigned int i = 0; i < nr_ioio; i++) {
		ok &= (ioio_info[i] & IOIO_ASIZE) == SVM_IOIO_A64;
		none &= !(ioio_info[i] & IOIO_ASIZE);
	}
	if (!tap_apm(tap, ok, none && nr_ioio, "IOIO EXITINFO1 has no address size (APM 15.10.2)",
		     "IOIO EXITINFO1: A64 set, A32/A16 clear for each of %u I/O exits", nr_ioio))
		for (unsigned int i = 0; i < nr_ioio; i++)
			kprintf("# EXITINFO1 0x%lx\n", ioio_info[i]);
}

/* ---- the same instructions, not intercepted ---- */

static void test_cpuid_passthrough(struct tap *tap)
{
	static const uint32_t leaves[] = {0, 0x80000000u};

	for (unsigned int i = 0; i < ARRAY_SIZE(leaves); i++) {
		struct cpuid_regs l1 = cpuid(leaves[i], 0);
		uint64_t code;

		memset((void *)l2_out, 0, sizeof(l2_out));
		svm_vmcb_init(&l2, l2_cpuid);
		l2.vmcb.save.rax = leaves[i];
		l2.regs.rcx = 0;
		code = svm_run(&l2);
		tap_check(tap,
			  code == SVM_EXIT_VMMCALL && l2_out[0] == l1.eax && l2_out[1] == l1.ebx &&
			      l2_out[2] == l1.ecx && l2_out[3] == l1.edx,
			  "CPUID 0x%x not intercepted: L2 gets L1's values (exit 0x%lx)", leaves[i],
			  code);
	}
}

/* MSR_PROT with STAR's bits clear: L2 reads the STAR L1 holds (VMRUN does not switch it). */
static void test_rdmsr_passthrough(struct tap *tap)
{
	uint64_t code;

	memset((void *)l2_out, 0, sizeof(l2_out));
	svm_vmcb_init(&l2, l2_rdmsr);
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_MSR_PROT);
	memset(msrpm, 0, sizeof(msrpm));
	msrpm_intercept(MSR_LSTAR, true, true);
	l2.vmcb.control.msrpm_base_pa = (uint64_t)msrpm;
	l2.regs.rcx = MSR_STAR;
	code = svm_run(&l2);
	tap_check(tap,
		  code == SVM_EXIT_VMMCALL && (l2_out[1] << 32 | (uint32_t)l2_out[0]) == STAR_L1,
		  "RDMSR STAR, its MSRPM bits clear: L2 reads L1's STAR (exit 0x%lx, 0x%lx:%lx)",
		  code, l2_out[1], l2_out[0]);
}

/*
 * APM 15.18 (and vol. 3 VMMCALL): without the VMMCALL intercept, VMMCALL
 * raises #UD in the guest. Taken through L2's IDT (L1's) when #UD is not
 * intercepted, or a #VMEXIT(#UD) at the VMMCALL when it is.
 */
static void test_vmmcall_ud(struct tap *tap)
{
	struct exc_record r;
	uint64_t code;

	svm_vmcb_init(&l2, l2_vmmcall_ud);
	vmcb_clear_intercept(&l2.vmcb.control, INTERCEPT_VMMCALL);
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_HLT);
	l2.vmcb.save.rax = MAGIC_RAX;
	exc_record_reset(EXC_UD);
	code = svm_run(&l2);
	r = exc_record_get(EXC_UD);
	tap_check(tap,
		  code == SVM_EXIT_HLT && r.count == 1 && r.rip == (uint64_t)l2_vmmcall_ud_insn &&
		      r.cpl == 0 && l2_out[0] == MAGIC_RAX,
		  "VMMCALL not intercepted: #UD in L2 at the VMMCALL (exit 0x%lx, %u #UD at 0x%lx)",
		  code, r.count, r.rip);

	svm_vmcb_init(&l2, l2_vmmcall_ud);
	vmcb_clear_intercept(&l2.vmcb.control, INTERCEPT_VMMCALL);
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_HLT);
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_EXCEPTION(EXC_UD));
	exc_record_reset(EXC_UD);
	code = svm_run(&l2);
	tap_check(tap,
		  code == SVM_EXIT_EXCP(EXC_UD) &&
		      l2.vmcb.save.rip == (uint64_t)l2_vmmcall_ud_insn &&
		      exc_record_get(EXC_UD).count == 0,
		  "VMMCALL not intercepted, #UD intercepted: #VMEXIT(0x46) at the VMMCALL (exit "
		  "0x%lx, rip 0x%lx)",
		  code, l2.vmcb.save.rip);
	svm_skip(&l2, (unsigned int)(l2_vmmcall_ud_next - l2_vmmcall_ud_insn));
	code = svm_run(&l2);
	tap_check(tap, code == SVM_EXIT_HLT && l2.vmcb.save.rip == (uint64_t)l2_vmmcall_ud_hlt,
		  "... L2 resumes after the VMMCALL and stops on its HLT (exit 0x%lx)", code);
}

#define NR_TESTS (2 * ARRAY_SIZE(exit_cases) + 1 + 2 + 1 + 3)

void guest_main(struct tap *tap)
{
	uint64_t star;

	tap_plan(tap, NR_TESTS);
	if (!svm_enable())
		guest_bail_out("no SVM");
	exc_record_install(EXC_UD);
	exc_record_install(EXC_BP);
	star = rdmsr(MSR_STAR);
	wrmsr(MSR_STAR, STAR_L1);
	for (unsigned int i = 0; i < ARRAY_SIZE(exit_cases); i++)
		run_exit_case(tap, &exit_cases[i]);
	test_ioio_address_size(tap);
	test_cpuid_passthrough(tap);
	test_rdmsr_passthrough(tap);
	test_vmmcall_ud(tap);
	wrmsr(MSR_STAR, star);
}
