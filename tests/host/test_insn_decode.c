/* host-test-sources: kernel/insn_decode.c */
/*
 * Host unit tests for kernel/insn_decode.c.
 *
 * The byte strings are assembled by hand from the APM vol. 3 encodings and
 * were checked once against GNU as/objdump while the table was written;
 * the tests do not need them. Every accepted case is also decoded from
 * every shorter prefix of its bytes (each must fail) and with trailing
 * bytes (the result must not change). Each decode reads from a heap copy
 * of exactly the bytes offered, so AddressSanitizer catches any read past
 * them.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/insn_decode.h"

#define L   MODE_LONG64
#define P32 MODE_PROT32
#define P16 MODE_PROT16
#define R16 MODE_REAL16

#define NONE INSN_REG_NONE
#define ES   INSN_SEG_ES
#define CS   INSN_SEG_CS
#define SS   INSN_SEG_SS
#define DS   INSN_SEG_DS
#define FS   INSN_SEG_FS
#define GS   INSN_SEG_GS

/* GPR numbers. */
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RSP 4
#define RBP 5
#define RSI 6
#define RDI 7

struct mem_exp {
	int base, index;
	unsigned int scale;
	uint64_t disp;
	bool rip;
	int seg;
};

#define MEM(b, i, s, d, sg) (&(const struct mem_exp){(b), (i), (s), (uint64_t)(d), false, (sg)})
#define RIPREL(d, sg)	    (&(const struct mem_exp){NONE, NONE, 1, (uint64_t)(d), true, (sg)})

struct dcase {
	enum cpu_mode mode;
	const char *hex; /* the instruction's bytes */
	enum insn_kind kind;
	unsigned int op;  /* expected op_size; 0: not checked */
	unsigned int asz; /* expected addr_size; 0: the mode's default */
	unsigned int reg; /* expected reg */
	bool high8;	  /* expected reg_high8 */
	unsigned int dst; /* expected dst_size */
	uint64_t imm;	  /* expected imm */
	int rm;		  /* expected rm of register forms */
	const char *opc;  /* expected opcode bytes; NULL: not checked */
	bool rep, repne, lock;
	const struct mem_exp *mem; /* NULL: no memory operand */
};

static unsigned int parse_hex(const char *hex, uint8_t *out, unsigned int max)
{
	unsigned int n = 0;
	char *end;

	while (*hex) {
		unsigned long v;

		if (*hex == ' ') {
			hex++;
			continue;
		}
		v = strtoul(hex, &end, 16);
		assert_true(end == hex + 2);
		assert_true(n < max);
		out[n++] = (uint8_t)v;
		hex = end;
	}
	return n;
}

/* Decodes from a heap block of exactly avail bytes. */
static int decode_exact(const uint8_t *bytes, unsigned int avail, enum cpu_mode mode,
			struct insn *out)
{
	uint8_t *copy = malloc(avail ? avail : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, bytes, avail);
	ret = insn_decode(copy, avail, mode, out);
	free(copy);
	return ret;
}

static const unsigned int mode_asz[] = {[R16] = 2, [P16] = 2, [P32] = 4, [L] = 8};

