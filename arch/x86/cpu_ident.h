/* Who made this CPU and which one it is (CPUID 0, 1, 8000_0002-4). */
#ifndef ARCH_X86_CPU_IDENT_H
#define ARCH_X86_CPU_IDENT_H

#include <stdint.h>
#include "arch/x86/cpu.h"

struct cpu_ident {
	char vendor[13];
	char brand[49];
	unsigned int family, model, stepping;
};

/* Pure: leaf0 and leaf1 are CPUID 0 and 1; brand is 8000_0002-4, or NULL when absent. */
void cpu_ident_decode(struct cpu_ident *id, const struct cpuid_regs *leaf0,
		      const struct cpuid_regs *leaf1, const struct cpuid_regs brand[3]);
void cpu_ident_read(struct cpu_ident *id);

#endif
