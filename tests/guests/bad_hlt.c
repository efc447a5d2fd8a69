/*
 * bad_hlt: HLT with RFLAGS.IF clear and nothing pending, which never
 * wakes. nestvisor ends such a guest (ARCHITECTURE.md "Exit") instead of
 * waiting for ever.
 */
#include "tests/lib/guest.h"
#include "tests/lib/misbehave.h"

void guest_main(struct tap *tap)
{
	misbehave_begin(tap, "bad_hlt: about to HLT with interrupts off");
	asm volatile("cli\n\t"
		     "hlt" ::
			 : "memory");
	misbehave_survived("HLT with interrupts off");
}
