/* The GDT layout shared by boot code, the kernel and the test guests. */
#ifndef ARCH_X86_GDT_H
#define ARCH_X86_GDT_H

#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_USER_CS   0x1B /* 64-bit code, DPL 3 */
#define GDT_USER_DS   0x23 /* DPL 3 */
#define GDT_TSS	      0x28 /* 16-byte system descriptor */

/* IST slots (1-based, as the IDT gate field counts them). */
#define IST_DOUBLE_FAULT  1
#define IST_NMI		  2
#define IST_MACHINE_CHECK 3

#ifndef __ASSEMBLER__
void gdt_init(void);
#endif

#endif