/* clang-format off */
static const struct dcase cases[] = {
	/* 88-8B in 64-bit mode: REX.W/R/B, 66, byte registers. */
	{ L, "89 07", INSN_MOV_STORE, .op = 4, .reg = RAX, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "48 89 07", INSN_MOV_STORE, .op = 8, .reg = RAX, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "4c 89 07", INSN_MOV_STORE, .op = 8, .reg = 8, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "41 89 07", INSN_MOV_STORE, .op = 4, .reg = RAX, .mem = MEM(15, NONE, 1, 0, DS) },
	{ L, "66 89 07", INSN_MOV_STORE, .op = 2, .reg = RAX, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "66 48 89 07", INSN_MOV_STORE, .op = 8, .reg = RAX, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "88 27", INSN_MOV_STORE, .op = 1, .reg = 4, .high8 = true, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "88 3f", INSN_MOV_STORE, .op = 1, .reg = 7, .high8 = true, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "88 1f", INSN_MOV_STORE, .op = 1, .reg = RBX, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "40 88 27", INSN_MOV_STORE, .op = 1, .reg = 4, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "44 88 27", INSN_MOV_STORE, .op = 1, .reg = 12, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "8a 47 10", INSN_MOV_LOAD, .op = 1, .reg = RAX, .mem = MEM(RDI, NONE, 1, 0x10, DS) },
	{ L, "8a 67 10", INSN_MOV_LOAD, .op = 1, .reg = 4, .high8 = true, .mem = MEM(RDI, NONE, 1, 0x10, DS) },
	{ L, "8b 47 f0", INSN_MOV_LOAD, .op = 4, .reg = RAX, .mem = MEM(RDI, NONE, 1, -16, DS) },
	{ L, "8b 87 00 01 00 00", INSN_MOV_LOAD, .op = 4, .mem = MEM(RDI, NONE, 1, 0x100, DS) },
	{ L, "8b 87 00 00 00 80", INSN_MOV_LOAD, .op = 4, .mem = MEM(RDI, NONE, 1, -0x80000000ll, DS) },
	{ L, "8b 0f", INSN_MOV_LOAD, .op = 4, .reg = RCX, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "4d 8b 3f", INSN_MOV_LOAD, .op = 8, .reg = 15, .mem = MEM(15, NONE, 1, 0, DS) },
	/* RIP-relative, and EIP-relative with 67. */
	{ L, "8b 05 78 56 34 12", INSN_MOV_LOAD, .op = 4, .mem = RIPREL(0x12345678, DS) },
	{ L, "8b 05 f0 ff ff ff", INSN_MOV_LOAD, .op = 4, .mem = RIPREL(-16, DS) },
	{ L, "41 8b 05 00 00 00 00", INSN_MOV_LOAD, .op = 4, .mem = RIPREL(0, DS) },
	{ L, "67 8b 05 78 56 34 12", INSN_MOV_LOAD, .op = 4, .asz = 4, .mem = RIPREL(0x12345678, DS) },
	{ L, "64 8b 05 08 00 00 00", INSN_MOV_LOAD, .op = 4, .mem = RIPREL(8, FS) },
	/* SIB: no base, no index, REX.X/B, scales, SS for rSP/rBP bases. */
	{ L, "8b 04 25 78 56 34 12", INSN_MOV_LOAD, .op = 4, .mem = MEM(NONE, NONE, 1, 0x12345678, DS) },
	{ L, "8b 04 8d 00 10 00 00", INSN_MOV_LOAD, .op = 4, .mem = MEM(NONE, RCX, 4, 0x1000, DS) },
	{ L, "8b 04 24", INSN_MOV_LOAD, .op = 4, .mem = MEM(RSP, NONE, 1, 0, SS) },
	{ L, "8b 44 24 08", INSN_MOV_LOAD, .op = 4, .mem = MEM(RSP, NONE, 1, 8, SS) },
	{ L, "8b 45 00", INSN_MOV_LOAD, .op = 4, .mem = MEM(RBP, NONE, 1, 0, SS) },
	{ L, "8b 44 05 00", INSN_MOV_LOAD, .op = 4, .mem = MEM(RBP, RAX, 1, 0, SS) },
	{ L, "41 8b 45 00", INSN_MOV_LOAD, .op = 4, .mem = MEM(13, NONE, 1, 0, DS) },
	{ L, "41 8b 04 24", INSN_MOV_LOAD, .op = 4, .mem = MEM(12, NONE, 1, 0, DS) },
	{ L, "42 8b 04 20", INSN_MOV_LOAD, .op = 4, .mem = MEM(RAX, 12, 1, 0, DS) },
	{ L, "42 8b 04 65 00 00 00 00", INSN_MOV_LOAD, .op = 4, .mem = MEM(NONE, 12, 2, 0, DS) },
	{ L, "41 8b 04 25 78 56 34 12", INSN_MOV_LOAD, .op = 4, .mem = MEM(NONE, NONE, 1, 0x12345678, DS) },
	{ L, "4b 8b 44 fd 80", INSN_MOV_LOAD, .op = 8, .mem = MEM(13, 15, 8, -128, DS) },
	{ L, "8b 84 c8 44 33 22 11", INSN_MOV_LOAD, .op = 4, .mem = MEM(RAX, RCX, 8, 0x11223344, DS) },
	{ L, "8b 4c 1e fc", INSN_MOV_LOAD, .op = 4, .reg = RCX, .mem = MEM(RSI, RBX, 1, -4, DS) },
	/* Segment overrides in 64-bit mode: only FS and GS count. */
	{ L, "64 8b 04 25 28 00 00 00", INSN_MOV_LOAD, .op = 4, .mem = MEM(NONE, NONE, 1, 0x28, FS) },
	{ L, "65 48 8b 04 25 00 00 00 00", INSN_MOV_LOAD, .op = 8, .mem = MEM(NONE, NONE, 1, 0, GS) },
	{ L, "2e 8b 07", INSN_MOV_LOAD, .op = 4, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "36 8b 07", INSN_MOV_LOAD, .op = 4, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "3e 8b 04 24", INSN_MOV_LOAD, .op = 4, .mem = MEM(RSP, NONE, 1, 0, SS) },
	{ L, "65 2e 8b 07", INSN_MOV_LOAD, .op = 4, .mem = MEM(RDI, NONE, 1, 0, GS) },
	/* 32-bit addresses in 64-bit mode. */
	{ L, "67 8b 07", INSN_MOV_LOAD, .op = 4, .asz = 4, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "67 8b 04 8d 00 10 00 00", INSN_MOV_LOAD, .op = 4, .asz = 4, .mem = MEM(NONE, RCX, 4, 0x1000, DS) },
	{ L, "67 41 8b 40 08", INSN_MOV_LOAD, .op = 4, .asz = 4, .mem = MEM(8, NONE, 1, 8, DS) },

	/* C6 /0 and C7 /0: imm8, imm16 with 66, imm32, sign-extended imm32 with REX.W. */
	{ L, "c6 07 ab", INSN_MOV_STORE_IMM, .op = 1, .imm = 0xab, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "c7 07 78 56 34 12", INSN_MOV_STORE_IMM, .op = 4, .imm = 0x12345678, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "c7 07 00 00 00 80", INSN_MOV_STORE_IMM, .op = 4, .imm = 0x80000000, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "66 c7 07 34 12", INSN_MOV_STORE_IMM, .op = 2, .imm = 0x1234, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "66 c7 07 ff ff", INSN_MOV_STORE_IMM, .op = 2, .imm = 0xffff, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "48 c7 07 00 00 00 80", INSN_MOV_STORE_IMM, .op = 8, .imm = 0xffffffff80000000ull, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "48 c7 07 ff ff ff 7f", INSN_MOV_STORE_IMM, .op = 8, .imm = 0x7fffffff, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "49 c7 07 01 00 00 00", INSN_MOV_STORE_IMM, .op = 8, .imm = 1, .mem = MEM(15, NONE, 1, 0, DS) },
	{ L, "4c c7 07 01 00 00 00", INSN_MOV_STORE_IMM, .op = 8, .imm = 1, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "c7 05 10 00 00 00 01 00 00 00", INSN_MOV_STORE_IMM, .op = 4, .imm = 1, .mem = RIPREL(0x10, DS) },
	{ L, "c6 44 24 08 01", INSN_MOV_STORE_IMM, .op = 1, .imm = 1, .mem = MEM(RSP, NONE, 1, 8, SS) },
	{ L, "48 c7 84 24 00 01 00 00 ff ff ff ff", INSN_MOV_STORE_IMM, .op = 8, .imm = ~0ull, .mem = MEM(RSP, NONE, 1, 0x100, SS) },
	{ L, "66 c7 84 24 00 01 00 00 cd ab", INSN_MOV_STORE_IMM, .op = 2, .imm = 0xabcd, .mem = MEM(RSP, NONE, 1, 0x100, SS) },

	/* A0-A3: the offset has the address size. */
	{ L, "a0 88 77 66 55 44 33 22 11", INSN_MOV_LOAD, .op = 1, .mem = MEM(NONE, NONE, 1, 0x1122334455667788ull, DS) },
	{ L, "a1 88 77 66 55 44 33 22 11", INSN_MOV_LOAD, .op = 4, .mem = MEM(NONE, NONE, 1, 0x1122334455667788ull, DS) },
	{ L, "48 a1 00 00 e0 fe 00 00 00 00", INSN_MOV_LOAD, .op = 8, .mem = MEM(NONE, NONE, 1, 0xfee00000, DS) },
	{ L, "67 a2 44 33 22 11", INSN_MOV_STORE, .op = 1, .asz = 4, .mem = MEM(NONE, NONE, 1, 0x11223344, DS) },
	{ L, "66 a3 08 07 06 05 04 03 02 01", INSN_MOV_STORE, .op = 2, .mem = MEM(NONE, NONE, 1, 0x0102030405060708ull, DS) },
	{ L, "64 48 a3 08 00 00 00 00 00 00 00", INSN_MOV_STORE, .op = 8, .mem = MEM(NONE, NONE, 1, 8, FS) },
	{ L, "4c a1 00 00 00 00 00 00 00 00", INSN_MOV_LOAD, .op = 8, .reg = RAX, .mem = MEM(NONE, NONE, 1, 0, DS) },
	{ P32, "a1 78 56 34 12", INSN_MOV_LOAD, .op = 4, .mem = MEM(NONE, NONE, 1, 0x12345678, DS) },
	{ P32, "67 a1 34 12", INSN_MOV_LOAD, .op = 4, .asz = 2, .mem = MEM(NONE, NONE, 1, 0x1234, DS) },
	{ P32, "26 a3 00 00 e0 fe", INSN_MOV_STORE, .op = 4, .mem = MEM(NONE, NONE, 1, 0xfee00000, ES) },
	{ P32, "66 a2 00 03 e0 fe", INSN_MOV_STORE, .op = 1, .mem = MEM(NONE, NONE, 1, 0xfee00300, DS) },
	{ R16, "a1 34 12", INSN_MOV_LOAD, .op = 2, .mem = MEM(NONE, NONE, 1, 0x1234, DS) },
	{ R16, "67 66 a3 78 56 34 12", INSN_MOV_STORE, .op = 4, .asz = 4, .mem = MEM(NONE, NONE, 1, 0x12345678, DS) },
	{ P16, "a0 34 12", INSN_MOV_LOAD, .op = 1, .mem = MEM(NONE, NONE, 1, 0x1234, DS) },
	{ P16, "36 a2 34 12", INSN_MOV_STORE, .op = 1, .mem = MEM(NONE, NONE, 1, 0x1234, SS) },

	/* MOVZX and MOVSX. */
	{ L, "0f b6 07", INSN_MOVZX_LOAD, .op = 1, .dst = 4, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "48 0f b7 07", INSN_MOVZX_LOAD, .op = 2, .dst = 8, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "66 0f b6 07", INSN_MOVZX_LOAD, .op = 1, .dst = 2, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "66 0f b7 07", INSN_MOVZX_LOAD, .op = 2, .dst = 2, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "44 0f be 47 01", INSN_MOVSX_LOAD, .op = 1, .dst = 4, .reg = 8, .mem = MEM(RDI, NONE, 1, 1, DS) },
	{ L, "48 0f bf 05 00 00 00 00", INSN_MOVSX_LOAD, .op = 2, .dst = 8, .mem = RIPREL(0, DS) },
	{ L, "0f b6 27", INSN_MOVZX_LOAD, .op = 1, .dst = 4, .reg = 4, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "f3 0f b6 07", INSN_MOVZX_LOAD, .op = 1, .dst = 4, .rep = true, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ P32, "0f b6 00", INSN_MOVZX_LOAD, .op = 1, .dst = 4, .mem = MEM(RAX, NONE, 1, 0, DS) },
	{ P32, "0f bf 4d 08", INSN_MOVSX_LOAD, .op = 2, .dst = 4, .reg = RCX, .mem = MEM(RBP, NONE, 1, 8, SS) },
	{ R16, "0f b6 07", INSN_MOVZX_LOAD, .op = 1, .dst = 2, .mem = MEM(RBX, NONE, 1, 0, DS) },
	{ R16, "66 0f be 07", INSN_MOVSX_LOAD, .op = 1, .dst = 4, .mem = MEM(RBX, NONE, 1, 0, DS) },

	/* 32-bit code. */
	{ P32, "89 08", INSN_MOV_STORE, .op = 4, .reg = RCX, .mem = MEM(RAX, NONE, 1, 0, DS) },
	{ P32, "88 20", INSN_MOV_STORE, .op = 1, .reg = 4, .high8 = true, .mem = MEM(RAX, NONE, 1, 0, DS) },
	{ P32, "8b 0d 78 56 34 12", INSN_MOV_LOAD, .op = 4, .reg = RCX, .mem = MEM(NONE, NONE, 1, 0x12345678, DS) },
	{ P32, "8b 4c 24 04", INSN_MOV_LOAD, .op = 4, .reg = RCX, .mem = MEM(RSP, NONE, 1, 4, SS) },
	{ P32, "8b 04 85 00 00 e0 fe", INSN_MOV_LOAD, .op = 4, .mem = MEM(NONE, RAX, 4, -0x1200000, DS) },
	{ P32, "8b 45 fc", INSN_MOV_LOAD, .op = 4, .mem = MEM(RBP, NONE, 1, -4, SS) },
	{ P32, "8b 9c 8e 00 01 00 00", INSN_MOV_LOAD, .op = 4, .reg = RBX, .mem = MEM(RSI, RCX, 4, 0x100, DS) },
	{ P32, "66 89 08", INSN_MOV_STORE, .op = 2, .reg = RCX, .mem = MEM(RAX, NONE, 1, 0, DS) },
	{ P32, "67 89 08", INSN_MOV_STORE, .op = 4, .asz = 2, .reg = RCX, .mem = MEM(RBX, RSI, 1, 0, DS) },
	{ P32, "c7 05 00 03 e0 fe 00 00 00 00", INSN_MOV_STORE_IMM, .op = 4, .imm = 0, .mem = MEM(NONE, NONE, 1, -0x11ffd00, DS) },
	{ P32, "66 c7 00 34 12", INSN_MOV_STORE_IMM, .op = 2, .imm = 0x1234, .mem = MEM(RAX, NONE, 1, 0, DS) },
	{ P32, "26 89 08", INSN_MOV_STORE, .op = 4, .reg = RCX, .mem = MEM(RAX, NONE, 1, 0, ES) },
	{ P32, "2e 89 08", INSN_MOV_STORE, .op = 4, .reg = RCX, .mem = MEM(RAX, NONE, 1, 0, CS) },
	{ P32, "3e 89 04 24", INSN_MOV_STORE, .op = 4, .mem = MEM(RSP, NONE, 1, 0, DS) },

	/* 16-bit addressing: all eight rm forms, disp8/disp16, [disp16]. */
	{ R16, "89 07", INSN_MOV_STORE, .op = 2, .mem = MEM(RBX, NONE, 1, 0, DS) },
	{ R16, "8b 00", INSN_MOV_LOAD, .op = 2, .mem = MEM(RBX, RSI, 1, 0, DS) },
	{ R16, "8b 01", INSN_MOV_LOAD, .op = 2, .mem = MEM(RBX, RDI, 1, 0, DS) },
	{ R16, "8b 02", INSN_MOV_LOAD, .op = 2, .mem = MEM(RBP, RSI, 1, 0, SS) },
	{ R16, "8b 03", INSN_MOV_LOAD, .op = 2, .mem = MEM(RBP, RDI, 1, 0, SS) },
	{ R16, "8b 04", INSN_MOV_LOAD, .op = 2, .mem = MEM(RSI, NONE, 1, 0, DS) },
	{ R16, "8b 05", INSN_MOV_LOAD, .op = 2, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ R16, "8b 06 34 12", INSN_MOV_LOAD, .op = 2, .mem = MEM(NONE, NONE, 1, 0x1234, DS) },
	{ R16, "8b 46 fe", INSN_MOV_LOAD, .op = 2, .mem = MEM(RBP, NONE, 1, -2, SS) },
	{ R16, "8b 87 34 12", INSN_MOV_LOAD, .op = 2, .mem = MEM(RBX, NONE, 1, 0x1234, DS) },
	{ R16, "8b 84 00 80", INSN_MOV_LOAD, .op = 2, .mem = MEM(RSI, NONE, 1, -0x8000, DS) },
	{ R16, "8b 50 01", INSN_MOV_LOAD, .op = 2, .reg = RDX, .mem = MEM(RBX, RSI, 1, 1, DS) },
	{ R16, "66 8b 07", INSN_MOV_LOAD, .op = 4, .mem = MEM(RBX, NONE, 1, 0, DS) },
	{ R16, "67 8b 04 24", INSN_MOV_LOAD, .op = 2, .asz = 4, .mem = MEM(RSP, NONE, 1, 0, SS) },
	{ R16, "67 8b 05 00 03 e0 fe", INSN_MOV_LOAD, .op = 2, .asz = 4, .mem = MEM(NONE, NONE, 1, -0x11ffd00, DS) },
	{ R16, "88 27", INSN_MOV_STORE, .op = 1, .reg = 4, .high8 = true, .mem = MEM(RBX, NONE, 1, 0, DS) },
	{ R16, "c7 06 34 12 cd ab", INSN_MOV_STORE_IMM, .op = 2, .imm = 0xabcd, .mem = MEM(NONE, NONE, 1, 0x1234, DS) },
	{ R16, "66 c7 06 34 12 78 56 34 12", INSN_MOV_STORE_IMM, .op = 4, .imm = 0x12345678, .mem = MEM(NONE, NONE, 1, 0x1234, DS) },
	{ R16, "c6 46 02 07", INSN_MOV_STORE_IMM, .op = 1, .imm = 7, .mem = MEM(RBP, NONE, 1, 2, SS) },
	{ R16, "26 8b 07", INSN_MOV_LOAD, .op = 2, .mem = MEM(RBX, NONE, 1, 0, ES) },
	{ R16, "3e 8b 46 00", INSN_MOV_LOAD, .op = 2, .mem = MEM(RBP, NONE, 1, 0, DS) },
	{ R16, "64 8b 07", INSN_MOV_LOAD, .op = 2, .mem = MEM(RBX, NONE, 1, 0, FS) },
	{ P16, "8b 07", INSN_MOV_LOAD, .op = 2, .mem = MEM(RBX, NONE, 1, 0, DS) },
	{ P16, "66 67 8b 44 24 04", INSN_MOV_LOAD, .op = 4, .asz = 4, .mem = MEM(RSP, NONE, 1, 4, SS) },

	/* Instructions stepped over after emulation. */
	{ L, "0f a2", INSN_OTHER_KNOWN, .opc = "0f a2" },
	{ L, "0f 32", INSN_OTHER_KNOWN, .opc = "0f 32" },
	{ L, "0f 30", INSN_OTHER_KNOWN, .opc = "0f 30" },
	{ L, "0f 31", INSN_OTHER_KNOWN, .opc = "0f 31" },
	{ L, "0f 01 f9", INSN_OTHER_KNOWN, .reg = 7, .rm = 1, .opc = "0f 01 f9" },
	{ L, "f4", INSN_OTHER_KNOWN, .opc = "f4" },
	{ L, "0f 01 d9", INSN_OTHER_KNOWN, .reg = 3, .rm = 1, .opc = "0f 01 d9" },
	{ L, "0f 01 d8", INSN_OTHER_KNOWN, .reg = 3, .rm = 0, .opc = "0f 01 d8" },
	{ L, "67 0f 01 d8", INSN_OTHER_KNOWN, .asz = 4, .reg = 3, .opc = "0f 01 d8" },
	{ L, "0f 01 da", INSN_OTHER_KNOWN, .reg = 3, .rm = 2, .opc = "0f 01 da" },
	{ L, "0f 01 db", INSN_OTHER_KNOWN, .reg = 3, .rm = 3, .opc = "0f 01 db" },
	{ L, "0f 01 dc", INSN_OTHER_KNOWN, .reg = 3, .rm = 4, .opc = "0f 01 dc" },
	{ L, "0f 01 dd", INSN_OTHER_KNOWN, .reg = 3, .rm = 5, .opc = "0f 01 dd" },
	{ L, "0f 01 de", INSN_OTHER_KNOWN, .reg = 3, .rm = 6, .opc = "0f 01 de" },
	{ L, "0f 01 df", INSN_OTHER_KNOWN, .reg = 3, .rm = 7, .opc = "0f 01 df" },
	{ L, "0f 01 d1", INSN_OTHER_KNOWN, .reg = 2, .rm = 1, .opc = "0f 01 d1" },
	{ L, "0f 09", INSN_OTHER_KNOWN, .opc = "0f 09" },
	{ L, "0f 08", INSN_OTHER_KNOWN, .opc = "0f 08" },
	{ P32, "0f a2", INSN_OTHER_KNOWN, .opc = "0f a2" },
	{ P32, "0f 01 d8", INSN_OTHER_KNOWN, .reg = 3, .opc = "0f 01 d8" },
	{ R16, "0f 01 dd", INSN_OTHER_KNOWN, .reg = 3, .rm = 5, .opc = "0f 01 dd" },
	{ R16, "f4", INSN_OTHER_KNOWN, .opc = "f4" },
	/* INVLPG m: a full memory operand. */
	{ L, "0f 01 38", INSN_OTHER_KNOWN, .reg = 7, .opc = "0f 01", .mem = MEM(RAX, NONE, 1, 0, DS) },
	{ L, "0f 01 7c 24 08", INSN_OTHER_KNOWN, .reg = 7, .opc = "0f 01", .mem = MEM(RSP, NONE, 1, 8, SS) },
	{ L, "0f 01 3d 00 10 00 00", INSN_OTHER_KNOWN, .reg = 7, .opc = "0f 01", .mem = RIPREL(0x1000, DS) },
	{ L, "41 0f 01 bc 24 00 01 00 00", INSN_OTHER_KNOWN, .reg = 7, .opc = "0f 01", .mem = MEM(12, NONE, 1, 0x100, DS) },
	{ P32, "0f 01 3d 00 00 40 00", INSN_OTHER_KNOWN, .reg = 7, .opc = "0f 01", .mem = MEM(NONE, NONE, 1, 0x400000, DS) },
	{ R16, "0f 01 3e 34 12", INSN_OTHER_KNOWN, .reg = 7, .opc = "0f 01", .mem = MEM(NONE, NONE, 1, 0x1234, DS) },
	/* IN, OUT, INS, OUTS: byte forms, 66, and REX.W (no 8-byte port I/O). */
	{ L, "e4 60", INSN_OTHER_KNOWN, .op = 1, .imm = 0x60, .opc = "e4" },
	{ L, "e5 60", INSN_OTHER_KNOWN, .op = 4, .imm = 0x60, .opc = "e5" },
	{ L, "66 e5 60", INSN_OTHER_KNOWN, .op = 2, .imm = 0x60, .opc = "e5" },
	{ L, "48 e5 60", INSN_OTHER_KNOWN, .op = 4, .imm = 0x60, .opc = "e5" },
	{ L, "e6 80", INSN_OTHER_KNOWN, .op = 1, .imm = 0x80, .opc = "e6" },
	{ L, "e7 f4", INSN_OTHER_KNOWN, .op = 4, .imm = 0xf4, .opc = "e7" },
	{ L, "ec", INSN_OTHER_KNOWN, .op = 1, .opc = "ec" },
	{ L, "ed", INSN_OTHER_KNOWN, .op = 4, .opc = "ed" },
	{ L, "66 ed", INSN_OTHER_KNOWN, .op = 2, .opc = "ed" },
	{ L, "ee", INSN_OTHER_KNOWN, .op = 1, .opc = "ee" },
	{ L, "ef", INSN_OTHER_KNOWN, .op = 4, .opc = "ef" },
	{ R16, "ed", INSN_OTHER_KNOWN, .op = 2, .opc = "ed" },
	{ R16, "66 ef", INSN_OTHER_KNOWN, .op = 4, .opc = "ef" },
	{ L, "6c", INSN_OTHER_KNOWN, .op = 1, .opc = "6c" },
	{ L, "6d", INSN_OTHER_KNOWN, .op = 4, .opc = "6d" },
	{ L, "6e", INSN_OTHER_KNOWN, .op = 1, .opc = "6e" },
	{ L, "6f", INSN_OTHER_KNOWN, .op = 4, .opc = "6f" },
	{ L, "f3 6c", INSN_OTHER_KNOWN, .op = 1, .rep = true, .opc = "6c" },
	{ L, "f3 66 6f", INSN_OTHER_KNOWN, .op = 2, .rep = true, .opc = "6f" },
	{ L, "f3 48 6d", INSN_OTHER_KNOWN, .op = 4, .rep = true, .opc = "6d" },
	{ L, "67 f3 6d", INSN_OTHER_KNOWN, .op = 4, .asz = 4, .rep = true, .opc = "6d" },
	{ P32, "f3 6e", INSN_OTHER_KNOWN, .op = 1, .rep = true, .opc = "6e" },
	{ L, "f2 f3 6c", INSN_OTHER_KNOWN, .op = 1, .rep = true, .opc = "6c" },
	{ L, "f3 f2 6c", INSN_OTHER_KNOWN, .op = 1, .repne = true, .opc = "6c" },
	/* PAUSE, INT3, INT n, IRET. */
	{ L, "f3 90", INSN_OTHER_KNOWN, .rep = true, .opc = "90" },
	{ L, "41 f3 90", INSN_OTHER_KNOWN, .rep = true, .opc = "90" },
	{ R16, "f3 90", INSN_OTHER_KNOWN, .rep = true, .opc = "90" },
	{ L, "cc", INSN_OTHER_KNOWN, .opc = "cc" },
	{ L, "cd 80", INSN_OTHER_KNOWN, .imm = 0x80, .opc = "cd" },
	{ R16, "cd 10", INSN_OTHER_KNOWN, .imm = 0x10, .opc = "cd" },
	{ L, "cf", INSN_OTHER_KNOWN, .op = 4, .opc = "cf" },
	{ L, "48 cf", INSN_OTHER_KNOWN, .op = 8, .opc = "cf" },
	{ L, "66 cf", INSN_OTHER_KNOWN, .op = 2, .opc = "cf" },
	{ R16, "cf", INSN_OTHER_KNOWN, .op = 2, .opc = "cf" },
	/* MOV CR/DR: always a register form, whatever ModRM.mod says. */
	{ L, "0f 20 c0", INSN_OTHER_KNOWN, .op = 8, .reg = 0, .rm = RAX, .opc = "0f 20" },
	{ L, "0f 22 d8", INSN_OTHER_KNOWN, .op = 8, .reg = 3, .rm = RAX, .opc = "0f 22" },
	{ L, "0f 22 e7", INSN_OTHER_KNOWN, .op = 8, .reg = 4, .rm = RDI, .opc = "0f 22" },
	{ L, "44 0f 20 c0", INSN_OTHER_KNOWN, .op = 8, .reg = 8, .rm = RAX, .opc = "0f 20" },
	{ L, "41 0f 22 c7", INSN_OTHER_KNOWN, .op = 8, .reg = 0, .rm = 15, .opc = "0f 22" },
	{ L, "0f 21 f8", INSN_OTHER_KNOWN, .op = 8, .reg = 7, .rm = RAX, .opc = "0f 21" },
	{ L, "0f 23 c1", INSN_OTHER_KNOWN, .op = 8, .reg = 0, .rm = RCX, .opc = "0f 23" },
	{ L, "0f 20 00", INSN_OTHER_KNOWN, .op = 8, .reg = 0, .rm = RAX, .opc = "0f 20" },
	{ L, "0f 22 05", INSN_OTHER_KNOWN, .op = 8, .reg = 0, .rm = RBP, .opc = "0f 22" },
	{ L, "0f 22 44", INSN_OTHER_KNOWN, .op = 8, .reg = 0, .rm = RSP, .opc = "0f 22" },
	{ P32, "0f 20 e0", INSN_OTHER_KNOWN, .op = 4, .reg = 4, .rm = RAX, .opc = "0f 20" },
	{ P32, "f0 0f 20 c0", INSN_OTHER_KNOWN, .op = 4, .reg = 0, .rm = RAX, .lock = true, .opc = "0f 20" },
	{ R16, "0f 22 c0", INSN_OTHER_KNOWN, .op = 4, .reg = 0, .rm = RAX, .opc = "0f 22" },
	{ R16, "0f 23 fa", INSN_OTHER_KNOWN, .op = 4, .reg = 7, .rm = RDX, .opc = "0f 23" },

	/* A REX prefix counts only right before the opcode. */
	{ L, "48 66 89 07", INSN_MOV_STORE, .op = 2, .mem = MEM(RDI, NONE, 1, 0, DS) },
	{ L, "4c 41 8b 00", INSN_MOV_LOAD, .op = 4, .reg = RAX, .mem = MEM(8, NONE, 1, 0, DS) },
	{ L, "44 f0 88 20", INSN_MOV_STORE, .op = 1, .reg = 4, .high8 = true, .lock = true, .mem = MEM(RAX, NONE, 1, 0, DS) },
	{ L, "48 64 8b 00", INSN_MOV_LOAD, .op = 4, .mem = MEM(RAX, NONE, 1, 0, FS) },
	/* The longest instruction: 15 bytes, prefixes included. */
	{ L, "26 26 26 48 c7 84 24 00 01 00 00 ff ff ff ff", INSN_MOV_STORE_IMM, .op = 8, .imm = ~0ull, .mem = MEM(RSP, NONE, 1, 0x100, SS) },
	{ L, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 f4", INSN_OTHER_KNOWN, .op = 2, .opc = "f4" },
	{ P32, "3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e f4", INSN_OTHER_KNOWN, .opc = "f4" },
};

/* Bytes that are not one complete instruction the decoder knows. */
static const struct {
	enum cpu_mode mode;
	const char *hex;
} rejects[] = {
	{ L, "90" },			    /* NOP */
	{ L, "f3 41 90" },		    /* XCHG r8, rax with F3 */
	{ L, "0f 0b" },			    /* UD2 */
	{ L, "0f 01 d0" },		    /* XGETBV */
	{ L, "0f 01 f8" },		    /* SWAPGS */
	{ L, "0f 01 ca" },		    /* CLAC */
	{ L, "0f 01 10" },		    /* LGDT [rax] */
	{ L, "0f 01 70 00" },		    /* LMSW [rax+0] */
	{ L, "0f 01 c8" },		    /* MONITOR */
	{ L, "0f 05" },			    /* SYSCALL */
	{ L, "0f ff" },			    /* UD0 */
	{ L, "c6 c0 01" },		    /* MOV al, 1: register form */
	{ L, "c6 4f 08 01" },		    /* C6 /1 */
	{ L, "c6 f8 01" },		    /* XABORT */
	{ L, "c7 f8 00 00 00 00" },	    /* XBEGIN */
	{ L, "c7 4f 08 00 00 00 00" },	    /* C7 /1 */
	{ L, "89 c0" },			    /* MOV eax, eax */
	{ L, "8b c0" },			    /* MOV eax, eax */
	{ L, "88 c4" },			    /* MOV ah, al */
	{ L, "0f b6 c0" },		    /* MOVZX eax, al */
	{ L, "0f bf c0" },		    /* MOVSX eax, ax */
	{ L, "c4 e2 79 18 07" },	    /* VEX */
	{ L, "e8 00 00 00 00" },	    /* CALL */
	{ L, "ff 15 00 00 00 00" },	    /* CALL [rip] */
	{ L, "a4" },			    /* MOVSB */
	{ L, "8c d8" },			    /* MOV eax, ds */
	{ L, "" },			    /* nothing */
	{ L, "66" },			    /* a prefix alone */
	{ L, "48" },			    /* a REX alone */
	{ P32, "48 89 07" },		    /* DEC eax; MOV */
	{ P32, "40" },			    /* INC eax */
	{ R16, "41 8b 07" },		    /* INC cx; MOV */
	/* Sixteen prefixes make the instruction too long, at any avail. */
	{ L, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 f4" },
	{ L, "26 26 26 26 48 c7 84 24 00 01 00 00 ff ff ff ff" },
	{ P32, "f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f4" },
};
/* clang-format on */

static void check_case(const struct dcase *tc, const struct insn *in, unsigned int len)
{
	assert_int_equal(in->kind, tc->kind);
	assert_int_equal(in->len, len);
	if (tc->op)
		assert_int_equal(in->op_size, tc->op);
	assert_int_equal(in->addr_size, tc->asz ? tc->asz : mode_asz[tc->mode]);
	assert_int_equal(in->reg, tc->reg);
	assert_int_equal(in->reg_high8, tc->high8);
	assert_int_equal(in->dst_size, tc->dst);
	assert_int_equal(in->imm, tc->imm);
	assert_int_equal(in->rep, tc->rep);
	assert_int_equal(in->repne, tc->repne);
	assert_int_equal(in->lock, tc->lock);
	if (tc->opc) {
		uint8_t opc[3];
		unsigned int n = parse_hex(tc->opc, opc, sizeof(opc));

		assert_int_equal(in->opcode_len, n);
		assert_memory_equal(in->opcode, opc, n);
	}
	assert_int_equal(in->has_mem, tc->mem != NULL);
	if (tc->mem) {
		assert_int_equal(in->mem.base, tc->mem->base);
		assert_int_equal(in->mem.index, tc->mem->index);
		assert_int_equal(in->mem.scale, tc->mem->scale);
		assert_int_equal(in->mem.disp, tc->mem->disp);
		assert_int_equal(in->mem.rip_relative, tc->mem->rip);
		assert_int_equal(in->mem.seg, tc->mem->seg);
	} else if (in->has_modrm) {
		assert_int_equal(in->rm, tc->rm);
	}
}

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dcase *tc = &cases[i];
		uint8_t bytes[32];
		unsigned int n = parse_hex(tc->hex, bytes, sizeof(bytes));
		unsigned int avail;
		struct insn in;

		/* Names the case in the log, for when an assertion below fails. */
		print_message("# %s\n", tc->hex);
		/* Exactly the bytes. */
		assert_int_equal(decode_exact(bytes, n, tc->mode, &in), 0);
		check_case(tc, &in, n);

		/* Every shorter prefix of them is incomplete. */
		for (avail = 0; avail < n; avail++)
			assert_int_equal(decode_exact(bytes, avail, tc->mode, &in), -1);

		/* Trailing bytes change nothing, whether they look like prefixes or not. */
		memset(bytes + n, 0x66, sizeof(bytes) - n);
		assert_int_equal(decode_exact(bytes, sizeof(bytes), tc->mode, &in), 0);
		check_case(tc, &in, n);
		memset(bytes + n, 0xff, sizeof(bytes) - n);
		assert_int_equal(decode_exact(bytes, n + 1, tc->mode, &in), 0);
		check_case(tc, &in, n);
	}
}

