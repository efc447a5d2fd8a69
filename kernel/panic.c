/*
 * PANIC output. The first line is the one tests and people grep for; the
 * registers and the backtrace follow on their own lines. A panic inside a
 * panic stops at once rather than looping.
 */
#include <stdarg.h>
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/stacks.h"
#include "drivers/platform.h"
#include "kernel/console.h"
#include "kernel/exit_status.h"
#include "kernel/panic.h"

#define BACKTRACE_MAX_FRAMES 16

static int panicking;

static void enter_panic(void)
{
	cli();
	if (panicking++) {
		kprintf("PANIC: nested panic, stopping\n");
		platform_exit(EXIT_PANIC);
	}
}

void backtrace_from(uint64_t rip, uint64_t rbp)
{
	uint64_t top;

	kprintf("backtrace:\n");
	if (rip)
		kprintf("  [-] 0x%lx\n", rip);
	for (int i = 0; i < BACKTRACE_MAX_FRAMES && rbp; i++) {
		/* Only follow frames that lie on a kernel stack and move towards its top. */
		if ((rbp & 7) || !on_kernel_stack(rbp, 16, &top))
			break;
		const uint64_t *frame = (const uint64_t *)rbp;

		kprintf("  [%d] 0x%lx\n", i, frame[1]);
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
}

void panic(const char *fmt, ...)
{
	va_list ap;

	enter_panic();
	kprintf("PANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	backtrace_from(0, (uint64_t)__builtin_frame_address(0));
	platform_exit(EXIT_PANIC);
}

void exception_unhandled(struct exc_frame *f)
{
	enter_panic();
	kprintf("PANIC: %s %s (vector %lu) error=0x%lx rip=0x%lx cs=0x%lx rflags=0x%lx cr2=0x%lx\n",
		exception_mnemonic(f->vector), exception_name(f->vector), f->vector, f->error,
		f->rip, f->cs, f->rflags, read_cr2());
	kprintf("rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	kprintf("rsi=%016lx rdi=%016lx rbp=%016lx rsp=%016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
	kprintf("r8 =%016lx r9 =%016lx r10=%016lx r11=%016lx\n", f->r8, f->r9, f->r10, f->r11);
	kprintf("r12=%016lx r13=%016lx r14=%016lx r15=%016lx\n", f->r12, f->r13, f->r14, f->r15);
	backtrace_from(f->rip, f->rbp);
	platform_exit(EXIT_PANIC);
}
