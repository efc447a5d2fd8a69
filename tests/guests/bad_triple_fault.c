/*
 * bad_triple_fault: with an empty IDT (limit 0), INT3 cannot find its gate
 * (#GP), nor can the #GP, nor the #DF that follows: a shutdown (APM vol. 2
 * "Double-Fault Exception (#DF)": a fault while delivering #DF shuts the
 * processor down). nestvisor must report the shutdown and run on.
 */
#include <stdint.h>
#include "tests/lib/guest.h"
#include "tests/lib/misbehave.h"

void guest_main(struct tap *tap)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = {0, 0};

	misbehave_begin(tap, "bad_triple_fault: about to INT3 with an empty IDT");
	asm volatile("cli\n\t"
		     "lidt %0\n\t"
		     "int3" ::"m"(empty)
		     : "memory");
	misbehave_survived("INT3 with an empty IDT");
}
