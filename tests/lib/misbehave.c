#include "tests/lib/guest.h"
#include "tests/lib/misbehave.h"

void misbehave_begin(struct tap *tap, const char *what)
{
	tap_plan(tap, 1);
	tap_check(tap, true, "%s", what);
}

void misbehave_survived(const char *what)
{
	guest_bail_out("still running after: %s (the hypervisor should have stopped this guest)",
		       what);
}
