/*
 * Not linked: compiled to assembly, and the "->NAME value" markers become
 * build/include/generated/asm_offsets.h, so world.S uses offsets that come
 * from the C structs (STYLE H6, trap T2).
 */
#include <stddef.h>
#include "arch/x86/svm/guest_regs.h"

#define DEFINE(sym, val) asm volatile("\n.ascii \"->" #sym " %c0\"" ::"i"(val))
#define GPR(n)		 DEFINE(REGS_##n, offsetof(struct guest_regs, gpr[GPR_##n]))

void asm_offsets(void);

void asm_offsets(void)
{
	GPR(RCX);
	GPR(RDX);
	GPR(RBX);
	GPR(RBP);
	GPR(RSI);
	GPR(RDI);
	GPR(R8);
	GPR(R9);
	GPR(R10);
	GPR(R11);
	GPR(R12);
	GPR(R13);
	GPR(R14);
	GPR(R15);
}
