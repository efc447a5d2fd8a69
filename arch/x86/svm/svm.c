#include "arch/x86/cpu.h"
#include "arch/x86/extable.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vmcb.h"
#include "kernel/console.h"
#include "kernel/guest_cpuid.h"
#include "kernel/kstring.h"

struct svm_host svm_host;

void svm_detect(struct svm_caps *caps)
{
	uint32_t max_ext = cpuid(0x80000000u, 0).eax;
	struct cpuid_regs ext1 = {0}, leaf_a = {0};
	uint64_t vm_cr = 0;
	bool vm_cr_ok = false;

	if (max_ext >= 0x80000001u)
		ext1 = cpuid(0x80000001u, 0);
	if (max_ext >= 0x8000000Au)
		leaf_a = cpuid(0x8000000Au, 0);
	/* VM_CR exists only with SVM; elsewhere RDMSR may #GP. */
	if (ext1.ecx & CPUID_EXT_ECX_SVM)
		vm_cr_ok = rdmsr_safe(MSR_VM_CR, &vm_cr) == 0;
	svm_caps_decode(caps, max_ext, &ext1, &leaf_a, vm_cr_ok, vm_cr);
}

void svm_print_caps(const struct svm_caps *caps)
{
	if (!caps->svm || !caps->leaf_a) {
		kprintf("svm: not present\n");
		return;
	}
	kprintf("svm: revision %u, %u ASIDs, VM_CR=", caps->revision, caps->nr_asids);
	if (caps->vm_cr_readable)
		kprintf("0x%lx\n", caps->vm_cr);
	else
		kprintf("unreadable\n");
	kprintf("svm: features 0x%08x:", caps->features);
	for (unsigned int bit = 0; bit < 32; bit++) {
		const char *name = svm_feature_name(bit);

		if (name)
			kprintf(" %s%s", (caps->features >> bit) & 1 ? "+" : "-", name);
		else if ((caps->features >> bit) & 1)
			kprintf(" +bit%u", bit);
	}
	kprintf("\n");
}

/* All-ones permission maps: nothing reaches hardware without L0 deciding. */
static uint64_t alloc_ones(struct pmm *pmm, unsigned int pages)
{
	uint64_t pa = pmm_alloc(pmm, pages, PAGE_SIZE);

	if (pa)
		memset(pmm_virt(pmm, pa), 0xFF, pages * PAGE_SIZE);
	return pa;
}

/*
 * APM 3.1.3 (CR4): the bits that exist for a guest are those whose feature
 * the guest's CPUID shows; to L1, the filtered CPUID is the hardware.
 */
static uint64_t guest_cr4_valid_bits(void)
{
	struct guest_cpuid_policy policy = {.advertise_svm = true};
	uint32_t max_basic = cpuid(0, 0).eax, max_ext = cpuid(0x80000000u, 0).eax;
	struct cpuid_regs l1 = guest_cpuid(&policy, 1, 0, cpuid(1, 0), max_basic, max_ext);
	struct cpuid_regs l7 = guest_cpuid(&policy, 7, 0, cpuid(7, 0), max_basic, max_ext);
	uint64_t bits = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE |
			CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT;

	if (l7.ecx & (1u << 2))
		bits |= 1ull << 11; /* UMIP */
	if (l7.ecx & (1u << 16))
		bits |= 1ull << 12; /* LA57 */
	if (l7.ebx & (1u << 0))
		bits |= 1ull << 16; /* FSGSBASE */
	if (l1.ecx & (1u << 17))
		bits |= 1ull << 17; /* PCIDE */
	if (l1.ecx & (1u << 26))
		bits |= 1ull << 18; /* OSXSAVE */
	if (l7.ebx & (1u << 7))
		bits |= 1ull << 20; /* SMEP */
	if (l7.ebx & (1u << 20))
		bits |= 1ull << 21; /* SMAP */
	if (l7.ecx & (1u << 3))
		bits |= 1ull << 22; /* PKE */
	if (l7.ecx & (1u << 7))
		bits |= 1ull << 23; /* CET */
	return bits;
}

const char *svm_enable(const struct svm_caps *caps, struct pmm *pmm)
{
	struct svm_host *h = &svm_host;

	h->caps = *caps;
	h->hsave_pa = pmm_alloc(pmm, 1, PAGE_SIZE);
	h->host_state_pa = pmm_alloc(pmm, 1, PAGE_SIZE);
	h->iopm_pa = alloc_ones(pmm, SVM_IOPM_PAGES);
	h->msrpm_pa = alloc_ones(pmm, SVM_MSRPM_PAGES);
	if (!h->hsave_pa || !h->host_state_pa || !h->iopm_pa || !h->msrpm_pa)
		return "out of memory for the SVM host pages";
	h->msrpm_all_ones = true;
	/* APM 15.4: SVM instructions #UD until EFER.SVME is set. */
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	/* APM 15.30.4: the host save area, 4 KiB aligned. */
	wrmsr(MSR_VM_HSAVE_PA, h->hsave_pa);
	h->host_cr0 = read_cr0();
	h->host_cr4 = read_cr4();
	h->host_efer = rdmsr(MSR_EFER);
	h->max_basic_leaf = cpuid(0, 0).eax;
	h->max_ext_leaf = cpuid(0x80000000u, 0).eax;
	h->phys_addr_bits = h->max_ext_leaf >= 0x80000008u ? cpuid(0x80000008u, 0).eax & 0xFF : 36;
	h->guest_cr4_valid = guest_cr4_valid_bits();
	/*
	 * The host's FS, GS, TR, LDTR and syscall MSRs never change after boot:
	 * save them once; the world switch only VMLOADs them back.
	 */
	asm volatile("vmsave" ::"a"(h->host_state_pa) : "memory");
	return 0;
}
