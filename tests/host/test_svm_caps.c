/* host-test-sources: arch/x86/svm/svm_caps.c arch/x86/cpu_ident.c */
/*
 * SVM capability decoding and the reasons nestvisor refuses a CPU, plus the
 * CPU identification shown on the banner.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/cpu.h"
#include "arch/x86/cpu_ident.h"
#include "arch/x86/svm/svm_caps.h"

static const struct cpuid_regs ext1_svm = {.ecx = CPUID_EXT_ECX_SVM};
static const struct cpuid_regs leaf_a_epyc = {.eax = 1, .ebx = 16, .edx = SVM_FEAT_NPT};

static const char *unusable(uint32_t max_ext, const struct cpuid_regs *ext1,
			    const struct cpuid_regs *leaf_a, uint64_t vm_cr)
{
	struct svm_caps c;

	svm_caps_decode(&c, max_ext, ext1, leaf_a, true, vm_cr);
	return svm_caps_unusable(&c);
}

static void test_usable_cpu(void **state)
{
	struct svm_caps c;

	(void)state;
	svm_caps_decode(&c, 0x8000001F, &ext1_svm, &leaf_a_epyc, true, 0);
	assert_null(svm_caps_unusable(&c));
	assert_int_equal(c.revision, 1);
	assert_int_equal(c.nr_asids, 16);
	assert_int_equal(c.features, SVM_FEAT_NPT);
}

static void test_refusals(void **state)
{
	struct cpuid_regs no_npt = leaf_a_epyc, one_asid = leaf_a_epyc, none = {0};

	(void)state;
	no_npt.edx = SVM_FEAT_VGIF;
	one_asid.ebx = 1;
	assert_string_equal(unusable(0x8000001F, &none, &leaf_a_epyc, 0),
			    "CPUID 8000_0001 ECX.SVM is 0 (no AMD SVM on this CPU)");
	/* SVM bit set but the extended leaves stop before 8000_0001 / 8000_000A. */
	assert_non_null(strstr(unusable(0x80000000, &ext1_svm, &leaf_a_epyc, 0), "ECX.SVM"));
	assert_non_null(strstr(unusable(0x80000009, &ext1_svm, &leaf_a_epyc, 0), "8000_000A"));
	assert_string_equal(unusable(0x8000001F, &ext1_svm, &leaf_a_epyc, VM_CR_SVMDIS),
			    "disabled (VM_CR.SVMDIS=1)");
	assert_string_equal(
	    unusable(0x8000001F, &ext1_svm, &leaf_a_epyc, VM_CR_SVMDIS | VM_CR_LOCK),
	    "disabled by firmware (VM_CR.SVMDIS=1, locked)");
	/* LOCK alone does not disable SVM (APM 15.30.1). */
	assert_null(unusable(0x8000001F, &ext1_svm, &leaf_a_epyc, VM_CR_LOCK));
	assert_non_null(strstr(unusable(0x8000001F, &ext1_svm, &no_npt, 0), "nested paging"));
	assert_non_null(strstr(unusable(0x8000001F, &ext1_svm, &one_asid, 0), "ASIDs"));
}

static void test_vm_cr_unreadable(void **state)
{
	struct svm_caps c;

	(void)state;
	svm_caps_decode(&c, 0x8000001F, &ext1_svm, &leaf_a_epyc, false, VM_CR_SVMDIS);
	assert_int_equal(c.vm_cr, 0);
	assert_null(svm_caps_unusable(&c));
}

static void test_feature_names(void **state)
{
	(void)state;
	assert_string_equal(svm_feature_name(0), "NPT");
	assert_string_equal(svm_feature_name(3), "NRIPS");
	assert_string_equal(svm_feature_name(16), "VGIF");
	assert_string_equal(svm_feature_name(28), "NestedVirtVmcbAddrChk");
	assert_null(svm_feature_name(8));
	assert_null(svm_feature_name(31));
	assert_null(svm_feature_name(32));
}

static struct cpuid_regs vendor_regs(const char *v)
{
	struct cpuid_regs r = {0};

	memcpy(&r.ebx, v, 4);
	memcpy(&r.edx, v + 4, 4);
	memcpy(&r.ecx, v + 8, 4);
	return r;
}

static void test_cpu_ident(void **state)
{
	struct cpuid_regs l0 = vendor_regs("AuthenticAMD");
	/* Zen 3 EPYC: family 0xF + ext 0xA = 0x19, model 0x01. */
	struct cpuid_regs l1 = {.eax = 0x00A00F11};
	struct cpuid_regs brand[3];
	struct cpu_ident id;

	(void)state;
	memset(brand, 0, sizeof(brand));
	memcpy(brand, "AMD EPYC 7763 64-Core Processor", 31);
	cpu_ident_decode(&id, &l0, &l1, brand);
	assert_string_equal(id.vendor, "AuthenticAMD");
	assert_int_equal(id.family, 0x19);
	assert_int_equal(id.model, 0x01);
	assert_int_equal(id.stepping, 1);
	assert_string_equal(id.brand, "AMD EPYC 7763 64-Core Processor");

	/* Below family 0xF the extended fields do not count (AMD); no brand leaves. */
	l1.eax = 0x00F00663;
	cpu_ident_decode(&id, &l0, &l1, NULL);
	assert_int_equal(id.family, 6);
	assert_int_equal(id.model, 0x06);
	assert_string_equal(id.brand, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usable_cpu),	     cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_vm_cr_unreadable), cmocka_unit_test(test_feature_names),
	    cmocka_unit_test(test_cpu_ident),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
