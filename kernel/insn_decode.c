/*
 * x86 instruction decoder (AMD APM vol. 3, ch. 1 "Instruction Encoding").
 *
 * It knows only the instructions below and rejects everything else, so a
 * mistake can stop a guest with a reason but never step RIP by a wrong
 * length. Known memory moves (for MMIO emulation):
 *   88/89/8A/8B MOV r/m,r and r,r/m     C6 /0, C7 /0 MOV r/m,imm
 *   A0-A3 MOV AL/rAX <-> moffs           0F B6/B7 MOVZX, 0F BE/BF MOVSX
 * Known other instructions (to step past them after emulating them):
 *   0F A2 CPUID, 0F 30 WRMSR, 0F 31 RDTSC, 0F 32 RDMSR, 0F 08 INVD,
 *   0F 09 WBINVD, 0F 20-23 MOV CR/DR, 0F 01 D1 XSETBV, 0F 01 D8-DF
 *   VMRUN VMMCALL VMLOAD VMSAVE STGI CLGI SKINIT INVLPGA, 0F 01 F9 RDTSCP,
 *   0F 01 /7 INVLPG m, F4 HLT, F3 90 PAUSE, CC INT3, CD ib INT n, CF IRET,
 *   E4-E7 IN/OUT imm8, EC-EF IN/OUT DX, 6C-6F INS/OUTS.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/insn_decode.h"
#include "kernel/kstring.h"

/* REX bits (APM vol. 3, 1.2.7). */
#define REX_B 0x1
#define REX_X 0x2
#define REX_R 0x4
#define REX_W 0x8

#define GPR_SP 4
#define GPR_BP 5

struct cursor {
	const uint8_t *bytes;
	unsigned int limit; /* min(avail, INSN_MAX_LEN) */
	unsigned int pos;
};

/* Reads an n-byte little-endian field; false if the instruction would run past the limit. */
static bool take(struct cursor *c, unsigned int n, uint64_t *val)
{
	uint64_t v = 0;
	unsigned int i;

	if (c->limit - c->pos < n)
		return false;
	for (i = 0; i < n; i++)
		v |= (uint64_t)c->bytes[c->pos + i] << (8 * i);
	c->pos += n;
	*val = v;
	return true;
}

static uint64_t sign_extend(uint64_t v, unsigned int bytes)
{
	unsigned int sh = 64 - 8 * bytes;

	return (uint64_t)((int64_t)(v << sh) >> sh);
}

/*
 * Decodes ModRM and, for a memory operand, SIB and displacement (APM vol. 3,
 * 1.4 "ModRM and SIB Bytes", 1.5 "Displacement"). Sets reg and rm, and mem
 * if there is a memory operand. False if the bytes run out.
 */
