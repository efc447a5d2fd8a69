/*
 * nested_vmload: VMLOAD and VMSAVE (APM vol. 2 15.5.2 "VMSAVE and VMLOAD
 * Instructions", vol. 3 VMLOAD/VMSAVE) move exactly this state between the
 * CPU and a VMCB: FS, GS, TR and LDTR with their hidden parts (selector,
 * attributes, limit, base), KernelGSBase, STAR, LSTAR, CSTAR, SFMASK and
 * SYSENTER_CS/ESP/EIP. The tests write known values into one VMCB page,
 * VMLOAD it, read what the CPU now holds (RDMSR, MOV from FS/GS, STR,
 * SLDT), VMSAVE into a second page and compare field by field; VMSAVE must
 * leave every other byte of its page alone. Segment bases loaded by VMLOAD
 * are canonicalised (sign-extended from bit 47 with 4-level paging), as for
 * the segments VMRUN loads.
 *
 * L1 needs its own TR (IST stacks) and FS/GS: each test starts from a
 * VMSAVE image of L1's state and ends with a VMLOAD of it.
 */
#include "arch/x86/cpu.h"
#include "kernel/console.h"
#include "kernel/kprintf.h"
#include "kernel/kstring.h"
#include "tests/lib/fault.h"
#include "tests/lib/guest.h"
#include "tests/lib/svm.h"
#include "tests/lib/svm_test.h"

#define MSR_SYSENTER_CS	 0x00000174
#define MSR_SYSENTER_ESP 0x00000175
#define MSR_SYSENTER_EIP 0x00000176

#define CPUID7_ECX_LA57 (1u << 16)
#define POISON		0xA5

/* L1's own state; what VMLOAD is given, what VMSAVE wrote, what it should have. */
static struct vmcb l1_state, in, out, expected;

/* FS and GS: present writable data (type 3, S, P); G and D/B for GS. */
#define ATTR_DATA    0x093
#define ATTR_DATA_GD 0xC93
/* TR: busy 64-bit TSS (type 0xB, P). LDTR: LDT (type 2, P). */
#define ATTR_TSS_BUSY 0x08B
#define ATTR_LDT      0x082

/*
 * Sign-extended from the CPU's linear-address width: 57 bits where LA57
 * exists, else 48 (what QEMU and kvm-unit-tests use, whatever CR4.LA57).
 * The test values below give the same result for either width.
 */
static uint64_t canonical(uint64_t va)
{
	unsigned int bits = cpuid(7, 0).ecx & CPUID7_ECX_LA57 ? 57 : 48;

	return (uint64_t)((int64_t)(va << (64 - bits)) >> (64 - bits));
}

/* Known, canonical values for every VMLOAD field; nothing checks them at VMLOAD. */
static void fill_known(struct vmcb *v)
{
	struct vmcb_save *s = &v->save;

	memset(v, 0, sizeof(*v));
	s->fs = (struct vmcb_seg){0x0033, ATTR_DATA, 0x0000ABCD, 0x00007F0012345000ull};
	s->gs = (struct vmcb_seg){0x002B, ATTR_DATA_GD, 0xFFFFFFFF, 0xFFFF8000ABCDE000ull};
	s->tr = (struct vmcb_seg){0x0040, ATTR_TSS_BUSY, 0x00000067, 0x0000000000234000ull};
	s->ldtr = (struct vmcb_seg){0x0048, ATTR_LDT, 0x00000FFF, 0xFFFFFFFF80001000ull};
	s->kernel_gs_base = 0xFFFF800012340000ull;
	s->star = 0x0023001012345678ull;
	s->lstar = 0xFFFF800011112000ull;
	s->cstar = 0xFFFF800022223000ull;
	/* SFMASK bits 63:32 and SYSENTER_ESP/EIP above 4 GiB are not kept by every CPU. */
	s->sfmask = 0x00047700;
	s->sysenter_cs = 0x1008;
	s->sysenter_esp = 0x00123450;
	s->sysenter_eip = 0x00456780;
}

