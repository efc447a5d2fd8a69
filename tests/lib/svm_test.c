/* See svm_test.h. */
#include <stdarg.h>
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/idt.h"
#include "kernel/console.h"
#include "kernel/kprintf.h"
#include "kernel/multiboot.h"
#include "tests/lib/guest.h"
#include "tests/lib/svm_test.h"

#define STR(x)	   #x
#define XSTR(x)	   STR(x)
#define ADDR_MASK  0x000FFFFFFFFFF000ull
#define PT_ENTRIES 512
#define PAGE_SIZE  4096ull

#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)

/* The vector user code returns through; its gate alone has DPL 3. */
#define CPL3_RETURN_VECTOR 0xE3
#define CPL3_STACK_SIZE	   16384
/* 64-bit interrupt gate, P=1, DPL=3 (APM 4.8.4). */
#define GATE_INTERRUPT_DPL3 0xEE

/* ---- exception recorder ---- */

static volatile struct exc_record records[NR_EXCEPTIONS];

static void record_handler(struct exc_frame *f)
{
	volatile struct exc_record *r = &records[f->vector];

	r->count++;
	r->error = f->error;
	r->rip = f->rip;
	r->cpl = f->cs & 3;
	if (!extable_fixup(f))
		exception_unhandled(f);
}

void exc_record_install(unsigned int vector)
{
	if (vector >= NR_EXCEPTIONS)
		guest_bail_out("exc_record_install: vector %u is not an exception", vector);
	exc_record_reset(vector);
	idt_set_handler(vector, record_handler);
}

void exc_record_remove(unsigned int vector)
{
	if (vector < NR_EXCEPTIONS)
		idt_set_handler(vector, 0);
}

struct exc_record exc_record_get(unsigned int vector)
{
	struct exc_record r = {0};

	if (vector < NR_EXCEPTIONS) {
		r.count = records[vector].count;
		r.error = records[vector].error;
		r.rip = records[vector].rip;
		r.cpl = records[vector].cpl;
	}
	return r;
}

void exc_record_reset(unsigned int vector)
{
	if (vector < NR_EXCEPTIONS) {
		records[vector].count = 0;
		records[vector].error = ~0ull;
		records[vector].rip = 0;
		records[vector].cpl = 0;
	}
}

/* ---- CPL 3 ---- */

