/*
 * Test-guest runtime: kmain for guests, and the panic paths the kernel's
 * kernel/panic.c provides for the hypervisor. A guest never hangs on an
 * unexpected event: it says "Bail out!" on COM1 (the TAP way to abort) and
 * exits with EXIT_FAIL, so a runner sees a reason and a status, not a timeout.
 */
#include <stdarg.h>
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/idt.h"
#include "arch/x86/paging.h"
#include "arch/x86/stacks.h"
#include "drivers/platform.h"
#include "kernel/console.h"
#include "kernel/exit_status.h"
#include "kernel/kprintf.h"
#include "kernel/kstring.h"
#include "kernel/panic.h"
#include "tests/lib/guest.h"

#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID_HV_LEAF	      0x40000000u

void kmain(uint32_t magic, uint32_t info_pa);

uint32_t guest_boot_magic, guest_boot_info_pa;
struct boot_info guest_boot;
const char *guest_boot_error;

static struct tap guest_tap;
static int bailing;

void guest_bail_out(const char *fmt, ...)
{
	va_list ap;

	cli();
	/* A fault while printing the first reason must not loop. */
	if (bailing++)
		platform_exit(EXIT_FAIL);
	kprintf("Bail out! ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	platform_exit(EXIT_FAIL);
}

/* arch/x86/paging.c reports broken invariants here; in a guest that is a bail-out. */
void panic(const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	guest_bail_out("panic: %s", msg);
}

void exception_unhandled(struct exc_frame *f)
{
	guest_bail_out("unexpected %s (vector %lu) at rip=0x%lx error=0x%lx cr2=0x%lx rsp=0x%lx",
		       exception_mnemonic(f->vector), f->vector, f->rip, f->error, read_cr2(),
		       f->rsp);
}

bool under_nestvisor(void)
{
	static int cached = -1;
	struct cpuid_regs r;

	if (cached >= 0)
		return cached;
	cached = 0;
	if (cpuid(1, 0).ecx & CPUID1_ECX_HYPERVISOR) {
		r = cpuid(CPUID_HV_LEAF, 0);
		cached = !memcmp(&r.ebx, "Nest", 4) && !memcmp(&r.ecx, "viso", 4) &&
			 !memcmp(&r.edx, "rSVM", 4);
	}
	return cached;
}

bool nestvisor_only(struct tap *tap, const char *name)
{
	if (under_nestvisor())
		return true;
	tap_skip(tap, "bare metal", "%s", name);
	return false;
}

uint64_t guest_option_u64(const char *key, uint64_t fallback)
{
	char buf[24];
	const char *p = buf;
	unsigned int base = 10;
	uint64_t v = 0;

	if (guest_boot_error || !boot_option(guest_boot.cmdline, key, buf, sizeof(buf), 0))
		return fallback;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return fallback;
	for (; *p; p++) {
		unsigned int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
			d = (*p | 0x20) - 'a' + 10;
		else
			return fallback;
		v = v * base + d;
	}
	return v;
}

void tsc_delay(uint64_t tsc)
{
	uint64_t start = rdtsc();

	while (rdtsc() - start < tsc)
		asm volatile("pause");
}

/* The info block is read through the boot identity map; page 0 stays off limits. */
static const void *identity_map(void *ctx, uint64_t pa, uint64_t len)
{
	(void)ctx;
	if (pa < 0x1000 || pa + len < pa || pa + len > paging_identity_limit())
		return 0;
	return (const void *)pa;
}

void kmain(uint32_t magic, uint32_t info_pa)
{
	console_init();
	gdt_init();
	idt_init();
	pic_disable();
	/* A stack overflow faults on the guard page instead of eating .bss. */
	paging_unmap_4k((uint64_t)boot_stack_guard);

	guest_boot_magic = magic;
	guest_boot_info_pa = info_pa;
	guest_boot_error =
	    multiboot_parse(magic, info_pa, &(struct phys_window){identity_map, 0}, &guest_boot);

	guest_main(&guest_tap);
	platform_exit(tap_finish(&guest_tap) ? EXIT_FAIL : EXIT_PASS);
}