static void test_rejects(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		uint8_t bytes[32];
		unsigned int n = parse_hex(rejects[i].hex, bytes, sizeof(bytes));
		struct insn in;

		print_message("# %s\n", rejects[i].hex);
		assert_int_equal(decode_exact(bytes, n, rejects[i].mode, &in), -1);
		memset(bytes + n, 0x00, sizeof(bytes) - n);
		assert_int_equal(decode_exact(bytes, sizeof(bytes), rejects[i].mode, &in), -1);
	}
}

/* Every register form of each MOV opcode is refused; every memory form is taken. */
static void test_modrm_space(void **state)
{
	static const enum cpu_mode modes[] = {R16, P32, L};
	static const uint8_t ops[] = {0x88, 0x89, 0x8a, 0x8b};
	size_t m, o;
	unsigned int modrm;

	(void)state;
	for (m = 0; m < 3; m++) {
		for (o = 0; o < sizeof(ops); o++) {
			for (modrm = 0; modrm < 256; modrm++) {
				/* Enough zero bytes for any SIB and displacement. */
				uint8_t bytes[8] = {ops[o], (uint8_t)modrm};
				struct insn in;
				int ret = decode_exact(bytes, sizeof(bytes), modes[m], &in);

				if (modrm >= 0xc0) {
					assert_int_equal(ret, -1);
					continue;
				}
				assert_int_equal(ret, 0);
				assert_true(in.has_mem && in.has_modrm);
				assert_int_equal(in.modrm, modrm);
				assert_int_equal(in.reg, (modrm >> 3) & 7);
				assert_true(in.len >= 2 && in.len <= 8);
			}
		}
	}
}