extern char __image_start[], __image_end[];

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static uint8_t cpl3_user_stack[CPL3_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t cpl3_trap_stack[CPL3_STACK_SIZE] __attribute__((aligned(16)));
/* Read by the asm below: where user code starts its stack, and L1's RSP to return to. */
uint64_t cpl3_user_rsp, cpl3_kernel_rsp;
void cpl3_resume(void);

/*
 * Register contract of cpl3_call(fn = RDI, arg = RSI): callee-saved
 * registers are kept on the kernel stack, whose RSP is left in
 * cpl3_kernel_rsp; IRETQ enters fn at CPL 3 with RFLAGS = 2 (IF = 0); fn's
 * return value comes back in RAX, which the gate handler leaves alone while
 * it points the frame back at cpl3_resume at CPL 0.
 */
/* clang-format off */
asm(".pushsection .text\n"
    ".global cpl3_call\n"
    "cpl3_call:\n\t"
    "push %rbp\n\t"
    "mov %rsp, %rbp\n\t"
    "push %rbx\n\t"
    "push %r12\n\t"
    "push %r13\n\t"
    "push %r14\n\t"
    "push %r15\n\t"
    "mov %rsp, cpl3_kernel_rsp(%rip)\n\t"
    "pushq $" XSTR(GDT_USER_DS) "\n\t"
    "pushq cpl3_user_rsp(%rip)\n\t"
    "pushq $2\n\t"
    "pushq $" XSTR(GDT_USER_CS) "\n\t"
    "lea cpl3_entry(%rip), %rax\n\t"
    "push %rax\n\t"
    "iretq\n"
    "cpl3_entry:\n\t"
    "mov %rdi, %rax\n\t"
    "mov %rsi, %rdi\n\t"
    "call *%rax\n\t"
    "int $" XSTR(CPL3_RETURN_VECTOR) "\n\t"
    "ud2\n"
    ".global cpl3_resume\n"
    "cpl3_resume:\n\t"
    "mov $" XSTR(GDT_KERNEL_DS) ", %ecx\n\t"
    "mov %ecx, %ds\n\t"
    "mov %ecx, %es\n\t"
    "pop %r15\n\t"
    "pop %r14\n\t"
    "pop %r13\n\t"
    "pop %r12\n\t"
    "pop %rbx\n\t"
    "pop %rbp\n\t"
    "ret\n"
    ".popsection");
/* clang-format on */

static void cpl3_return_handler(struct exc_frame *f)
{
	if ((f->cs & 3) != 3)
		guest_bail_out("CPL 3 return gate entered from CPL %lu at 0x%lx", f->cs & 3,
			       f->rip);
	f->rip = (uint64_t)cpl3_resume;
	f->cs = GDT_KERNEL_CS;
	f->rflags = 2;
	f->rsp = cpl3_kernel_rsp;
	f->ss = GDT_KERNEL_DS;
}

/* Sets U at every level that maps va (4 KiB or 2 MiB page); false if va is not mapped. */
static bool set_user(uint64_t va)
{
	uint64_t *table = (uint64_t *)(read_cr3() & ADDR_MASK);

	for (int level = 3; level >= 0; level--) {
		uint64_t *e = &table[(va >> (12 + 9 * level)) & (PT_ENTRIES - 1)];

		if (!(*e & PTE_P))
			return false;
		*e |= PTE_U;
		if (level == 0 || (level <= 2 && (*e & PTE_PS)))
			return true;
		table = (uint64_t *)(*e & ADDR_MASK);
	}
	return true;
}

bool cpl3_init(void)
{
	static bool done;
	struct desc_ptr gdtr, idtr;
	uint16_t tr;
	uint64_t *desc, tss;

	if (done)
		return true;
	/* With SMEP or SMAP, U=1 on L1's own pages would fault at CPL 0. */
	if (read_cr4() & (CR4_SMEP | CR4_SMAP)) {
		kprintf("# cpl3_init: CR4.SMEP/SMAP set\n");
		return false;
	}
	/* The stack guard page stays unmapped; every other page of the image becomes U=1. */
	for (uint64_t va = (uint64_t)__image_start & ~(PAGE_SIZE - 1); va < (uint64_t)__image_end;
	     va += PAGE_SIZE)
		set_user(va);
	write_cr3(read_cr3());

	/* APM 8.9.3: an interrupt from CPL 3 switches to TSS.RSP0 (at offset 4). */
	asm volatile("sgdt %0" : "=m"(gdtr));
	asm volatile("str %0" : "=r"(tr));
	desc = (uint64_t *)(gdtr.base + (tr & ~7u));
	tss = ((desc[0] >> 16) & 0xFFFFFF) | ((desc[0] >> 56) & 0xFF) << 24 | desc[1] << 32;
	*(volatile uint64_t *)(tss + 4) = (uint64_t)(cpl3_trap_stack + CPL3_STACK_SIZE);

	/* The gate's DPL is byte 5 of the 16-byte IDT entry (APM 4.8.4). */
	asm volatile("sidt %0" : "=m"(idtr));
	((volatile uint8_t *)idtr.base)[16 * CPL3_RETURN_VECTOR + 5] = GATE_INTERRUPT_DPL3;
	idt_set_handler(CPL3_RETURN_VECTOR, cpl3_return_handler);
	cpl3_user_rsp = (uint64_t)(cpl3_user_stack + CPL3_STACK_SIZE);
	done = true;
	return true;
}

/* ---- machine facts ---- */

unsigned int cpu_maxphyaddr(void)
{
	if (cpuid(0x80000000u, 0).eax < 0x80000008u)
		return 36;
	return cpuid(0x80000008u, 0).eax & 0xFF;
}

uint64_t guest_ram_top(void)
{
	uint64_t top = 0;

	for (unsigned int i = 0; !guest_boot_error && i < guest_boot.nr_regions; i++) {
		const struct mem_region *r = &guest_boot.regions[i];

		if (r->type == MEM_USABLE && r->base + r->len > top)
			top = r->base + r->len;
	}
	return (top + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

/* ---- TAP ---- */

bool tap_apm(struct tap *tap, bool ok, bool qemu_deviation, const char *why, const char *fmt, ...)
{
	char name[200];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (!ok && qemu_deviation && !under_nestvisor()) {
		char reason[160];

		ksnprintf(reason, sizeof(reason), "QEMU deviation: %s", why);
		tap_skip(tap, reason, "%s", name);
		return false;
	}
	return tap_check(tap, ok, "%s", name);
}

bool svm_exit_is_invalid(uint64_t exit_code)
{
	if (under_nestvisor())
		return exit_code == 0xFFFFFFFFFFFFFFFFull;
	return (uint32_t)exit_code == 0xFFFFFFFFu;
}
