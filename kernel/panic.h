/* Broken hypervisor invariants end the run with one PANIC line. */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdint.h>

void __attribute__((noreturn, format(printf, 1, 2))) panic(const char *fmt, ...);
/* Prints rip (if not 0), then the return addresses up the frame-pointer chain from rbp. */
void backtrace_from(uint64_t rip, uint64_t rbp);

#endif