static uint16_t read_fs(void)
{
	uint16_t v;

	asm volatile("mov %%fs, %0" : "=r"(v));
	return v;
}

static uint16_t read_gs(void)
{
	uint16_t v;

	asm volatile("mov %%gs, %0" : "=r"(v));
	return v;
}

static uint16_t read_tr(void)
{
	uint16_t v;

	asm volatile("str %0" : "=r"(v));
	return v;
}

static uint16_t read_ldtr(void)
{
	uint16_t v;

	asm volatile("sldt %0" : "=r"(v));
	return v;
}

static bool seg_equal(const char *name, const struct vmcb_seg *got, const struct vmcb_seg *want)
{
	bool ok = got->selector == want->selector && got->attrib == want->attrib &&
		  got->limit == want->limit && got->base == want->base;

	if (!ok)
		kprintf(
		    "# %s: sel 0x%x attr 0x%x limit 0x%x base 0x%lx, want 0x%x 0x%x 0x%x 0x%lx\n",
		    name, got->selector, got->attrib, got->limit, got->base, want->selector,
		    want->attrib, want->limit, want->base);
	return ok;
}

static bool u64_equal(const char *name, uint64_t got, uint64_t want)
{
	if (got != want)
		kprintf("# %s: 0x%lx, want 0x%lx\n", name, got, want);
	return got == want;
}

/* The MSRs VMLOAD loads, as RDMSR sees them. */
static const struct {
	const char *name;
	uint32_t msr;
	size_t off; /* in struct vmcb_save */
} msrs[] = {
    {"KERNEL_GS_BASE", MSR_KERNEL_GS_BASE, offsetof(struct vmcb_save, kernel_gs_base)},
    {"STAR", MSR_STAR, offsetof(struct vmcb_save, star)},
    {"LSTAR", MSR_LSTAR, offsetof(struct vmcb_save, lstar)},
    {"CSTAR", MSR_CSTAR, offsetof(struct vmcb_save, cstar)},
    {"SFMASK", MSR_SFMASK, offsetof(struct vmcb_save, sfmask)},
    {"SYSENTER_CS", MSR_SYSENTER_CS, offsetof(struct vmcb_save, sysenter_cs)},
    {"SYSENTER_ESP", MSR_SYSENTER_ESP, offsetof(struct vmcb_save, sysenter_esp)},
    {"SYSENTER_EIP", MSR_SYSENTER_EIP, offsetof(struct vmcb_save, sysenter_eip)},
};

static uint64_t save_field(const struct vmcb *v, size_t off)
{
	return *(const uint64_t *)((const uint8_t *)&v->save + off);
}

/* What the CPU holds: selectors, FS/GS bases and the MSRs. */
struct cpu_view {
	uint16_t fs, gs, tr, ldtr;
	uint64_t fs_base, gs_base, msr[ARRAY_SIZE(msrs)];
};

static void read_cpu(struct cpu_view *v)
{
	v->fs = read_fs();
	v->gs = read_gs();
	v->tr = read_tr();
	v->ldtr = read_ldtr();
	v->fs_base = rdmsr(MSR_FS_BASE);
	v->gs_base = rdmsr(MSR_GS_BASE);
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		v->msr[i] = rdmsr(msrs[i].msr);
}

static bool cpu_holds(const struct cpu_view *v, const struct vmcb *want)
{
	const struct vmcb_save *w = &want->save;
	bool ok = true;

	ok &= u64_equal("FS selector", v->fs, w->fs.selector);
	ok &= u64_equal("GS selector", v->gs, w->gs.selector);
	ok &= u64_equal("TR selector", v->tr, w->tr.selector);
	ok &= u64_equal("LDTR selector", v->ldtr, w->ldtr.selector);
	ok &= u64_equal("FS_BASE", v->fs_base, w->fs.base);
	ok &= u64_equal("GS_BASE", v->gs_base, w->gs.base);
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		ok &= u64_equal(msrs[i].name, v->msr[i], save_field(want, msrs[i].off));
	return ok;
}

