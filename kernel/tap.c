#include <stdarg.h>
#include "kernel/console.h"
#include "kernel/tap.h"

void tap_plan(struct tap *tap, unsigned int planned)
{
	*tap = (struct tap){.planned = planned};
	kprintf("TAP version 13\n1..%u\n", planned);
}

static void tap_line(struct tap *tap, bool ok, const char *fmt, va_list ap)
{
	tap->run++;
	kprintf("%sok %u - ", ok ? "" : "not ", tap->run);
	kvprintf(fmt, ap);
}

bool tap_check(struct tap *tap, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_line(tap, ok, fmt, ap);
	va_end(ap);
	kprintf("\n");
	if (!ok)
		tap->failed++;
	return ok;
}

void tap_skip(struct tap *tap, const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_line(tap, true, fmt, ap);
	va_end(ap);
	kprintf(" # SKIP %s\n", reason);
}

unsigned int tap_finish(struct tap *tap)
{
	if (tap->run != tap->planned) {
		kprintf("# planned %u tests but ran %u\n", tap->planned, tap->run);
		return tap->failed + 1;
	}
	return tap->failed;
}
