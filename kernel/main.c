/*
 * kmain: bring the machine to a known state, learn the memory, check for
 * SVM, then do what the command line asks. Every way out ends the run
 * through platform_exit() with a status from exit_status.h.
 */
#include <stdint.h>
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_ident.h"
#include "arch/x86/gdt.h"
#include "arch/x86/idt.h"
#include "arch/x86/paging.h"
#include "arch/x86/stacks.h"
#include "arch/x86/svm/svm.h"
#include "drivers/platform.h"
#include "kernel/boot.h"
#include "kernel/console.h"
#include "drivers/lapic.h"
#include "kernel/exit_status.h"
#include "kernel/guest.h"
#include "kernel/tap.h"
#include "kernel/time.h"
#include "kernel/panic.h"

#define NESTVISOR_VERSION "0.1"

void kmain(uint32_t magic, uint32_t info_pa);

static struct hv hv;

/* The boot info is read through the identity map; nothing at page 0 or beyond it. */
static const void *identity_map(void *ctx, uint64_t pa, uint64_t len)
{
	(void)ctx;
	if (pa < 0x1000 || pa + len < pa || pa + len > paging_identity_limit())
		return 0;
	return (const void *)pa;
}

static const char *mem_type_name(uint32_t type)
{
	switch (type) {
	case MEM_USABLE:
		return "usable";
	case MEM_ACPI_RECLAIMABLE:
		return "ACPI reclaimable";
	case MEM_ACPI_NVS:
		return "ACPI NVS";
	case MEM_BAD:
		return "bad";
	default:
		return "reserved";
	}
}

static void print_boot_info(const struct boot_info *b)
{
	uint64_t usable = 0;

	kprintf("boot: multiboot%u, loader \"%s\", command line \"%s\"\n", b->protocol, b->loader,
		b->cmdline);
	for (unsigned int i = 0; i < b->nr_regions; i++) {
		const struct mem_region *r = &b->regions[i];

		kprintf("mem: [0x%012lx-0x%012lx) %s\n", r->base, r->base + r->len,
			mem_type_name(r->type));
		if (r->type == MEM_USABLE)
			usable += r->len;
	}
	kprintf("mem: %lu KiB usable in %u regions\n", usable >> 10, b->nr_regions);
	for (unsigned int i = 0; i < b->nr_modules; i++)
		kprintf("module: [0x%lx-0x%lx) \"%s\"\n", b->modules[i].start, b->modules[i].end,
			b->modules[i].string);
}

static void init_memory(struct hv *h)
{
	struct pmm_range reserved[1 + BOOT_MAX_MODULES];
	unsigned int n = 0;
	const char *err;

	reserved[n++] = (struct pmm_range){(uint64_t)__image_start, (uint64_t)__image_end};
	for (unsigned int i = 0; i < h->boot.nr_modules; i++)
		reserved[n++] =
		    (struct pmm_range){h->boot.modules[i].start, h->boot.modules[i].end};
	err = pmm_init(&h->pmm, h->boot.regions, h->boot.nr_regions, reserved, n,
		       paging_identity_limit(), 0);
	if (err)
		panic("memory: %s", err);
	kprintf("mem: %lu pages (%lu KiB) free for guests and the hypervisor\n",
		pmm_free_pages(&h->pmm), pmm_free_pages(&h->pmm) * 4);
}

static void print_cpu(void)
{
	struct cpu_ident id;

	cpu_ident_read(&id);
	kprintf("cpu: %s family 0x%x model 0x%x stepping %u \"%s\"\n", id.vendor, id.family,
		id.model, id.stepping, id.brand);
}

extern const char __ro_end[];

/* FNV-1a over L0's code and read-only data: what no guest may ever change. */
static uint64_t image_hash(void)
{
	uint64_t h = 0xCBF29CE484222325ull;

	for (const char *p = __image_start; p < __ro_end; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001B3ull;
	return h;
}

/* Every boot module is a guest, run one after another; one TAP line each. */
static bool run_guests(struct hv *h)
{
	struct tap tap;
	uint64_t free_before = pmm_free_pages(&h->pmm);
	uint64_t hash_before = image_hash();
	unsigned int failed;

	if (!h->boot.nr_modules) {
		kprintf("nestvisor: no guests to run; done\n");
		return true;
	}
	kprintf("nestvisor: running %u guest(s)\n", h->boot.nr_modules);
	tap_plan(&tap, h->boot.nr_modules + 2);
	for (unsigned int i = 0; i < h->boot.nr_modules; i++)
		guest_run_module(h, i, &tap);
	/* Whatever guests were given must all have come back. */
	tap_check(&tap, pmm_free_pages(&h->pmm) == free_before,
		  "every guest page returned (%lu free before, %lu after)", free_before,
		  pmm_free_pages(&h->pmm));
	/* Attack catalogue, global criteria: L0's canaries intact after every guest. */
	tap_check(&tap, image_hash() == hash_before && stack_canary_intact(),
		  "L0 code and read-only data unchanged (FNV-1a 0x%016lx), stack canary intact",
		  hash_before);
	failed = tap_finish(&tap);
	kprintf("nestvisor: %u of %u guest checks failed\n", failed, h->boot.nr_modules + 2);
	return failed == 0;
}

/*
 * Physical NMIs belong to L0 (a guest's run ends with #VMEXIT(NMI) and the
 * NMI is taken here at STGI). Nothing in nestvisor raises them, so they
 * are counted and otherwise ignored: a platform watchdog must not panic it.
 */
static uint64_t host_nmis;

static void host_nmi(struct exc_frame *frame)
{
	(void)frame;
	host_nmis++;
}

void kmain(uint32_t magic, uint32_t info_pa)
{
	const char *err;
	char opt[16];

	console_init();
	gdt_init();
	idt_init();
	idt_set_handler(EXC_NMI, host_nmi);
	pic_disable();
	/* A stack overflow now faults on the guard instead of eating .bss below. */
	paging_unmap_4k((uint64_t)boot_stack_guard);
	stack_canary_set();

	kprintf("\nnestvisor " NESTVISOR_VERSION ": AMD SVM microhypervisor\n");
	err = multiboot_parse(magic, info_pa, &(struct phys_window){identity_map, 0}, &hv.boot);
	if (err)
		panic("boot info: %s", err);
	print_cpu();
	print_boot_info(&hv.boot);
	init_memory(&hv);

	svm_detect(&hv.svm);
	svm_print_caps(&hv.svm);
	err = svm_caps_unusable(&hv.svm);
	if (err) {
		kprintf("nestvisor: SVM not available: %s\n", err);
		platform_exit(EXIT_UNSUPPORTED);
	}

	if (boot_option(hv.boot.cmdline, "crash", opt, sizeof(opt), 0)) {
		selftest_crash(opt);
		panic("crash=%s: unknown exception to raise", opt);
	}
	if (boot_option(hv.boot.cmdline, "selftest", opt, sizeof(opt), 0))
		platform_exit(selftest_run(&hv) ? EXIT_FAIL : EXIT_PASS);

	time_init();
	lapic_init();
	err = svm_enable(&hv.svm, &hv.pmm);
	if (err)
		panic("svm: %s", err);
	platform_exit(run_guests(&hv) ? EXIT_PASS : EXIT_FAIL);
}