/*
 * Prefixes in every order: 66, 67, F3, F0 and 64 before 8B 07 in 64-bit
 * mode all apply whatever their order, and a REX among them applies only
 * when it comes last.
 */
static void test_prefix_orders(void **state)
{
	uint8_t pre[6] = {0x66, 0x67, 0xf3, 0xf0, 0x64, 0x48};
	unsigned int perm[6] = {0, 1, 2, 3, 4, 5};
	unsigned int count = 0;

	(void)state;
	for (;;) {
		uint8_t bytes[8];
		struct insn in;
		unsigned int i, j, k;

		for (i = 0; i < 6; i++)
			bytes[i] = pre[perm[i]];
		bytes[6] = 0x8b;
		bytes[7] = 0x07;
		assert_int_equal(decode_exact(bytes, 8, L, &in), 0);
		assert_int_equal(in.kind, INSN_MOV_LOAD);
		assert_int_equal(in.len, 8);
		assert_int_equal(in.op_size, bytes[5] == 0x48 ? 8 : 2);
		assert_int_equal(in.rex, bytes[5] == 0x48 ? 0x48 : 0);
		assert_int_equal(in.addr_size, 4);
		assert_true(in.rep && in.lock && !in.repne);
		assert_true(in.op_size_override && in.addr_size_override);
		assert_int_equal(in.seg_override, FS);
		assert_int_equal(in.mem.seg, FS);
		count++;

		/* Next permutation in lexicographic order. */
		for (i = 5; i > 0 && perm[i - 1] > perm[i]; i--)
			;
		if (i == 0)
			break;
		for (j = 5; perm[j] < perm[i - 1]; j--)
			;
		k = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = k;
		for (j = 5; i < j; i++, j--) {
			k = perm[i];
			perm[i] = perm[j];
			perm[j] = k;
		}
	}
	assert_int_equal(count, 720);
}

