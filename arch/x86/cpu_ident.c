#include <stdbool.h>
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_ident.h"
#include "kernel/kstring.h"

void cpu_ident_decode(struct cpu_ident *id, const struct cpuid_regs *leaf0,
		      const struct cpuid_regs *leaf1, const struct cpuid_regs brand[3])
{
	unsigned int base_family = (leaf1->eax >> 8) & 0xF;
	unsigned int base_model = (leaf1->eax >> 4) & 0xF;

	memset(id, 0, sizeof(*id));
	/* The vendor string is EBX, EDX, ECX in that order. */
	memcpy(id->vendor, &leaf0->ebx, 4);
	memcpy(id->vendor + 4, &leaf0->edx, 4);
	memcpy(id->vendor + 8, &leaf0->ecx, 4);
	if (brand) {
		for (int i = 0; i < 3; i++)
			memcpy(id->brand + 16 * i, &brand[i], 16);
	}
	/*
	 * APM vol. 3 CPUID Fn0000_0001_EAX: the extended fields count only when
	 * the base family is 0xF (Intel also extends the model of family 6).
	 */
	id->family = base_family;
	id->model = base_model;
	if (base_family == 0xF)
		id->family += (leaf1->eax >> 20) & 0xFF;
	if (base_family == 0xF || base_family == 6)
		id->model |= ((leaf1->eax >> 16) & 0xF) << 4;
	id->stepping = leaf1->eax & 0xF;
}

void cpu_ident_read(struct cpu_ident *id)
{
	struct cpuid_regs leaf0 = cpuid(0, 0), leaf1 = cpuid(1, 0);
	struct cpuid_regs brand[3];
	bool has_brand = cpuid(0x80000000u, 0).eax >= 0x80000004u;

	if (has_brand)
		for (unsigned int i = 0; i < 3; i++)
			brand[i] = cpuid(0x80000002u + i, 0);
	cpu_ident_decode(id, &leaf0, &leaf1, has_brand ? brand : 0);
}
