/*
 * xAPIC MMIO accessors for the guests (APM vol. 2 ch. 16 "Advanced
 * Programmable Interrupt Controller", SDM vol. 3A "APIC"). The registers
 * are 32 bits wide at 16-byte strides from the APIC base; the 256-bit
 * ISR/TMR/IRR arrays use eight such registers, 32 vectors each.
 */
#ifndef TESTS_LIB_XAPIC_H
#define TESTS_LIB_XAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define XAPIC_BASE 0xFEE00000u

#define APIC_BASE_BSP	 (1u << 8)
#define APIC_BASE_X2APIC (1u << 10)
#define APIC_BASE_ENABLE (1u << 11)

#define APIC_ID		   0x020
#define APIC_VERSION	   0x030
#define APIC_TPR	   0x080
#define APIC_PPR	   0x0A0
#define APIC_EOI	   0x0B0
#define APIC_SVR	   0x0F0
#define APIC_ISR	   0x100
#define APIC_TMR	   0x180
#define APIC_IRR	   0x200
#define APIC_ESR	   0x280
#define APIC_ICR_LO	   0x300
#define APIC_ICR_HI	   0x310
#define APIC_LVT_TIMER	   0x320
#define APIC_LVT_LINT0	   0x350
#define APIC_LVT_LINT1	   0x360
#define APIC_LVT_ERROR	   0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE  0x3E0

#define APIC_SVR_ENABLE (1u << 8)

#define APIC_LVT_MASKED	  (1u << 16)
#define APIC_LVT_PERIODIC (1u << 17)

/* Divide configuration: bits 3, 1, 0 (bit 2 is zero). */
#define APIC_DIVIDE_1  0xB
#define APIC_DIVIDE_16 0x3

#define APIC_ICR_FIXED	    (0u << 8)
#define APIC_ICR_NMI	    (4u << 8)
#define APIC_ICR_BUSY	    (1u << 12) /* delivery status, read-only */
#define APIC_ICR_ASSERT	    (1u << 14)
#define APIC_ICR_SELF	    (1u << 18) /* destination shorthand 01b */
#define APIC_ICR_DEST_SHIFT 24	       /* in ICR_HI, physical mode */

/*
 * One 32-bit MOV per access, as Linux's readl/writel: a compiler may fold
 * a volatile read into TEST or CMP with a memory operand, and an MMIO
 * emulator (nestvisor's decodes MOV forms) need not handle those.
 */
static inline uint32_t xapic_read(uint32_t reg)
{
	uint32_t v;

	asm volatile("movl %1, %0"
		     : "=r"(v)
		     : "m"(*(volatile uint32_t *)(uintptr_t)(XAPIC_BASE + reg)));
	return v;
}

static inline void xapic_write(uint32_t reg, uint32_t val)
{
	asm volatile("movl %1, %0"
		     : "=m"(*(volatile uint32_t *)(uintptr_t)(XAPIC_BASE + reg))
		     : "r"(val)
		     : "memory");
}

static inline void xapic_eoi(void)
{
	xapic_write(APIC_EOI, 0);
}

/* Bit vector of one of the 256-bit arrays (APIC_ISR, APIC_TMR, APIC_IRR). */
static inline bool xapic_vector_set(uint32_t array, unsigned int vector)
{
	return xapic_read(array + 0x10 * (vector / 32)) >> (vector % 32) & 1;
}

static inline unsigned int xapic_id(void)
{
	return xapic_read(APIC_ID) >> 24;
}

/*
 * Maps the APIC page uncacheable (the boot map is write-back) and software
 * enables the APIC with spurious vector spurious (APM "Spurious Interrupts").
 */
void xapic_init(uint8_t spurious);
/* Waits (bounded) for the ICR to go idle, then sends; returns false if it stayed busy. */
bool xapic_send_ipi(uint8_t dest, uint32_t icr_lo);

#endif
