/* Time for budgets and virtual timers: the TSC, calibrated once at boot. */
#ifndef KERNEL_TIME_H
#define KERNEL_TIME_H

#include <stdint.h>

/* Measures the TSC against PIT channel 2; returns the kHz it settled on. */
uint64_t time_init(void);
uint64_t tsc_khz(void);
uint64_t ms_to_tsc(uint64_t ms);
uint64_t tsc_to_ms(uint64_t tsc);

#endif
