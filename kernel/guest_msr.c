/*
 * The MSR policy for L1 guests: see guest_msr.h. Most MSRs live in the
 * VMCB save area, which VMSAVE keeps current after every #VMEXIT; TSC is
 * the host TSC plus the VMCB's tsc_offset; TSC_AUX is kept by the vCPU.
 */
#include "kernel/guest_msr.h"

#include <stddef.h>

#include "arch/x86/cpu_bits.h"
#include "arch/x86/svm/vmcb.h"
#include "kernel/guest_cpuid.h"

#define EFER_FFXSR (1ull << 14)

/* APM vol. 2 5.3.1: bits 63:48 of a canonical address copy bit 47. */
static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/*
 * MSRs that are plain VMCB save-area fields (APM vol. 2 Table B-2). Those
 * holding an address #GP on a non-canonical write (APM vol. 3 WRMSR).
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

static uint64_t *find_vmcb_msr(struct vmcb_save *s, uint32_t msr, bool *is_address)
{
	for (size_t i = 0; i < sizeof(vmcb_msrs) / sizeof(vmcb_msrs[0]); i++) {
		if (vmcb_msrs[i].msr == msr) {
			*is_address = vmcb_msrs[i].canonical;
			return (uint64_t *)((uint8_t *)s + vmcb_msrs[i].offset);
		}
	}
	return NULL;
}

/* APM vol. 2 7.8.1: each PAT entry must be a defined memory type, else #GP. */
static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t type = (uint8_t)(pat >> (8 * i));

		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

/*
 * APM vol. 2 3.1.7: the EFER bits a guest may set are those whose feature
 * its CPUID shows (NXE with NX, FFXSR with FFXSR, SVME with SVM unless
 * VM_CR.SVMDIS forbids it, APM 15.30.1). To a guest without SVM the bit is
 * reserved.
 */
uint64_t guest_efer_bits(uint32_t cpuid_ext_edx, bool svm)
{
	uint64_t bits = EFER_SCE | EFER_LME;

	if (cpuid_ext_edx & CPUID_80000001_EDX_NX)
		bits |= EFER_NXE;
	if (cpuid_ext_edx & CPUID_80000001_EDX_FFXSR)
		bits |= EFER_FFXSR;
	if (svm)
		bits |= EFER_SVME;
	return bits;
}

static uint64_t efer_writable(const struct guest_msr_ctx *ctx)
{
	return guest_efer_bits(ctx->cpuid_ext_edx, ctx->svm && !(*ctx->vm_cr & VM_CR_SVMDIS));
}

static bool write_efer(const struct guest_msr_ctx *ctx, struct vmcb_save *s, uint64_t val)
{
	/* APM vol. 2 3.1.7: reserved bits #GP; LMA is read-only and ignored on write. */
	if (val & ~(efer_writable(ctx) | EFER_LMA))
		return false;
	/* APM vol. 2 14.6.1: LME cannot change while paging is on. */
	if ((s->cr0 & CR0_PG) && ((val ^ s->efer) & EFER_LME))
		return false;
	/*
	 * APM vol. 2 15.5.1: VMRUN needs EFER.SVME set in the save area, so
	 * L1's own SVME lives in *svme. L2's EFER is its own, SVME included.
	 */
	if (ctx->svm && !ctx->in_l2)
		*ctx->svme = val & EFER_SVME;
	s->efer = (val & ~(uint64_t)EFER_LMA) | (s->efer & EFER_LMA) | EFER_SVME;
	return true;
}

/* APM 15.30.4: VM_HSAVE_PA takes a 4 KiB-aligned address within the physical width. */
static bool write_hsave_pa(const struct guest_msr_ctx *ctx, uint64_t val)
{
	if ((val & 0xFFF) || (val >> ctx->phys_addr_bits))
		return false;
	*ctx->hsave_pa = val;
	return true;
}

/*
 * APM 15.30.1: VM_CR. Bits above SVMDIS are reserved; once LOCK is set,
 * LOCK and SVMDIS no longer change; SVMDIS cannot be set while EFER.SVME is 1.
 */