/* The VMSAVE image out against want, field by field. */
static bool vmcb_holds(const struct vmcb *got, const struct vmcb *want)
{
	bool ok = true;

	ok &= seg_equal("FS", &got->save.fs, &want->save.fs);
	ok &= seg_equal("GS", &got->save.gs, &want->save.gs);
	ok &= seg_equal("TR", &got->save.tr, &want->save.tr);
	ok &= seg_equal("LDTR", &got->save.ldtr, &want->save.ldtr);
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		ok &= u64_equal(msrs[i].name, save_field(got, msrs[i].off),
				save_field(want, msrs[i].off));
	return ok;
}

/*
 * VMLOAD src, read the CPU, VMSAVE into out, VMLOAD L1's own state back.
 * Nothing in between may print or take an interrupt: L1's TR is gone.
 */
static bool load_read_save(const struct vmcb *src, struct cpu_view *v)
{
	uint32_t fault;

	memset(&out, 0, sizeof(out));
	fault = vmload_safe((uint64_t)src);
	if (!fault) {
		read_cpu(v);
		fault = vmsave_safe((uint64_t)&out);
	}
	vmload_safe((uint64_t)&l1_state);
	if (fault)
		kprintf("# VMLOAD/VMSAVE fault vector %d\n", fault_vector(fault));
	return !fault;
}

static void test_round_trip(struct tap *tap)
{
	struct cpu_view v;
	bool ran;

	fill_known(&in);
	ran = load_read_save(&in, &v);
	tap_check(
	    tap, ran && cpu_holds(&v, &in),
	    "VMLOAD: FS/GS/TR/LDTR selectors, FS/GS bases and the 8 MSRs read back by the CPU");
	tap_check(
	    tap, ran && vmcb_holds(&out, &in),
	    "VMSAVE after VMLOAD: every field (incl. hidden attrib, limit, base) round-trips");
}

/* The other direction: state the CPU got by WRMSR shows up in VMSAVE's image. */
static void test_save_sees_wrmsr(struct tap *tap)
{
	bool ok = true;

	fill_known(&expected);
	/* Start from L1's own segments; only the MSRs come from WRMSR. */
	memset(&out, 0, sizeof(out));
	vmsave_safe((uint64_t)&out);
	expected.save.fs = out.save.fs;
	expected.save.gs = out.save.gs;
	expected.save.tr = out.save.tr;
	expected.save.ldtr = out.save.ldtr;
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		wrmsr(msrs[i].msr, save_field(&expected, msrs[i].off));
	memset(&out, 0, sizeof(out));
	vmsave_safe((uint64_t)&out);
	vmload_safe((uint64_t)&l1_state);
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		ok &= u64_equal(msrs[i].name, save_field(&out, msrs[i].off),
				save_field(&expected, msrs[i].off));
	tap_check(tap, ok, "VMSAVE stores the MSR values last written by WRMSR");
}

/*
 * APM 15.5.2 names the whole VMSAVE set; VMSAVE writes nothing else of
 * its VMCB page (nestvisor must not scribble on L1's VMCB either).
 */
