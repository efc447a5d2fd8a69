/* Looks up the fixup of a faulting instruction (see extable.h). */
#include "arch/x86/extable.h"
#include "arch/x86/idt.h"

extern const struct extable_entry __extable_start[], __extable_end[];

bool extable_fixup(struct exc_frame *frame)
{
	for (const struct extable_entry *e = __extable_start; e < __extable_end; e++) {
		if (e->fault_rip == frame->rip) {
			frame->rip = e->fixup_rip;
			frame->rdi = EXTABLE_FAULTED | frame->vector;
			return true;
		}
	}
	return false;
}
