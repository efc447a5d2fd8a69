/*
 * bench: the cost of an intercepted instruction under nestvisor, in TSC
 * ticks per iteration, minus an empty loop. Run it with QEMU's
 * -icount shift=0,align=off,sleep=off so the TSC counts instructions and the
 * numbers repeat bit for bit (ARCHITECTURE.md "QEMU for CI"). Bare, there is
 * nothing to measure: every test is a SKIP, so bare and nested plans match.
 */
#include "arch/x86/cpu.h"
#include "kernel/console.h"
#include "tests/lib/fault.h"
#include "tests/lib/guest.h"

#define ITERATIONS 1000

enum bench_op { OP_EMPTY, OP_CPUID, OP_VMMCALL };

/* TSC ticks for ITERATIONS of op; a first pass warms caches and TLBs. */
static uint64_t measure(enum bench_op op)
{
	uint64_t start = 0;

	for (int pass = 0; pass < 2; pass++) {
		start = rdtsc();
		for (unsigned int i = 0; i < ITERATIONS; i++) {
			if (op == OP_CPUID)
				cpuid(0, 0);
			else if (op == OP_VMMCALL)
				vmmcall_safe();
			else
				asm volatile("" ::: "memory");
		}
	}
	return rdtsc() - start;
}

static void bench(struct tap *tap, const char *name, enum bench_op op, uint64_t empty)
{
	uint64_t total = measure(op), per_iter = total > empty ? (total - empty) / ITERATIONS : 0;

	kprintf("# bench: %s %lu tsc/iter\n", name, per_iter);
	tap_check(tap, per_iter > 0, "bench: %s costs more than an empty loop", name);
}

void guest_main(struct tap *tap)
{
	uint64_t empty;
	uint32_t fault;

	tap_plan(tap, 2);
	if (!under_nestvisor()) {
		tap_skip(tap, "bare metal", "bench: cpuid costs more than an empty loop");
		tap_skip(tap, "bare metal", "bench: vmmcall costs more than an empty loop");
		return;
	}
	empty = measure(OP_EMPTY);
	bench(tap, "cpuid", OP_CPUID, empty);
	/* nestvisor intercepts VMMCALL and resumes after it; a #UD here is a bug. */
	fault = vmmcall_safe();
	if (fault) {
		kprintf("# vmmcall raised vector %d\n", fault_vector(fault));
		tap_check(tap, false, "bench: vmmcall costs more than an empty loop");
		return;
	}
	bench(tap, "vmmcall", OP_VMMCALL, empty);
}
