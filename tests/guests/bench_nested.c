/*
 * bench_nested: the cost of one nested round trip: L2 executes VMMCALL,
 * L1 (intercepting it) gets the #VMEXIT, steps over it and VMRUNs L2
 * again. Under QEMU's -icount shift=0 the TSC counts instructions, so
 * "tsc/iter" is the instructions one round trip costs everything below
 * L1's loop: bare, that is QEMU's SVM (the hardware); under nestvisor it
 * is nestvisor's emulation as well. Under nestvisor the guest also asks
 * for L0's exit count (hypercall 1), giving L0 exits per round trip.
 */
#include "arch/x86/cpu.h"
#include "kernel/console.h"
#include "tests/lib/guest.h"
#include "tests/lib/svm.h"

#define ITERATIONS 1000

static struct l2 l2;

static void __attribute__((noreturn)) l2_loop(void)
{
	for (;;)
		asm volatile("vmmcall" ::: "memory");
}

static uint64_t l0_exits(void)
{
	uint64_t rax = 1;

	asm volatile("vmmcall" : "+a"(rax)::"rbx", "rcx", "rdx", "memory");
	return rax;
}

/* TSC ticks for ITERATIONS round trips (a first pass warms caches and TLBs). */
static uint64_t measure(bool *ok)
{
	uint64_t start = 0;

	*ok = true;
	for (int pass = 0; pass < 2; pass++) {
		start = rdtsc();
		for (unsigned int i = 0; i < ITERATIONS; i++) {
			/* No STGI in between: GIF stays 0, nothing else runs. */
			*ok &= svm_run_raw(&l2) == SVM_EXIT_VMMCALL;
			svm_skip(&l2, 3);
		}
	}
	return rdtsc() - start;
}

void guest_main(struct tap *tap)
{
	uint64_t ticks, exits = 0;
	bool ok;

	tap_plan(tap, 2);
	if (!tap_check(tap, svm_enable(), "SVM offered and enabled"))
		guest_bail_out("no SVM");
	svm_vmcb_init(&l2, l2_loop);
	if (under_nestvisor()) {
		exits = l0_exits();
		ticks = measure(&ok);
		exits = l0_exits() - exits - 1;
	} else {
		ticks = measure(&ok);
	}
	stgi();
	kprintf("# bench: nested round trip %lu tsc/iter\n", ticks / ITERATIONS);
	if (under_nestvisor())
		kprintf("# bench: nested round trip %lu.%02lu L0 exits/iter\n",
			exits / (2 * ITERATIONS), exits * 100 / (2 * ITERATIONS) % 100);
	tap_check(tap, ok, "every round trip ended in #VMEXIT(VMMCALL)");
}
