/*
 * TSC calibration against the 8254 PIT (channel 2, gated through port
 * 0x61), which both QEMU and PC hardware have. The PIT counts at
 * 1.193182 MHz; 11932 counts are 10 ms.
 */
#include "arch/x86/cpu.h"
#include "kernel/console.h"
#include "kernel/time.h"

#define PIT_HZ		   1193182u
#define PIT_CH2		   0x42
#define PIT_CMD		   0x43
#define PIT_GATE_PORT	   0x61
#define PIT_GATE	   0x01
#define PIT_SPEAKER	   0x02
#define PIT_OUT2	   0x20
#define PIT_CH2_MODE0_LOHI 0xB0
#define CALIBRATE_MS	   10
#define FALLBACK_KHZ	   1000000u /* 1 GHz, if no PIT answers */
#define SPIN_LIMIT	   100000000u

static uint64_t khz;

uint64_t time_init(void)
{
	uint16_t count = PIT_HZ / (1000 / CALIBRATE_MS);
	uint64_t t0, t1;
	uint32_t spin = 0;

	outb(PIT_GATE_PORT, (inb(PIT_GATE_PORT) & ~PIT_SPEAKER) & ~PIT_GATE);
	outb(PIT_CMD, PIT_CH2_MODE0_LOHI);
	outb(PIT_CH2, count & 0xFF);
	outb(PIT_CH2, count >> 8);
	/* Mode 0: OUT2 goes high when the count reaches zero after the gate opens. */
	outb(PIT_GATE_PORT, (inb(PIT_GATE_PORT) & ~PIT_SPEAKER) | PIT_GATE);
	t0 = rdtsc();
	while (!(inb(PIT_GATE_PORT) & PIT_OUT2) && ++spin < SPIN_LIMIT)
		;
	t1 = rdtsc();
	if (spin >= SPIN_LIMIT || t1 <= t0) {
		kprintf("time: PIT did not answer; assuming a %u kHz TSC\n", FALLBACK_KHZ);
		khz = FALLBACK_KHZ;
	} else {
		khz = (t1 - t0) / CALIBRATE_MS;
	}
	if (!khz)
		khz = 1;
	return khz;
}

uint64_t tsc_khz(void)
{
	return khz;
}

uint64_t ms_to_tsc(uint64_t ms)
{
	return ms * khz;
}

uint64_t tsc_to_ms(uint64_t tsc)
{
	return tsc / khz;
}
