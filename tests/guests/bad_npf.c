/*
 * bad_npf: a load from guest-physical 1 GiB, past the guest's RAM, through
 * the boot identity map. Under nestvisor that is a nested page fault on
 * nothing mapped: the guest must be stopped with that reason (ARCHITECTURE.md
 * "Memory"), not given a #PF and not allowed to crash the hypervisor.
 */
#include <stdint.h>
#include "kernel/console.h"
#include "tests/lib/guest.h"
#include "tests/lib/misbehave.h"

#define BEYOND_RAM 0x40000000ull

void guest_main(struct tap *tap)
{
	uint64_t v;

	misbehave_begin(tap, "bad_npf: about to read guest-physical 0x40000000");
	v = *(volatile uint64_t *)BEYOND_RAM;
	kprintf("# read 0x%lx\n", v);
	misbehave_survived("reading 0x40000000");
}