static bool write_vm_cr(const struct guest_msr_ctx *ctx, uint64_t val)
{
	uint64_t fixed = VM_CR_LOCK | VM_CR_SVMDIS;

	if (val & ~MSR_VM_CR_BITS)
		return false;
	if ((*ctx->vm_cr & VM_CR_LOCK) && ((val ^ *ctx->vm_cr) & fixed))
		return false;
	if ((val & VM_CR_SVMDIS) && *ctx->svme)
		return false;
	*ctx->vm_cr = val;
	return true;
}

/* APM vol. 3 RDTSCP: TSC_AUX exists only where CPUID shows RDTSCP. */
static bool has_tsc_aux(const struct guest_msr_ctx *ctx)
{
	return ctx->cpuid_ext_edx & CPUID_80000001_EDX_RDTSCP;
}

bool guest_msr_read(const struct guest_msr_ctx *ctx, uint32_t msr, uint64_t *val)
{
	struct vmcb_save *s = &ctx->vmcb->save;
	bool is_address;
	const uint64_t *field = find_vmcb_msr(s, msr, &is_address);

	if (field) {
		*val = *field;
		return true;
	}
	switch (msr) {
	case MSR_EFER:
		/* SVME is set for VMRUN's sake only (see write_efer). */
		*val = s->efer & ~(uint64_t)EFER_SVME;
		if (ctx->svm && (ctx->in_l2 || *ctx->svme))
			*val |= EFER_SVME;
		return true;
	case MSR_VM_HSAVE_PA:
		if (!ctx->svm)
			return false;
		*val = *ctx->hsave_pa;
		return true;
	case MSR_VM_CR:
		if (!ctx->svm)
			return false;
		*val = *ctx->vm_cr;
		return true;
	case MSR_PAT:
		*val = s->g_pat;
		return true;
	case MSR_TSC:
		/* APM vol. 2 15.30.5: the guest's TSC is the host's plus tsc_offset. */
		*val = ctx->host_tsc + ctx->vmcb->control.tsc_offset;
		return true;
	case MSR_TSC_AUX:
		if (!has_tsc_aux(ctx))
			return false;
		*val = *ctx->tsc_aux;
		return true;
	case MSR_APIC_BASE:
		*val = GUEST_APIC_BASE;
		return true;
	}
	/* APM vol. 3 RDMSR: an unimplemented MSR raises #GP(0). */
	return false;
}

bool guest_msr_write(const struct guest_msr_ctx *ctx, uint32_t msr, uint64_t val)
{
	struct vmcb_save *s = &ctx->vmcb->save;
	bool is_address;
	uint64_t *field = find_vmcb_msr(s, msr, &is_address);

	if (field) {
		/* APM vol. 3 WRMSR: a non-canonical address #GPs. */
		if (is_address && !canonical(val))
			return false;
		*field = val;
		return true;
	}
	switch (msr) {
	case MSR_EFER:
		return write_efer(ctx, s, val);
	case MSR_VM_HSAVE_PA:
		return ctx->svm && write_hsave_pa(ctx, val);
	case MSR_VM_CR:
		return ctx->svm && write_vm_cr(ctx, val);
	case MSR_PAT:
		if (!pat_valid(val))
			return false;
		s->g_pat = val;
		return true;
	case MSR_TSC:
		/* APM vol. 2 15.30.5: keep host TSC + tsc_offset equal to what was written. */
		ctx->vmcb->control.tsc_offset = val - ctx->host_tsc;
		return true;
	case MSR_TSC_AUX:
		/* APM vol. 3 RDTSCP: only TSC_AUX[31:0] is defined; the rest is reserved. */
		if (!has_tsc_aux(ctx) || (val >> 32))
			return false;
		*ctx->tsc_aux = val;
		return true;
	case MSR_APIC_BASE:
		/*
		 * APM vol. 2 16.3.1: the xAPIC stays enabled at its reset base;
		 * relocating or disabling it is not emulated, so only the value
		 * the guest reads may be written back.
		 */
		return val == GUEST_APIC_BASE;
	}
	/* APM vol. 3 WRMSR: an unimplemented MSR raises #GP(0). */
	return false;
}
