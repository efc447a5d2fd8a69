/*
 * RDMSR/WRMSR of an L1 guest. The MSRPM intercepts every MSR, so this is
 * the complete list of MSRs a guest has; any other raises #GP(0) as on a
 * CPU that does not implement it (APM vol. 3, RDMSR/WRMSR). Most live in
 * the VMCB save area, which VMSAVE keeps current after every #VMEXIT.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/svm/exits.h"
#include "arch/x86/svm/vcpu.h"
#include <stddef.h>
#include "kernel/guest.h"
#include "kernel/kstring.h"

#define MSR_TSC		      0x00000010u
#define MSR_SYSENTER_CS	      0x00000174u
#define MSR_SYSENTER_ESP      0x00000175u
#define MSR_SYSENTER_EIP      0x00000176u
#define MSR_TSC_AUX	      0xC0000103u
#define APIC_BASE_GUEST	      0xFEE00000ull
#define APIC_BASE_BSP	      (1ull << 8)
#define APIC_BASE_ENABLE      (1ull << 11)
#define EFER_FFXSR	      (1ull << 14)
#define CPUID_EXT_EDX_NX      (1u << 20)
#define CPUID_EXT_EDX_FFXSR   (1u << 25)
#define CPUID_EXT_EDX_RDTSCP  (1u << 27)

static const uint8_t opcode_rdmsr[] = {0x0F, 0x32};
static const uint8_t opcode_wrmsr[] = {0x0F, 0x30};

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/*
 * MSRs that are plain VMCB save-area fields (Table B-2). Those holding an
 * address #GP on a non-canonical write (APM vol. 3 WRMSR).
 */
static const struct vmcb_msr {
	uint32_t msr;
	uint16_t offset;
	bool canonical;
} vmcb_msrs[] = {
	{MSR_FS_BASE, offsetof(struct vmcb_save, fs.base), true},
	{MSR_GS_BASE, offsetof(struct vmcb_save, gs.base), true},
	{MSR_KERNEL_GS_BASE, offsetof(struct vmcb_save, kernel_gs_base), true},
	{MSR_LSTAR, offsetof(struct vmcb_save, lstar), true},
	{MSR_CSTAR, offsetof(struct vmcb_save, cstar), true},
	{MSR_SYSENTER_ESP, offsetof(struct vmcb_save, sysenter_esp), true},
	{MSR_SYSENTER_EIP, offsetof(struct vmcb_save, sysenter_eip), true},
	{MSR_STAR, offsetof(struct vmcb_save, star), false},
	{MSR_SFMASK, offsetof(struct vmcb_save, sfmask), false},
	{MSR_SYSENTER_CS, offsetof(struct vmcb_save, sysenter_cs), false},
};

static const struct vmcb_msr *find_vmcb_msr(uint32_t msr)
{
	for (unsigned int i = 0; i < sizeof(vmcb_msrs) / sizeof(vmcb_msrs[0]); i++)
		if (vmcb_msrs[i].msr == msr)
			return &vmcb_msrs[i];
	return 0;
}

/* APM 7.8.1: each PAT entry must be one of the defined memory types. */
static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t type = (uint8_t)(pat >> (8 * i));

		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

/* EFER bits a guest may set: those whose feature its CPUID shows. SVME stays hidden. */
static uint64_t efer_writable(void)
{
	uint32_t edx = cpuid(0x80000001u, 0).edx;
	uint64_t bits = EFER_SCE | EFER_LME;

	if (edx & CPUID_EXT_EDX_NX)
		bits |= EFER_NXE;
	if (edx & CPUID_EXT_EDX_FFXSR)
		bits |= EFER_FFXSR;
	return bits;
}

static bool write_efer(struct vmcb_save *s, uint64_t val)
{
	/* APM 3.1.7: reserved bits #GP; LMA is read-only and ignored on write. */
	if (val & ~(efer_writable() | EFER_LMA))
		return false;
	/* APM 14.6.1: LME cannot change while paging is on. */
	if ((s->cr0 & CR0_PG) && ((val ^ s->efer) & EFER_LME))
		return false;
	s->efer = (val & ~(uint64_t)EFER_LMA) | (s->efer & EFER_LMA) | EFER_SVME;
	return true;
}

static bool msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	struct vmcb_save *s = &v->vmcb->save;
	const struct vmcb_msr *field = find_vmcb_msr(msr);

	if (field) {
		memcpy(val, (uint8_t *)s + field->offset, sizeof(*val));
		return true;
	}
	switch (msr) {
	case MSR_EFER:
		*val = s->efer & ~(uint64_t)EFER_SVME;
		return true;
	case MSR_PAT:
		*val = s->g_pat;
		return true;
	case MSR_TSC:
		*val = rdtsc() + v->vmcb->control.tsc_offset;
		return true;
	case MSR_TSC_AUX:
		*val = v->tsc_aux;
		return cpuid(0x80000001u, 0).edx & CPUID_EXT_EDX_RDTSCP;
	case MSR_APIC_BASE:
		*val = APIC_BASE_GUEST | APIC_BASE_ENABLE | APIC_BASE_BSP;
		return true;
	}
	return false;
}

static bool msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct vmcb_save *s = &v->vmcb->save;
	const struct vmcb_msr *field = find_vmcb_msr(msr);

	if (field) {
		if (field->canonical && !canonical(val))
			return false;
		memcpy((uint8_t *)s + field->offset, &val, sizeof(val));
		return true;
	}
	switch (msr) {
	case MSR_EFER:
		return write_efer(s, val);
	case MSR_PAT:
		if (!pat_valid(val))
			return false;
		s->g_pat = val;
		return true;
	case MSR_TSC:
		/* The guest's TSC is the host's plus tsc_offset (APM 15.30.5). */
		v->vmcb->control.tsc_offset = val - rdtsc();
		return true;
	case MSR_TSC_AUX:
		if (!(cpuid(0x80000001u, 0).edx & CPUID_EXT_EDX_RDTSCP) || (val >> 32))
			return false;
		/* Only one guest runs at a time: its value lives in the real MSR. */
		v->tsc_aux = val;
		wrmsr(MSR_TSC_AUX, val);
		return true;
	case MSR_APIC_BASE:
		/* The xAPIC stays enabled at its reset base: nothing else is emulated. */
		return val == (APIC_BASE_GUEST | APIC_BASE_ENABLE | APIC_BASE_BSP);
	}
	return false;
}

enum vcpu_action handle_msr(struct vcpu *v)
{
	uint64_t *r = v->regs.gpr;
	uint32_t msr = (uint32_t)r[GPR_RCX];
	bool write = v->vmcb->control.exit_info1 == SVM_EXITINFO_MSR_WRITE;
	uint64_t val = r[GPR_RDX] << 32 | (uint32_t)r[GPR_RAX];

	if (write ? !msr_write(v, msr, val) : !msr_read(v, msr, &val)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return VCPU_RESUME;
	}
	if (!write) {
		r[GPR_RAX] = (uint32_t)val;
		r[GPR_RDX] = val >> 32;
	}
	return vcpu_complete_known_insn(v, write ? opcode_wrmsr : opcode_rdmsr, 2);
}