static void test_save_touches_only_its_fields(struct tap *tap)
{
	static uint8_t want[sizeof(struct vmcb)];
	const struct {
		size_t off, len;
	} fields[] = {
	    {offsetof(struct vmcb, save.fs), 2 * sizeof(struct vmcb_seg)},
	    {offsetof(struct vmcb, save.ldtr), sizeof(struct vmcb_seg)},
	    {offsetof(struct vmcb, save.tr), sizeof(struct vmcb_seg)},
	    {offsetof(struct vmcb, save.star), 5 * sizeof(uint64_t)}, /* STAR..KERNEL_GS_BASE */
	    {offsetof(struct vmcb, save.sysenter_cs), 3 * sizeof(uint64_t)},
	};
	unsigned int stray = 0, first = 0;

	memset(&out, POISON, sizeof(out));
	memset(want, POISON, sizeof(want));
	vmsave_safe((uint64_t)&out);
	vmload_safe((uint64_t)&l1_state);
	/* Copy the fields VMSAVE may write from what it wrote; the rest must still be poison. */
	for (unsigned int i = 0; i < ARRAY_SIZE(fields); i++)
		memcpy(want + fields[i].off, (uint8_t *)&out + fields[i].off, fields[i].len);
	for (unsigned int i = 0; i < sizeof(want); i++) {
		if (((uint8_t *)&out)[i] != want[i] && !stray++)
			first = i;
	}
	if (stray)
		kprintf("# %u bytes changed outside the VMSAVE set, first at offset 0x%x\n", stray,
			first);
	tap_check(tap, !stray, "VMSAVE writes no byte of the VMCB outside the VMLOAD/VMSAVE set");
}

/*
 * Non-canonical bases in the VMCB: VMLOAD sign-extends the segment bases
 * and KernelGSBase from the top implemented linear-address bit (the
 * canonical form RDMSR then returns; WRMSR could never have put them
 * there). QEMU, Bochs and kvm-unit-tests agree on these five; Bochs also
 * canonicalises LSTAR, CSTAR and SYSENTER_ESP/EIP, QEMU does not, so those
 * are not tested. Bits 56:47 of each value are equal, so a 48- and a
 * 57-bit CPU agree on the result.
 */
static void test_canonicalisation(struct tap *tap)
{
	const uint64_t bases[] = {0x8000000012345000ull, 0x7FFF800012345000ull};

	for (unsigned int b = 0; b < ARRAY_SIZE(bases); b++) {
		struct cpu_view v;
		bool ran, ok;

		fill_known(&in);
		in.save.fs.base = bases[b];
		in.save.gs.base = bases[b] + 0x1000;
		in.save.tr.base = bases[b] + 0x2000;
		in.save.ldtr.base = bases[b] + 0x3000;
		in.save.kernel_gs_base = bases[b] + 0x4000;
		expected = in;
		expected.save.fs.base = canonical(in.save.fs.base);
		expected.save.gs.base = canonical(in.save.gs.base);
		expected.save.tr.base = canonical(in.save.tr.base);
		expected.save.ldtr.base = canonical(in.save.ldtr.base);
		expected.save.kernel_gs_base = canonical(in.save.kernel_gs_base);

		ran = load_read_save(&in, &v);
		ok = ran && cpu_holds(&v, &expected);
		ok &= ran && vmcb_holds(&out, &expected);
		tap_check(tap, ok,
			  "VMLOAD canonicalises non-canonical FS/GS/TR/LDTR/KernelGSBase bases "
			  "(0x%lx -> 0x%lx)",
			  bases[b], canonical(bases[b]));
	}
}

/* VMLOAD of L1's own image restores it exactly: the tests above left nothing behind. */
static void test_l1_restored(struct tap *tap)
{
	memset(&out, 0, sizeof(out));
	vmsave_safe((uint64_t)&out);
	tap_check(tap, vmcb_holds(&out, &l1_state),
		  "L1's own FS/GS/TR/LDTR and MSRs are back after the tests");
}

#define NR_TESTS 7

void guest_main(struct tap *tap)
{
	tap_plan(tap, NR_TESTS);
	if (!svm_enable())
		guest_bail_out("no SVM");
	memset(&l1_state, 0, sizeof(l1_state));
	if (vmsave_safe((uint64_t)&l1_state))
		guest_bail_out("VMSAVE of L1's own state faults");
	test_round_trip(tap);
	test_save_sees_wrmsr(tap);
	test_save_touches_only_its_fields(tap);
	test_canonicalisation(tap);
	test_l1_restored(tap);
}
