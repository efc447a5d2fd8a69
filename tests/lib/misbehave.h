/*
 * For the misbehaving guests (tests/guests/bad_*.c), which exist to show
 * that nestvisor stops a guest with a clear reason and survives. Each prints
 * a plan and one `ok` first, so the log shows it ran up to the misbehaviour.
 * They are meant for nestvisor only: bare they hang, reset or exit oddly.
 */
#ifndef TESTS_LIB_MISBEHAVE_H
#define TESTS_LIB_MISBEHAVE_H

#include "kernel/tap.h"

/* Plan 1..1 and "ok 1 - <what>" (what: what the guest is about to do). */
void misbehave_begin(struct tap *tap, const char *what);
/* Reached only when nobody stopped the guest: "Bail out!" and EXIT_FAIL. */
void __attribute__((noreturn)) misbehave_survived(const char *what);

#endif
