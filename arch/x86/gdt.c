/*
 * The long-mode GDT and TSS. The TSS exists for its IST stacks (APM 8.9.4):
 * #DF, NMI and #MC get known-good stacks so that a kernel stack overflow
 * still ends in a readable PANIC line rather than a triple fault.
 */
#include <stdint.h>
#include "arch/x86/gdt.h"
#include "arch/x86/stacks.h"

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "APM 12.2.5: 64-bit TSS is 104 bytes");
_Static_assert(__builtin_offsetof(struct tss64, ist) == 0x24, "APM 12.2.5: IST1 at 0x24");

static struct tss64 tss __attribute__((aligned(16)));

/* Code/data descriptors: base 0, limit 0xFFFFF, G=1 (APM 4.8). */
#define DESC_CODE64(dpl) (0x00AF9A000000FFFFull | ((uint64_t)(dpl) << 45))
#define DESC_DATA(dpl)	 (0x00CF92000000FFFFull | ((uint64_t)(dpl) << 45))

static uint64_t gdt[7] __attribute__((aligned(16))) = {
    [GDT_KERNEL_CS >> 3] = DESC_CODE64(0),
    [GDT_KERNEL_DS >> 3] = DESC_DATA(0),
    [GDT_USER_CS >> 3] = DESC_CODE64(3),
    [GDT_USER_DS >> 3] = DESC_DATA(3),
};

void gdt_init(void)
{
	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof(tss) - 1;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = {sizeof(gdt) - 1, (uint64_t)gdt};

	tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)ist_stack_top(IST_DOUBLE_FAULT);
	tss.ist[IST_NMI - 1] = (uint64_t)ist_stack_top(IST_NMI);
	tss.ist[IST_MACHINE_CHECK - 1] = (uint64_t)ist_stack_top(IST_MACHINE_CHECK);
	/* No I/O bitmap: the base points past the limit (APM 12.2.5). */
	tss.iomap_base = sizeof(tss);

	/* APM 4.8.3: 16-byte available 64-bit TSS descriptor, type 9, P=1. */
	gdt[GDT_TSS >> 3] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ull << 40 |
			    ((limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56;
	gdt[(GDT_TSS >> 3) + 1] = base >> 32;

	asm volatile("lgdt %0\n\t"
		     "pushq %1\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "movw %w2, %%ds\n\t"
		     "movw %w2, %%es\n\t"
		     "movw %w2, %%ss\n\t"
		     "ltr %w3"
		     :
		     : "m"(gdtr), "i"(GDT_KERNEL_CS), "r"(GDT_KERNEL_DS), "r"(GDT_TSS)
		     : "rax", "memory");
}
