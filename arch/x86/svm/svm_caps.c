/* Pure decoding of SVM capabilities; see svm_caps.h. */
#include "arch/x86/cpu.h"
#include "arch/x86/svm/svm_caps.h"

#define CPUID_SVM_LEAF 0x8000000Au

static const char *const feature_names[32] = {
    [0] = "NPT",
    [1] = "LbrVirt",
    [2] = "SVML",
    [3] = "NRIPS",
    [4] = "TscRateMsr",
    [5] = "VmcbClean",
    [6] = "FlushByAsid",
    [7] = "DecodeAssists",
    [10] = "PauseFilter",
    [12] = "PauseFilterThreshold",
    [13] = "AVIC",
    [15] = "V_VMSAVE_VMLOAD",
    [16] = "VGIF",
    [17] = "GMET",
    [18] = "x2AVIC",
    [19] = "SSSCheck",
    [20] = "SpecCtrl",
    [21] = "ROGPT",
    [23] = "HOST_MCE_OVERRIDE",
    [24] = "TlbiCtl",
    [25] = "VNMI",
    [26] = "IbsVirt",
    [27] = "ExtLvtAvicAccessChg",
    [28] = "NestedVirtVmcbAddrChk",
    [29] = "BusLockThreshold",
    [30] = "IdleHltIntercept",
};

const char *svm_feature_name(unsigned int bit)
{
	return bit < 32 ? feature_names[bit] : 0;
}

void svm_caps_decode(struct svm_caps *caps, uint32_t max_ext_leaf, const struct cpuid_regs *ext1,
		     const struct cpuid_regs *leaf_a, bool vm_cr_readable, uint64_t vm_cr)
{
	*caps = (struct svm_caps){
	    .svm = max_ext_leaf >= 0x80000001u && (ext1->ecx & CPUID_EXT_ECX_SVM),
	    .vm_cr_readable = vm_cr_readable,
	    .vm_cr = vm_cr_readable ? vm_cr : 0,
	};
	if (caps->svm && max_ext_leaf >= CPUID_SVM_LEAF) {
		caps->leaf_a = true;
		caps->revision = (uint8_t)leaf_a->eax;
		caps->nr_asids = leaf_a->ebx;
		caps->features = leaf_a->edx;
	}
}

const char *svm_caps_unusable(const struct svm_caps *caps)
{
	if (!caps->svm)
		return "CPUID 8000_0001 ECX.SVM is 0 (no AMD SVM on this CPU)";
	if (!caps->leaf_a)
		return "CPUID leaf 8000_000A (SVM features) is missing";
	/* APM 15.30.1: with SVMDIS set, EFER.SVME cannot be set; LOCK keeps it so. */
	if (caps->vm_cr & VM_CR_SVMDIS)
		return (caps->vm_cr & VM_CR_LOCK) ? "disabled by firmware (VM_CR.SVMDIS=1, locked)"
						  : "disabled (VM_CR.SVMDIS=1)";
	/* nestvisor isolates guests with nested paging; it has no shadow-paging fallback. */
	if (!(caps->features & SVM_FEAT_NPT))
		return "no nested paging (CPUID 8000_000A EDX.NP=0)";
	/* ASID 0 is the host's (APM 15.16); a guest needs at least one more. */
	if (caps->nr_asids < 2)
		return "fewer than 2 ASIDs (CPUID 8000_000A EBX)";
	return 0;
}
