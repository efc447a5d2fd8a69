/*
 * Expected faults: an instruction that may fault is given a fixup address in
 * the .extable section. When it faults, the exception handler resumes at the
 * fixup with RDI = EXTABLE_FAULTED | vector instead of stopping the machine.
 * The kernel uses this to probe MSRs; the test guests to assert that an
 * instruction raises exactly the vector the APM says.
 */
#ifndef ARCH_X86_EXTABLE_H
#define ARCH_X86_EXTABLE_H

#include <stdbool.h>
#include <stdint.h>

#define EXTABLE_FAULTED 0x100u

struct extable_entry {
	uint64_t fault_rip;
	uint64_t fixup_rip;
};

/* The asm fragment that registers label 1 (faulting) with fixup label 2. */
#define EXTABLE_ENTRY_1_2                                                                          \
	".pushsection .extable, \"a\"\n\t.balign 8\n\t.quad 1b, 2b\n\t.popsection\n\t"

struct exc_frame;
/* Redirects frame to its fixup if the faulting RIP has one; returns whether it did. */
bool extable_fixup(struct exc_frame *frame);

/* Returns 0, or EXTABLE_FAULTED | vector if RDMSR faulted. */
static inline uint32_t rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "1: rdmsr\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=a"(lo), "=d"(hi), "=&D"(fault)
		     : "c"(msr));
	*val = fault ? 0 : (uint64_t)hi << 32 | lo;
	return (uint32_t)fault;
}

static inline uint32_t wrmsr_safe(uint32_t msr, uint64_t val)
{
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "1: wrmsr\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault)
		     : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
	return (uint32_t)fault;
}

/* Reads a quadword at addr; returns 0, or EXTABLE_FAULTED | vector. */
static inline uint32_t read_u64_safe(uint64_t addr, uint64_t *val)
{
	uint64_t fault, v = 0;

	asm volatile("xor %%edi, %%edi\n\t"
		     "1: movq (%2), %1\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault), "+r"(v)
		     : "r"(addr)
		     : "memory");
	*val = v;
	return (uint32_t)fault;
}

/* Executes UD2 under a fixup: the exception path's own self-test. */
static inline uint32_t ud2_safe(void)
{
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "1: ud2\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault)::"memory");
	return (uint32_t)fault;
}

#endif
