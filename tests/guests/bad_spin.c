/*
 * bad_spin: interrupts off and a tight loop for ever. Only the hypervisor's
 * per-guest budget can end it (reported as a timeout); nestvisor must keep
 * control of the CPU regardless.
 */
#include "tests/lib/guest.h"
#include "tests/lib/misbehave.h"

void guest_main(struct tap *tap)
{
	misbehave_begin(tap, "bad_spin: about to spin for ever with interrupts off");
	asm volatile("cli\n\t"
		     "1: jmp 1b" ::
			 : "memory");
	misbehave_survived("spinning for ever");
}
