/*
 * The guest loader: nestvisor is the multiboot boot loader of each L1 guest.
 *
 * Given a guest image (a GRUB module, i.e. bytes in hypervisor memory), a block of guest RAM
 * (guest-physical [0, ram_size) is host memory at ram) and a command line, it loads the image
 * as GRUB's `multiboot2` or `multiboot` command would, builds the matching boot information
 * block in guest RAM and says in which machine state to enter the guest.
 *
 * Pure logic: no globals, no I/O, no allocation. The image is untrusted: every offset, size
 * and address in it is checked before use, and a refused image gets a static one-line reason.
 */
#ifndef KERNEL_LOADER_H
#define KERNEL_LOADER_H

#include <stdint.h>

/* Limits on what the loader accepts. */
#define LOADER_RAM_MIN	   (2ull << 20) /* 2 MiB */
#define LOADER_RAM_MAX	   (4ull << 30) /* 4 GiB: the guest starts in 32-bit mode */
#define LOADER_IMAGE_MAX   0xFFFFFFFFull
#define LOADER_CMDLINE_MAX 4096 /* bytes, including the NUL */
#define LOADER_MAX_PHDRS   64
#define LOADER_NAME	   "nestvisor" /* the boot loader name the guest sees */
#define LOADER_INFO_MIN_PA 0x1000u     /* the info block never goes below this */

/*
 * The guest-physical memory map handed to every guest: usable low memory, the legacy
 * VGA/ROM hole (reserved; the loader refuses to load anything there), usable memory from
 * 1 MiB to the end of guest RAM.
 */
#define LOADER_LOW_END	  0xA0000u
#define LOADER_HIGH_START 0x100000u

/* The multiboot machine state to enter the guest in (Multiboot 0.6.96 3.2, Multiboot2 3.3). */
struct guest_boot {
	uint32_t entry;		     /* EIP */
	uint32_t magic;		     /* EAX: MULTIBOOT1_BOOT_MAGIC or MULTIBOOT2_BOOT_MAGIC */
	uint32_t info;		     /* EBX: guest-physical address of the info block */
	unsigned int protocol;	     /* 1 or 2 */
	uint64_t image_lo, image_hi; /* guest-physical extent of what was loaded, for diagnostics */
};

/*
 * Loads image[0, image_size) into guest RAM and builds the info block. A multiboot2 header is
 * preferred over a multiboot1 one when the image has both. cmdline may be NULL (empty).
 *
 * Returns NULL with *out filled in, or a static one-line reason the image is refused. Every
 * check is made before the first write, so on failure neither guest RAM nor *out has been
 * written. image must not overlap [ram, ram + ram_size). Guest RAM outside the loaded
 * segments and the info block is left as it was.
 */
const char *loader_load(const void *image, uint64_t image_size, void *ram, uint64_t ram_size,
			const char *cmdline, struct guest_boot *out);

#endif
