#include "arch/x86/cpu.h"
#include "drivers/platform.h"

void platform_exit(uint8_t status)
{
	/* QEMU exits here; real hardware has nothing at 0xF4 and halts below. */
	outb(DEBUG_EXIT_PORT, status);
	halt_forever();
}

#define PIC1_CMD       0x20
#define PIC1_DATA      0x21
#define PIC2_CMD       0xA0
#define PIC2_DATA      0xA1
#define ICW1_INIT_ICW4 0x11
#define ICW4_8086      0x01
#define PIC1_VECTOR    0x20
#define PIC2_VECTOR    0x28

void pic_disable(void)
{
	/*
	 * Masked lines still deliver spurious IRQ 7/15; after a BIOS they would
	 * land on exception vectors 0x0F and 0x77, so remap first.
	 */
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, PIC1_VECTOR);
	outb(PIC2_DATA, PIC2_VECTOR);
	outb(PIC1_DATA, 1 << 2); /* slave on IRQ 2 */
	outb(PIC2_DATA, 2);	 /* cascade identity */
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
}
