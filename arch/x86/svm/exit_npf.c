/*
 * Nested page faults of an L1 guest. Its NPT maps only its RAM, so a fault
 * is either an access to the virtual local APIC page (emulated: the MOV is
 * fetched, decoded and carried out against struct vlapic) or an access to
 * memory that is not the guest's, which stops it with the address.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/svm/exits.h"
#include "arch/x86/svm/vcpu.h"
#include "kernel/guest.h"
#include "kernel/insn_decode.h"

#define LAPIC_MMIO_BASE 0xFEE00000ull
#define LAPIC_MMIO_SIZE 0x1000ull

static uint64_t *gpr(struct vcpu *v, unsigned int reg)
{
	return &v->regs.gpr[reg & 15];
}

/* Writes a load's result the way MOV/MOVZX/MOVSX write their destination. */
static void write_dest(struct vcpu *v, const struct insn *insn, uint64_t val)
{
	uint64_t *dst = gpr(v, insn->reg_high8 ? insn->reg - 4 : insn->reg);
	unsigned int size = insn->kind == INSN_MOV_LOAD ? insn->op_size : insn->dst_size;

	if (insn->kind == INSN_MOVSX_LOAD) {
		unsigned int shift = 64 - 8 * insn->op_size;

		val = (uint64_t)((int64_t)(val << shift) >> shift);
	}
	if (insn->reg_high8)
		*dst = (*dst & ~0xFF00ull) | (val & 0xFF) << 8;
	else if (size == 1)
		*dst = (*dst & ~0xFFull) | (val & 0xFF);
	else if (size == 2)
		*dst = (*dst & ~0xFFFFull) | (val & 0xFFFF);
	else if (size == 4)
		*dst = val & 0xFFFFFFFF; /* 32-bit results zero-extend (APM 3.1.2) */
	else
		*dst = val;
}

static uint64_t store_value(struct vcpu *v, const struct insn *insn)
{
	if (insn->kind == INSN_MOV_STORE_IMM)
		return insn->imm;
	if (insn->reg_high8)
		return *gpr(v, insn->reg - 4) >> 8;
	return *gpr(v, insn->reg);
}

/*
 * The APIC registers are 32-bit and 16-byte aligned (SDM 11.4.1). Narrower
 * or misaligned accesses are undefined there; nestvisor reads the dword
 * and extracts bytes, and drops partial writes.
 */
static enum vcpu_action lapic_mmio(struct vcpu *v, uint64_t gpa)
{
	struct insn insn;
	unsigned int len = vcpu_decode_insn(v, &insn);
	uint32_t offset = (uint32_t)(gpa - LAPIC_MMIO_BASE);
	uint32_t reg = offset & ~3u;
	uint64_t now = rdtsc();

	if (!len)
		return VCPU_STOP;
	switch (insn.kind) {
	case INSN_MOV_LOAD:
	case INSN_MOVZX_LOAD:
	case INSN_MOVSX_LOAD: {
		uint64_t val = vlapic_read(&v->lapic, reg, now) >> (8 * (offset & 3));

		if (insn.op_size < 8)
			val &= (1ull << (8 * insn.op_size)) - 1;
		write_dest(v, &insn, val);
		break;
	}
	case INSN_MOV_STORE:
	case INSN_MOV_STORE_IMM:
		if (insn.op_size >= 4 && !(offset & 3))
			vlapic_write(&v->lapic, reg, (uint32_t)store_value(v, &insn), now);
		break;
	default:
		guest_stop(v->guest, GUEST_STOPPED,
			   "unsupported instruction on the local APIC page at rip 0x%lx",
			   v->vmcb->save.rip);
		return VCPU_STOP;
	}
	vcpu_skip_insn(v, len);
	return VCPU_RESUME;
}

enum vcpu_action handle_npf(struct vcpu *v)
{
	uint64_t gpa = v->vmcb->control.exit_info2;
	uint64_t err = v->vmcb->control.exit_info1;

	if (gpa >= LAPIC_MMIO_BASE && gpa < LAPIC_MMIO_BASE + LAPIC_MMIO_SIZE &&
	    !(err & SVM_NPF_GUEST_PAGE_TABLES) && !(err & SVM_NPF_ID))
		return lapic_mmio(v, gpa);
	guest_stop(v->guest, GUEST_NPF, "%s at guest-physical 0x%lx outside its RAM (rip 0x%lx)",
		   (err & SVM_NPF_ID)		       ? "instruction fetch"
		   : (err & SVM_NPF_GUEST_PAGE_TABLES) ? "page-table walk"
		   : (err & SVM_NPF_RW)		       ? "write"
						       : "read",
		   gpa, v->vmcb->control.exit_info1 ? v->vmcb->save.rip : 0);
	return VCPU_STOP;
}
