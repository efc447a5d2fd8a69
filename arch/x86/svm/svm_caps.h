/*
 * What the CPU offers for SVM, decoded once from CPUID 8000_0001/8000_000A
 * and VM_CR (APM 15.4, 15.30.1; APM vol. 3 appendix E.4.9). Everything else
 * consults this record instead of re-reading CPUID.
 */
#ifndef ARCH_X86_SVM_SVM_CAPS_H
#define ARCH_X86_SVM_SVM_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* CPUID 8000_000A EDX. */
#define SVM_FEAT_NPT			 (1u << 0)
#define SVM_FEAT_LBRV			 (1u << 1)
#define SVM_FEAT_SVML			 (1u << 2)
#define SVM_FEAT_NRIPS			 (1u << 3)
#define SVM_FEAT_TSC_RATE_MSR		 (1u << 4)
#define SVM_FEAT_VMCB_CLEAN		 (1u << 5)
#define SVM_FEAT_FLUSH_BY_ASID		 (1u << 6)
#define SVM_FEAT_DECODE_ASSISTS		 (1u << 7)
#define SVM_FEAT_PAUSE_FILTER		 (1u << 10)
#define SVM_FEAT_PAUSE_FILTER_THRESHOLD	 (1u << 12)
#define SVM_FEAT_AVIC			 (1u << 13)
#define SVM_FEAT_V_VMSAVE_VMLOAD	 (1u << 15)
#define SVM_FEAT_VGIF			 (1u << 16)
#define SVM_FEAT_GMET			 (1u << 17)
#define SVM_FEAT_X2AVIC			 (1u << 18)
#define SVM_FEAT_SSS_CHECK		 (1u << 19)
#define SVM_FEAT_V_SPEC_CTRL		 (1u << 20)
#define SVM_FEAT_ROGPT			 (1u << 21)
#define SVM_FEAT_HOST_MCE_OVERRIDE	 (1u << 23)
#define SVM_FEAT_TLBI_CTL		 (1u << 24)
#define SVM_FEAT_VNMI			 (1u << 25)
#define SVM_FEAT_IBS_VIRT		 (1u << 26)
#define SVM_FEAT_EXT_LVT_AVIC_ACCESS_CHG (1u << 27)
#define SVM_FEAT_VMCB_ADDR_CHK		 (1u << 28)
#define SVM_FEAT_BUS_LOCK_THRESHOLD	 (1u << 29)
#define SVM_FEAT_IDLE_HLT_INTERCEPT	 (1u << 30)

struct svm_caps {
	bool svm;    /* CPUID 8000_0001 ECX.SVM */
	bool leaf_a; /* CPUID 8000_000A exists */
	bool vm_cr_readable;
	uint64_t vm_cr;
	uint8_t revision;  /* 8000_000A EAX[7:0] */
	uint32_t nr_asids; /* 8000_000A EBX */
	uint32_t features; /* 8000_000A EDX */
};

struct cpuid_regs;
/*
 * max_ext_leaf is CPUID 8000_0000 EAX; ext1 and leaf_a are 8000_0001 and
 * 8000_000A (leaf_a is ignored when max_ext_leaf is below it).
 */
void svm_caps_decode(struct svm_caps *caps, uint32_t max_ext_leaf, const struct cpuid_regs *ext1,
		     const struct cpuid_regs *leaf_a, bool vm_cr_readable, uint64_t vm_cr);
/* NULL when nestvisor can use SVM, else the one-line reason it cannot. */
const char *svm_caps_unusable(const struct svm_caps *caps);
/* The name of feature bit `bit` (0-31), or NULL for a reserved bit. */
const char *svm_feature_name(unsigned int bit);

#endif
