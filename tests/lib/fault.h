/*
 * Expected-fault helpers beyond arch/x86/extable.h (rdmsr_safe, wrmsr_safe,
 * read_u64_safe, ud2_safe), built on the same exception table: each returns
 * 0, or EXTABLE_FAULTED | vector when the instruction faulted, so a test can
 * assert the exact vector the APM names.
 */
#ifndef TESTS_LIB_FAULT_H
#define TESTS_LIB_FAULT_H

#include <stdint.h>
#include "arch/x86/extable.h"

/* The vector a *_safe helper reported, or -1 if nothing faulted. */
static inline int fault_vector(uint32_t fault)
{
	return fault ? (int)(fault & 0xFF) : -1;
}

static inline uint32_t write_u64_safe(uint64_t addr, uint64_t val)
{
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "1: movq %2, (%1)\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault)
		     : "r"(addr), "r"(val)
		     : "memory");
	return (uint32_t)fault;
}

/*
 * VMMCALL with RAX = 0. Outside a hypervisor that intercepts it, VMMCALL
 * raises #UD (APM vol. 3 "VMMCALL"); under nestvisor it returns to the next
 * instruction. The hypercall may clobber the CPUID-style registers.
 */
static inline uint32_t vmmcall_safe(void)
{
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "xor %%eax, %%eax\n\t"
		     "1: vmmcall\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault)::"rax", "rbx", "rcx", "rdx", "memory");
	return (uint32_t)fault;
}

#endif
