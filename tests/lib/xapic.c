#include "arch/x86/cpu.h"
#include "tests/lib/guest.h"
#include "tests/lib/xapic.h"

#define ICR_IDLE_TSC_BUDGET 100000000ull

/* boot/entry.S: four page directories of 2 MiB pages map the first 4 GiB. */
extern uint64_t boot_pd[4 * 512];

void xapic_init(uint8_t spurious)
{
	/*
	 * On hardware the MTRRs make the APIC page UC; say so in the PTE as
	 * well so that the result does not depend on them (APM 7.4 "Memory
	 * Types"). PCD|PWT select PAT entry 3, UC.
	 */
	boot_pd[XAPIC_BASE >> 21] |= PTE_PCD | PTE_PWT;
	invlpg(XAPIC_BASE);
	xapic_write(APIC_SVR, APIC_SVR_ENABLE | spurious);
}

bool xapic_send_ipi(uint8_t dest, uint32_t icr_lo)
{
	uint64_t start = rdtsc();

	while (xapic_read(APIC_ICR_LO) & APIC_ICR_BUSY) {
		if (rdtsc() - start > ICR_IDLE_TSC_BUDGET)
			return false;
		asm volatile("pause");
	}
	/* Writing the low half sends the IPI, so the destination goes first. */
	xapic_write(APIC_ICR_HI, (uint32_t)dest << APIC_ICR_DEST_SHIFT);
	xapic_write(APIC_ICR_LO, icr_lo);
	return true;
}
