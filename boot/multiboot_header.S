/*
 * Both multiboot headers, so one ELF64 image boots from GRUB's `multiboot2`
 * command and from `qemu -kernel` (QEMU's multiboot1 loader refuses ELF64,
 * hence the a.out kludge: it then loads the file by the addresses below).
 * The linker script keeps the single PT_LOAD segment linear in the file and
 * asserts where these headers land.
 */
#include "boot/multiboot_defs.h"

	.section .multiboot1, "a"
	.balign 4
	.global mb1_header
mb1_header:
	.long MB1_HEADER_MAGIC
	.long MB1_HEADER_FLAGS
	.long -(MB1_HEADER_MAGIC + MB1_HEADER_FLAGS)	/* checksum */
	.long mb1_header				/* header_addr */
	.long __image_start				/* load_addr */
	.long __data_end				/* load_end_addr */
	.long __bss_end					/* bss_end_addr */
	.long _start					/* entry_addr */

	.section .multiboot2, "a"
	.balign 8
	.global mb2_header
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header		/* header_length */
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	/* Page-align modules: guests are loaded out of them page by page. */
	.balign 8
	.short MB2_TAG_MODULE_ALIGN		/* type */
	.short 0				/* flags: required */
	.long 8					/* size */

	.balign 8
	.short MB2_TAG_END
	.short 0
	.long 8
mb2_header_end:
