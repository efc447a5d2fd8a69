/*
 * Follows a guest's TAP output line by line, so that nestvisor's verdict on
 * a guest can include the guest's own results (plan, ok, not ok, bail out).
 */
#ifndef KERNEL_TAP_COUNT_H
#define KERNEL_TAP_COUNT_H

#include <stdbool.h>

struct tap_count {
	bool have_plan, bailed_out;
	unsigned int planned, ok, not_ok, skipped;
};

void tap_count_line(struct tap_count *t, const char *line);
/* A plan was printed, as many results followed, none failed, no bail out. */
bool tap_count_clean(const struct tap_count *t);

#endif
