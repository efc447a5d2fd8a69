/*
 * bad_wild_write: stores to guest-physical addresses outside the guest's
 * RAM (512 MiB, 3 GiB, the IOAPIC at 0xFEC00000, which nestvisor does not
 * emulate). nestvisor must stop the guest at the first one with the address
 * as the reason. The option addr=0x... picks a single address, so each case
 * can be run on its own.
 */
#include <stdint.h>
#include "kernel/console.h"
#include "tests/lib/guest.h"
#include "tests/lib/misbehave.h"

#define WILD_VALUE 0xBAD0BAD0BAD0BAD0ull

static const uint64_t wild[] = {512ull << 20, 3ull << 30, 0xFEC00000ull};

static void wild_write(uint64_t addr)
{
	kprintf("# writing 0x%lx\n", addr);
	*(volatile uint64_t *)addr = WILD_VALUE;
}

void guest_main(struct tap *tap)
{
	uint64_t only = guest_option_u64("addr", 0);

	misbehave_begin(tap, "bad_wild_write: about to write outside guest RAM");
	if (only) {
		wild_write(only);
	} else {
		for (unsigned int i = 0; i < ARRAY_SIZE(wild); i++)
			wild_write(wild[i]);
	}
	misbehave_survived("writes outside guest RAM");
}
