/*
 * The physical local APIC, owned by L0. Its timer forces a #VMEXIT(INTR)
 * at the next moment L0 must look at a guest: a virtual timer expiring, or
 * the guest's budget running out.
 */
#ifndef DRIVERS_LAPIC_H
#define DRIVERS_LAPIC_H

#include <stdint.h>

#define LAPIC_TIMER_VECTOR    0x20
#define LAPIC_SPURIOUS_VECTOR 0xFF

/* Enables the xAPIC, masks LINT0/1, calibrates the timer against the TSC. */
void lapic_init(void);
/*
 * One-shot timer interrupt at about TSC deadline (now is the current TSC).
 * Re-arming for the deadline it is already armed for does nothing; the
 * interrupt itself disarms, so an early tick is re-armed next time.
 */
void lapic_timer_arm_at(uint64_t deadline, uint64_t now);
/* The deadline the timer is armed for (0: none); lets the exit path skip a re-arm inline. */
extern uint64_t lapic_armed_deadline;
void lapic_timer_stop(void);
void lapic_eoi(void);

#endif
