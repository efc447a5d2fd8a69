/*
 * In-kernel self-tests (command line `selftest`): what can only be checked
 * on the machine itself: the CPU mode boot left us in, the exception path,
 * the guard page, the allocator over the real memory map. Pure logic is
 * tested on the host (tests/host/); these complement, not repeat, that.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/extable.h"
#include "arch/x86/gdt.h"
#include "arch/x86/idt.h"
#include "arch/x86/paging.h"
#include "arch/x86/stacks.h"
#include "kernel/boot.h"
#include "kernel/console.h"
#include "kernel/kprintf.h"
#include "kernel/kstring.h"
#include "kernel/tap.h"

#define PAGE_2M 0x200000ull

struct selftest {
	const char *name;
	bool (*run)(struct hv *hv);
};

static bool long_mode_active(struct hv *hv)
{
	(void)hv;
	return (rdmsr(MSR_EFER) & EFER_LMA) && (read_cr0() & CR0_PG) && (read_cr4() & CR4_PAE);
}

static bool tss_loaded(struct hv *hv)
{
	uint16_t tr;

	(void)hv;
	asm volatile("str %0" : "=r"(tr));
	return tr == GDT_TSS;
}

/* Varargs without SSE must format exactly as the host-built tests expect. */
static bool kprintf_freestanding(struct hv *hv)
{
	char buf[96];

	(void)hv;
	ksnprintf(buf, sizeof(buf), "%d|%5x|%-3s|%lu|%p|%c%%", -42, 0xbeef, "a", 1ul << 40,
		  (void *)0x1000, 'z');
	kprintf("# got \"%s\"\n", buf);
	return strcmp(buf, "-42| beef|a  |1099511627776|0x0000000000001000|z%") == 0;
}

static bool is_zero(const void *p, uint64_t len)
{
	const uint64_t *q = p;

	for (uint64_t i = 0; i < len / 8; i++)
		if (q[i])
			return false;
	return true;
}

static bool pmm_one_page(struct hv *hv)
{
	uint64_t before = pmm_free_pages(&hv->pmm);
	uint64_t pa = pmm_alloc(&hv->pmm, 1, PAGE_SIZE);
	bool ok = pa && !(pa & (PAGE_SIZE - 1)) && pa >= 0x100000 &&
		  is_zero(pmm_virt(&hv->pmm, pa), PAGE_SIZE) &&
		  pmm_free_pages(&hv->pmm) == before - 1;

	/* Dirty it so the next allocation of this frame proves zeroing. */
	if (pa)
		memset(pmm_virt(&hv->pmm, pa), 0xA5, PAGE_SIZE);
	if (pa && pmm_free(&hv->pmm, pa, 1))
		ok = false;
	pa = pmm_alloc(&hv->pmm, 1, PAGE_SIZE);
	ok = ok && pa && is_zero(pmm_virt(&hv->pmm, pa), PAGE_SIZE);
	if (pa)
		pmm_free(&hv->pmm, pa, 1);
	return ok && pmm_free_pages(&hv->pmm) == before;
}

static bool pmm_large_run(struct hv *hv)
{
	uint64_t pa = pmm_alloc(&hv->pmm, 512, PAGE_2M);
	bool ok = pa && !(pa & (PAGE_2M - 1));

	kprintf("# 2 MiB run at 0x%lx\n", pa);
	/* Neither the kernel image nor a module may be handed out. */
	if (pa < (uint64_t)__image_end && pa + PAGE_2M > (uint64_t)__image_start)
		ok = false;
	for (unsigned int i = 0; i < hv->boot.nr_modules; i++)
		if (pa < hv->boot.modules[i].end && pa + PAGE_2M > hv->boot.modules[i].start)
			ok = false;
	if (pa && pmm_free(&hv->pmm, pa, 512))
		ok = false;
	return ok;
}

static bool pmm_double_free(struct hv *hv)
{
	uint64_t pa = pmm_alloc(&hv->pmm, 2, PAGE_SIZE);
	uint64_t after_alloc = pmm_free_pages(&hv->pmm);
	bool ok;

	if (!pa)
		return false;
	ok = pmm_free(&hv->pmm, pa, 2) == 0;
	ok = ok && pmm_free(&hv->pmm, pa, 1) != 0;
	ok = ok && pmm_free_pages(&hv->pmm) == after_alloc + 2;
	/* Freeing the kernel image must be refused too. */
	ok = ok && pmm_free(&hv->pmm, (uint64_t)__image_start, 1) != 0;
	return ok;
}

