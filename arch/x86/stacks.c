#include "arch/x86/gdt.h"
#include "arch/x86/stacks.h"

static char ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));

void *ist_stack_top(unsigned int ist)
{
	return ist_stacks[ist - 1] + IST_STACK_SIZE;
}

static bool within(uint64_t addr, uint64_t len, uint64_t lo, uint64_t hi)
{
	return addr >= lo && addr <= hi && len <= hi - addr;
}

bool on_kernel_stack(uint64_t addr, uint64_t len, uint64_t *top)
{
	if (within(addr, len, (uint64_t)boot_stack_bottom, (uint64_t)boot_stack_top)) {
		*top = (uint64_t)boot_stack_top;
		return true;
	}
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t lo = (uint64_t)ist_stacks[i];

		if (within(addr, len, lo, lo + IST_STACK_SIZE)) {
			*top = lo + IST_STACK_SIZE;
			return true;
		}
	}
	return false;
}

void stack_canary_set(void)
{
	*(volatile uint64_t *)boot_stack_bottom = STACK_CANARY;
}
