/*
 * The encodings of the instructions L0 intercepts and emulates (APM vol. 3),
 * packed little-endian with their length. Without NRIPS the length of the
 * intercepted instruction must come from its bytes; when they are exactly
 * this encoding (no prefixes), nothing needs decoding.
 */
#ifndef ARCH_X86_SVM_KNOWN_INSN_H
#define ARCH_X86_SVM_KNOWN_INSN_H

#include <stdint.h>

struct known_insn {
	uint32_t bytes;
	unsigned int len;
};

#define KNOWN_INSN2(a, b)    ((struct known_insn){(a) | (b) << 8, 2})
#define KNOWN_INSN3(a, b, c) ((struct known_insn){(a) | (b) << 8 | (c) << 16, 3})

#define INSN_HLT     ((struct known_insn){0xF4, 1})
#define INSN_CPUID   KNOWN_INSN2(0x0F, 0xA2)
#define INSN_RDMSR   KNOWN_INSN2(0x0F, 0x32)
#define INSN_WRMSR   KNOWN_INSN2(0x0F, 0x30)
#define INSN_VMRUN   KNOWN_INSN3(0x0F, 0x01, 0xD8)
#define INSN_VMMCALL KNOWN_INSN3(0x0F, 0x01, 0xD9)
#define INSN_VMLOAD  KNOWN_INSN3(0x0F, 0x01, 0xDA)
#define INSN_VMSAVE  KNOWN_INSN3(0x0F, 0x01, 0xDB)
#define INSN_STGI    KNOWN_INSN3(0x0F, 0x01, 0xDC)
#define INSN_CLGI    KNOWN_INSN3(0x0F, 0x01, 0xDD)
#define INSN_INVLPGA KNOWN_INSN3(0x0F, 0x01, 0xDF)

#endif
