#include "arch/x86/cpu.h"
#include "arch/x86/extable.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vmcb.h"
#include "kernel/console.h"
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
	/*
	 * The host's FS, GS, TR, LDTR and syscall MSRs never change after boot:
	 * save them once; the world switch only VMLOADs them back.
	 */
	asm volatile("vmsave" ::"a"(h->host_state_pa) : "memory");
	return 0;
}
