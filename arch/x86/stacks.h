/*
 * The kernel's stacks and their bounds: the boot stack (with an unmapped
 * guard page below it) and one stack per IST slot. The backtrace walker
 * only follows frame pointers that stay inside one of them.
 */
#ifndef ARCH_X86_STACKS_H
#define ARCH_X86_STACKS_H

#include <stdbool.h>
#include <stdint.h>

#define IST_STACK_SIZE 4096

extern char boot_stack_guard[], boot_stack_bottom[], boot_stack_top[];

#define STACK_CANARY 0x6E65737476697372ull /* "nestvisr" */

void *ist_stack_top(unsigned int ist);
/* A known word at the deepest slot of the boot stack, just above its guard page. */
void stack_canary_set(void);
static inline bool stack_canary_intact(void)
{
	return *(volatile uint64_t *)boot_stack_bottom == STACK_CANARY;
}
/* Whether [addr, addr + len) lies inside one kernel stack; *top is that stack's top. */
bool on_kernel_stack(uint64_t addr, uint64_t len, uint64_t *top);

#endif
