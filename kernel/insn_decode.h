/*
 * x86 instruction decoder for the few instructions the hypervisor handles
 * itself (AMD APM vol. 3, ch. 1 "Instruction Encoding" and the instruction
 * reference). Without NRIPS and decode assists the hypervisor has to find
 * the length of an intercepted instruction to step past it, and the operand
 * of a MOV that faulted on an emulated MMIO page.
 *
 * Pure logic: the caller fetches the bytes (kernel/guest_walk.h) and says
 * which code-segment size the guest runs in.
 */
#ifndef KERNEL_INSN_DECODE_H
#define KERNEL_INSN_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* The architectural limit on an instruction's length (APM vol. 3, 1.1). */
#define INSN_MAX_LEN 15

/*
 * The code segment's default operand and address size. The caller derives
 * it: EFER.LMA && CS.L -> MODE_LONG64; else CR0.PE=0 -> MODE_REAL16; else
 * CS.D ? MODE_PROT32 : MODE_PROT16 (virtual-8086 mode is MODE_PROT16).
 */
enum cpu_mode { MODE_REAL16, MODE_PROT16, MODE_PROT32, MODE_LONG64 };

enum insn_kind {
	INSN_UNKNOWN,
	INSN_MOV_LOAD,	    /* 8A, 8B, A0, A1: reg <- memory */
	INSN_MOV_STORE,	    /* 88, 89, A2, A3: memory <- reg */
	INSN_MOV_STORE_IMM, /* C6 /0, C7 /0: memory <- imm */
	INSN_MOVZX_LOAD,    /* 0F B6, 0F B7 */
	INSN_MOVSX_LOAD,    /* 0F BE, 0F BF */
	INSN_OTHER_KNOWN,   /* an instruction whose length is all we need, see opcode[] */
};

/* Segment register numbers, as in the ModRM sreg encoding (APM vol. 3, 2.5.1). */
#define INSN_SEG_NONE (-1)
#define INSN_SEG_ES   0
#define INSN_SEG_CS   1
#define INSN_SEG_SS   2
#define INSN_SEG_DS   3
#define INSN_SEG_FS   4
#define INSN_SEG_GS   5

#define INSN_REG_NONE (-1)

/*
 * A memory operand. Its effective address is base + index * scale + disp,
 * truncated to insn.addr_size bytes; with rip_relative it is the address of
 * the next instruction (rip + insn.len) + disp instead. The linear address
 * adds the base of segment seg (ignored in 64-bit mode except FS and GS).
 */
struct insn_mem {
	int base;	    /* GPR number 0-15, or INSN_REG_NONE */
	int index;	    /* GPR number 0-15, or INSN_REG_NONE */
	unsigned int scale; /* 1, 2, 4 or 8 */
	uint64_t disp;	    /* sign-extended displacement, or the zero-extended moffs */
	bool rip_relative;
	int seg; /* the override if any, else SS for rBP/rSP-based forms, else DS */
};

struct insn {
	enum insn_kind kind;
	unsigned int len; /* total length including prefixes */
	/*
	 * Loads and stores: the memory operand size in bytes (1, 2, 4, 8).
	 * INSN_OTHER_KNOWN: the effective operand size (1 for byte forms).
	 */
	unsigned int op_size;
	unsigned int addr_size; /* effective address size in bytes: 2, 4, 8 */
	/*
	 * Loads and stores: the GPR 0-15 (ModRM.reg with REX.R; 0 for the
	 * moffs forms). In an 8-bit operation without any REX prefix, 4-7 are
	 * AH, CH, DH, BH: reg_high8 is then set and reg is still 4-7.
	 * Other instructions with a ModRM byte: ModRM.reg with REX.R (the
	 * CR/DR number of MOV CR/DR, with LOCK MOV CR0 left for the caller).
	 */
	unsigned int reg;
	bool reg_high8;
	unsigned int rm;       /* ModRM.rm with REX.B: the GPR of MOV CR/DR */
	unsigned int dst_size; /* MOVZX/MOVSX: destination register size in bytes */
	/*
	 * MOV_STORE_IMM: the op_size-byte value stored (imm32 sign-extended for
	 * a 64-bit store). INT n and IN/OUT imm8: the zero-extended byte.
	 */
	uint64_t imm;
	uint8_t opcode[3]; /* the opcode bytes after prefixes and REX; 0F 01 xx includes ModRM */
	unsigned int opcode_len;
	bool has_modrm;
	uint8_t modrm;
	bool has_mem; /* mem is valid */
	struct insn_mem mem;
	bool rep;   /* F3 was the last of F2/F3 */
	bool repne; /* F2 was the last of F2/F3 */
	bool lock;
	bool op_size_override;	 /* 66 present */
	bool addr_size_override; /* 67 present */
	int seg_override;	 /* INSN_SEG_*, or INSN_SEG_NONE */
	uint8_t rex;		 /* the REX prefix in effect (64-bit mode), or 0 */
};

/*
 * Decodes the one instruction at bytes[0 .. avail). Returns 0 and fills
 * *out, or -1 (with *out unspecified) if the bytes are not a complete
 * instruction it knows: an opcode outside the list in insn_decode.c, a
 * register form of a MOV (never an MMIO access), more than INSN_MAX_LEN
 * bytes, or fewer than the instruction needs.
 */
int insn_decode(const uint8_t *bytes, unsigned int avail, enum cpu_mode mode, struct insn *out);

#endif