static bool decode_modrm(struct cursor *c, struct insn *out, bool is_64bit)
{
	/* 16-bit forms (APM vol. 3, Table 1-12): BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP, BX. */
	static const int8_t base16[8] = {3, 3, GPR_BP, GPR_BP, 6, 7, GPR_BP, 3};
	static const int8_t index16[8] = {6, 7, 6, 7, -1, -1, -1, -1};
	struct insn_mem *mem = &out->mem;
	unsigned int mod, rm, disp_size = 0;
	uint64_t v;

	if (!take(c, 1, &v))
		return false;
	out->has_modrm = true;
	out->modrm = (uint8_t)v;
	mod = out->modrm >> 6;
	rm = out->modrm & 7;
	out->reg = ((out->modrm >> 3) & 7) | ((out->rex & REX_R) ? 8 : 0);
	out->rm = rm | ((out->rex & REX_B) ? 8 : 0);
	if (mod == 3)
		return true;

	out->has_mem = true;
	mem->base = INSN_REG_NONE;
	mem->index = INSN_REG_NONE;
	mem->scale = 1;
	if (out->addr_size == 2) {
		/* REX cannot occur outside 64-bit mode, and 16-bit addressing not inside it. */
		if (mod == 0 && rm == 6) {
			disp_size = 2; /* [disp16] */
		} else {
			mem->base = base16[rm];
			mem->index = index16[rm];
			disp_size = mod == 1 ? 1 : mod == 2 ? 2 : 0;
		}
	} else {
		if (rm == 4) {
			/* SIB follows (APM vol. 3, 1.4.2). */
			unsigned int idx, base;

			if (!take(c, 1, &v))
				return false;
			idx = ((v >> 3) & 7) | ((out->rex & REX_X) ? 8 : 0);
			base = v & 7;
			if (idx != GPR_SP) {
				/* Index 100b without REX.X means none; with REX.X it is R12. */
				mem->index = (int)idx;
				mem->scale = 1u << (v >> 6);
			}
			if (base == GPR_BP && mod == 0)
				disp_size = 4; /* no base, disp32 (also with REX.B) */
			else
				mem->base = (int)(base | ((out->rex & REX_B) ? 8 : 0));
		} else if (rm == 5 && mod == 0) {
			/* disp32: absolute, or RIP-relative in 64-bit mode (APM vol. 3, 1.7). */
			disp_size = 4;
			mem->rip_relative = is_64bit;
		} else {
			mem->base = (int)out->rm;
		}
		if (mod == 1)
			disp_size = 1;
		else if (mod == 2)
			disp_size = 4;
	}
	if (disp_size) {
		if (!take(c, disp_size, &v))
			return false;
		mem->disp = sign_extend(v, disp_size);
	}
	/* APM vol. 1, 2.5 "Memory Addressing": rBP and rSP bases default to SS. */
	if (mem->base == GPR_SP || mem->base == GPR_BP)
		mem->seg = INSN_SEG_SS;
	else
		mem->seg = INSN_SEG_DS;
	if (out->seg_override != INSN_SEG_NONE)
		mem->seg = out->seg_override;
	return true;
}

/* The memory forms of MOV, MOVZX and MOVSX: a ModRM memory operand, and the register. */
static bool decode_mem_move(struct cursor *c, struct insn *out, bool is_64bit)
{
	return decode_modrm(c, out, is_64bit) && out->has_mem;
}

static int decode_0f(struct cursor *c, struct insn *out, bool is_64bit, unsigned int op_size)
{
	uint64_t op;

	if (!take(c, 1, &op))
		return -1;
	out->opcode[1] = (uint8_t)op;
	out->opcode_len = 2;
	out->kind = INSN_OTHER_KNOWN;
	out->op_size = op_size;

	switch (op) {
	case 0xb6: /* MOVZX r, r/m8 */
	case 0xb7: /* MOVZX r, r/m16 */
	case 0xbe: /* MOVSX r, r/m8 */
	case 0xbf: /* MOVSX r, r/m16 */
		if (!decode_mem_move(c, out, is_64bit))
			return -1;
		out->kind = op < 0xbe ? INSN_MOVZX_LOAD : INSN_MOVSX_LOAD;
		out->op_size = (op & 1) ? 2 : 1;
		out->dst_size = op_size;
		return 0;
	case 0x08: /* INVD */
	case 0x09: /* WBINVD */
	case 0x30: /* WRMSR */
	case 0x31: /* RDTSC */
	case 0x32: /* RDMSR */
	case 0xa2: /* CPUID */
		return 0;
	case 0x20: /* MOV r, CRn */
	case 0x21: /* MOV r, DRn */
	case 0x22: /* MOV CRn, r */
	case 0x23: /* MOV DRn, r */
		/*
		 * APM vol. 3 "MOV CRn"/"MOV DRn": always register to register,
		 * whatever ModRM.mod says, so no SIB or displacement follows.
		 * The operand size is fixed at 64 bits in 64-bit mode, else 32.
		 */
		if (!take(c, 1, &op))
			return -1;
		out->has_modrm = true;
		out->modrm = (uint8_t)op;
		out->reg = ((op >> 3) & 7) | ((out->rex & REX_R) ? 8 : 0);
		out->rm = (op & 7) | ((out->rex & REX_B) ? 8 : 0);
		out->op_size = is_64bit ? 8 : 4;
		return 0;
	case 0x01:
		/* Group 7 (APM vol. 3, Table A-6): only the forms we emulate. */
		if (c->pos >= c->limit)
			return -1;
		op = c->bytes[c->pos];
		if ((op >> 6) != 3) {
			/* INVLPG m is /7 with a memory operand. */
			if (((op >> 3) & 7) != 7 || !decode_modrm(c, out, is_64bit))
				return -1;
			return 0;
		}
		if (op == 0xd1 || (op >= 0xd8 && op <= 0xdf) || op == 0xf9) {
			c->pos++;
			out->has_modrm = true;
			out->modrm = (uint8_t)op;
			out->reg = (op >> 3) & 7;
			out->rm = op & 7;
			out->opcode[2] = (uint8_t)op;
			out->opcode_len = 3;
			return 0;
		}
		return -1;
	default:
		return -1;
	}
}

