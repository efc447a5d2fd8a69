/*
 * TAP version 13 on the console: what tests/qemu/ asserts on. Shared by the
 * hypervisor's self-tests and the test guests' runtime.
 */
#ifndef KERNEL_TAP_H
#define KERNEL_TAP_H

#include <stdbool.h>

struct tap {
	unsigned int planned, run, failed;
};

void tap_plan(struct tap *tap, unsigned int planned);
/* Prints "ok N - name" or "not ok N - name"; returns ok. */
bool tap_check(struct tap *tap, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints "ok N - name # SKIP reason". */
void tap_skip(struct tap *tap, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Failures so far, counting a plan that was not met as one more. */
unsigned int tap_finish(struct tap *tap);

#endif