/* Each segment prefix in each mode; the last one wins outside 64-bit mode. */
static void test_segment_overrides(void **state)
{
	static const uint8_t seg_prefix[6] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
	static const enum cpu_mode modes[] = {R16, P16, P32, L};
	size_t m;
	int s, t;

	(void)state;
	for (m = 0; m < 4; m++) {
		for (s = 0; s < 6; s++) {
			for (t = 0; t < 6; t++) {
				uint8_t bytes[4] = {seg_prefix[s], seg_prefix[t], 0x89, 0x07};
				struct insn in;
				int want;

				assert_int_equal(decode_exact(bytes, 4, modes[m], &in), 0);
				if (modes[m] != L)
					want = t;
				else if (t >= FS)
					want = t;
				else if (s >= FS)
					want = s;
				else
					want = INSN_SEG_NONE;
				assert_int_equal(in.seg_override, want);
				assert_int_equal(in.mem.seg, want == INSN_SEG_NONE ? DS : want);
			}
		}
	}
}

/* Fields that tell nothing is there. */
static void test_defaults(void **state)
{
	static const uint8_t cpuid[] = {0x0f, 0xa2};
	static const uint8_t moffs[] = {0xa1, 0x00, 0x03, 0xe0, 0xfe};
	struct insn in;

	(void)state;
	assert_int_equal(decode_exact(cpuid, sizeof(cpuid), L, &in), 0);
	assert_false(in.has_modrm);
	assert_false(in.has_mem);
	assert_int_equal(in.seg_override, INSN_SEG_NONE);
	assert_int_equal(in.mem.base, INSN_REG_NONE);
	assert_int_equal(in.mem.index, INSN_REG_NONE);
	assert_int_equal(in.mem.seg, INSN_SEG_NONE);
	assert_int_equal(in.rex, 0);
	assert_false(in.op_size_override || in.addr_size_override);

	assert_int_equal(decode_exact(moffs, sizeof(moffs), P32, &in), 0);
	assert_false(in.has_modrm);
	assert_true(in.has_mem);
	assert_int_equal(in.reg, 0);
	assert_false(in.reg_high8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_modrm_space),
	    cmocka_unit_test(test_prefix_orders),
	    cmocka_unit_test(test_segment_overrides),
	    cmocka_unit_test(test_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