int insn_decode(const uint8_t *bytes, unsigned int avail, enum cpu_mode mode, struct insn *out)
{
	struct cursor c = {.bytes = bytes, .limit = avail < INSN_MAX_LEN ? avail : INSN_MAX_LEN};
	bool is_64bit = mode == MODE_LONG64;
	bool def16 = mode == MODE_REAL16 || mode == MODE_PROT16;
	unsigned int op_size, io_size;
	uint64_t op, v;
	bool byte_op;
	int ret;

	memset(out, 0, sizeof(*out));
	out->seg_override = INSN_SEG_NONE;
	out->mem.base = INSN_REG_NONE;
	out->mem.index = INSN_REG_NONE;
	out->mem.seg = INSN_SEG_NONE;

	/*
	 * Legacy prefixes in any order and number, up to the length limit
	 * (APM vol. 3, 1.2). The last one of a group wins. A REX prefix
	 * counts only right before the opcode: one followed by a legacy
	 * prefix or by another REX is ignored (APM vol. 3, 1.2.7).
	 */
	for (;;) {
		if (c.pos >= c.limit)
			return -1;
		op = bytes[c.pos];
		switch (op) {
		case 0x66:
			out->op_size_override = true;
			break;
		case 0x67:
			out->addr_size_override = true;
			break;
		case 0xf0:
			out->lock = true;
			break;
		case 0xf2:
			out->repne = true;
			out->rep = false;
			break;
		case 0xf3:
			out->rep = true;
			out->repne = false;
			break;
		case 0x26: /* ES */
		case 0x2e: /* CS */
		case 0x36: /* SS */
		case 0x3e: /* DS */
			/* APM vol. 3, 1.2.4: these are null prefixes in 64-bit mode. */
			if (!is_64bit)
				out->seg_override = (int)((op >> 3) & 3);
			break;
		case 0x64:
			out->seg_override = INSN_SEG_FS;
			break;
		case 0x65:
			out->seg_override = INSN_SEG_GS;
			break;
		default:
			if (is_64bit && (op & 0xf0) == 0x40) {
				out->rex = (uint8_t)op;
				c.pos++;
				continue;
			}
			goto opcode;
		}
		out->rex = 0;
		c.pos++;
	}

opcode:
	/* APM vol. 3, 1.2.2 and 1.2.3, Tables 1-3 and 1-4. */
	if (is_64bit) {
		op_size = (out->rex & REX_W) ? 8 : out->op_size_override ? 2 : 4;
		out->addr_size = out->addr_size_override ? 4 : 8;
	} else {
		op_size = (def16 != out->op_size_override) ? 2 : 4;
		out->addr_size = (def16 != out->addr_size_override) ? 2 : 4;
	}
	/* IN, OUT, INS and OUTS move at most 4 bytes; REX.W does not widen them. */
	io_size = op_size > 4 ? 4 : op_size;

	c.pos++;
	out->opcode[0] = (uint8_t)op;
	out->opcode_len = 1;
	out->kind = INSN_OTHER_KNOWN;
	out->op_size = op_size;
	byte_op = !(op & 1);

	switch (op) {
	case 0x88: /* MOV r/m8, r8 */
	case 0x89: /* MOV r/m, r */
	case 0x8a: /* MOV r8, r/m8 */
	case 0x8b: /* MOV r, r/m */
		if (!decode_mem_move(&c, out, is_64bit))
			return -1;
		out->kind = (op & 2) ? INSN_MOV_LOAD : INSN_MOV_STORE;
		out->op_size = byte_op ? 1 : op_size;
		/* APM vol. 3, 1.2.7: any REX turns 4-7 into SPL, BPL, SIL, DIL. */
		out->reg_high8 = byte_op && !out->rex && out->reg >= 4;
		ret = 0;
		break;
	case 0xc6: /* MOV r/m8, imm8 */
	case 0xc7: /* MOV r/m, imm16/32 */
	{
		unsigned int imm_size;

		if (!decode_mem_move(&c, out, is_64bit) || (out->modrm & 0x38) != 0)
			return -1;
		out->kind = INSN_MOV_STORE_IMM;
		out->op_size = byte_op ? 1 : op_size;
		/* A 64-bit store takes a sign-extended imm32 (APM vol. 3, 1.6). */
		imm_size = out->op_size > 4 ? 4 : out->op_size;
		if (!take(&c, imm_size, &v))
			return -1;
		out->imm = out->op_size == 8 ? sign_extend(v, 4) : v;
		out->reg = 0;
		ret = 0;
		break;
	}
	case 0xa0: /* MOV AL, moffs8 */
	case 0xa1: /* MOV rAX, moffs */
	case 0xa2: /* MOV moffs8, AL */
	case 0xa3: /* MOV moffs, rAX */
		/* The offset has the address size: 8 bytes in 64-bit mode without 67. */
		if (!take(&c, out->addr_size, &v))
			return -1;
		out->kind = op <= 0xa1 ? INSN_MOV_LOAD : INSN_MOV_STORE;
		out->op_size = byte_op ? 1 : op_size;
		out->has_mem = true;
		out->mem.disp = v;
		out->mem.scale = 1;
		out->mem.seg = out->seg_override != INSN_SEG_NONE ? out->seg_override : INSN_SEG_DS;
		ret = 0;
		break;
	case 0x0f:
		ret = decode_0f(&c, out, is_64bit, op_size);
		break;
	case 0x90:
		/* PAUSE is F3 90; with REX.B, 90 is XCHG r8, rAX instead. */
		ret = out->rep && !(out->rex & REX_B) ? 0 : -1;
		break;
	case 0xcc: /* INT3 */
	case 0xcf: /* IRET */
	case 0xf4: /* HLT */
		ret = 0;
		break;
	case 0xcd: /* INT imm8 */
		ret = take(&c, 1, &out->imm) ? 0 : -1;
		break;
	case 0xe4: /* IN AL, imm8 */
	case 0xe5: /* IN eAX, imm8 */
	case 0xe6: /* OUT imm8, AL */
	case 0xe7: /* OUT imm8, eAX */
		out->op_size = byte_op ? 1 : io_size;
		ret = take(&c, 1, &out->imm) ? 0 : -1;
		break;
	case 0x6c: /* INSB */
	case 0x6d: /* INSW/INSD */
	case 0x6e: /* OUTSB */
	case 0x6f: /* OUTSW/OUTSD */
	case 0xec: /* IN AL, DX */
	case 0xed: /* IN eAX, DX */
	case 0xee: /* OUT DX, AL */
	case 0xef: /* OUT DX, eAX */
		out->op_size = byte_op ? 1 : io_size;
		ret = 0;
		break;
	default:
		ret = -1;
		break;
	}
	if (ret != 0)
		return -1;
	out->len = c.pos;
	return 0;
}
