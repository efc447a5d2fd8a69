/* Multiboot header constants, shared by the headers (asm) and the linker checks. */
#ifndef BOOT_MULTIBOOT_DEFS_H
#define BOOT_MULTIBOOT_DEFS_H

/* Multiboot 0.6.96, section 3.1.1. */
#define MB1_HEADER_MAGIC     0x1BADB002
#define MB1_FLAG_PAGE_ALIGN  (1 << 0)  /* modules on 4 KiB boundaries */
#define MB1_FLAG_MEMORY_INFO (1 << 1)  /* mem_* and mmap_* fields wanted */
#define MB1_FLAG_AOUT_KLUDGE (1 << 16) /* load by header addresses, not ELF */
#define MB1_HEADER_FLAGS     (MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY_INFO | MB1_FLAG_AOUT_KLUDGE)

/* Multiboot2 1.0, section 3.1. */
#define MB2_HEADER_MAGIC     0xE85250D6
#define MB2_ARCH_I386	     0
#define MB2_TAG_END	     0
#define MB2_TAG_MODULE_ALIGN 6

#endif