static bool extable_ud2(struct hv *hv)
{
	(void)hv;
	return ud2_safe() == (EXTABLE_FAULTED | EXC_UD);
}

/*
 * The fixup must report the vector that was raised: a non-canonical load is
 * #GP (APM 5.3.1) and a load from the guard page #PF. (An unimplemented MSR
 * would be the natural #GP probe, but QEMU TCG reads those as 0.)
 */
static bool extable_vectors(struct hv *hv)
{
	uint64_t val, efer;

	(void)hv;
	return read_u64_safe(0x8000000000000000ull, &val) == (EXTABLE_FAULTED | EXC_GP) &&
	       read_u64_safe((uint64_t)boot_stack_guard, &val) == (EXTABLE_FAULTED | EXC_PF) &&
	       read_u64_safe((uint64_t)boot_stack_bottom, &val) == 0 &&
	       rdmsr_safe(MSR_EFER, &efer) == 0 && efer == rdmsr(MSR_EFER);
}

static bool stack_guard_unmapped(struct hv *hv)
{
	(void)hv;
	return stack_canary_intact() && !paging_is_mapped((uint64_t)boot_stack_guard) &&
	       paging_is_mapped((uint64_t)boot_stack_bottom) &&
	       paging_is_mapped((uint64_t)boot_stack_guard - 1);
}

/* APM 15.4: with SVM usable, EFER.SVME sets and clears. */
static bool svme_toggles(struct hv *hv)
{
	uint64_t efer = rdmsr(MSR_EFER);
	bool ok;

	(void)hv;
	wrmsr(MSR_EFER, efer | EFER_SVME);
	ok = rdmsr(MSR_EFER) & EFER_SVME;
	wrmsr(MSR_EFER, efer & ~(uint64_t)EFER_SVME);
	return ok && !(rdmsr(MSR_EFER) & EFER_SVME);
}

static const struct selftest selftests[] = {
    {"boot: long mode active (EFER.LMA, CR0.PG, CR4.PAE)", long_mode_active},
    {"gdt: TSS loaded for the IST stacks", tss_loaded},
    {"kprintf: freestanding varargs formatting", kprintf_freestanding},
    {"pmm: one zeroed page, freed and reused zeroed", pmm_one_page},
    {"pmm: 2 MiB-aligned run outside the image and modules", pmm_large_run},
    {"pmm: double free and freeing the image are refused", pmm_double_free},
    {"extable: UD2 under a fixup reports #UD", extable_ud2},
    {"extable: #GP and #PF reported by vector, no fault reports 0", extable_vectors},
    {"paging: guard page below the boot stack is unmapped, canary above it", stack_guard_unmapped},
    {"svm: EFER.SVME sets and clears", svme_toggles},
};

unsigned int selftest_run(struct hv *hv)
{
	struct tap tap;
	unsigned int n = sizeof(selftests) / sizeof(selftests[0]);

	tap_plan(&tap, n);
	for (unsigned int i = 0; i < n; i++)
		tap_check(&tap, selftests[i].run(hv), "%s", selftests[i].name);
	return tap_finish(&tap);
}

static unsigned int recurse(volatile unsigned int depth)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	if (depth == ~0u)
		return 0;
	return recurse(depth + 1) + pad[0];
}

void selftest_crash(const char *what)
{
	kprintf("selftest: raising %s on purpose\n", what);
	if (!strcmp(what, "ud"))
		asm volatile("ud2");
	else if (!strcmp(what, "gp"))
		/* A non-canonical address faults #GP(0) (APM 5.3.1). */
		asm volatile("movabsq 0x8000000000000000, %%rax" ::: "rax");
	else if (!strcmp(what, "pf"))
		(void)*(volatile char *)boot_stack_guard;
	else if (!strcmp(what, "de"))
		asm volatile("xorl %%ecx, %%ecx; divl %%ecx" ::: "eax", "ecx", "edx");
	else if (!strcmp(what, "bp"))
		asm volatile("int3");
	else if (!strcmp(what, "stack"))
		recurse(0);
}
