/*
 * The boot information a Multiboot 1 (0.6.96) or Multiboot2 (1.0) loader leaves for us,
 * parsed into one protocol-neutral struct boot_info.
 *
 * The info block is untrusted input: the parser reads it only through a struct phys_window,
 * bounds-checks every size, count and pointer, and fails with a one-line reason rather than
 * guessing. The on-the-wire layouts below are written from the specifications, with their
 * offsets asserted, so that a reviewer can check them against the spec tables.
 */
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* The value a loader leaves in EAX, telling us which info block format is in EBX. */
#define MULTIBOOT1_BOOT_MAGIC 0x2BADB002u
#define MULTIBOOT2_BOOT_MAGIC 0x36D76289u

#define BOOT_MAX_REGIONS 128
#define BOOT_MAX_MODULES 16
#define BOOT_STRING_MAX	 256 /* command lines, module strings (incl. NUL) */
#define BOOT_LOADER_MAX	 64

/* Values match the memory map types of both specifications; anything else is MEM_RESERVED. */
enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIMABLE = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mem_region {
	uint64_t base;
	uint64_t len;
	uint32_t type; /* enum mem_type */
};

struct boot_module {
	uint64_t start;
	uint64_t end; /* exclusive, as GRUB and QEMU fill it in */
	char string[BOOT_STRING_MAX];
};

struct boot_info {
	unsigned int protocol; /* 1 or 2 */
	char cmdline[BOOT_STRING_MAX];
	char loader[BOOT_LOADER_MAX];
	struct mem_region regions[BOOT_MAX_REGIONS];
	unsigned int nr_regions;
	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned int nr_modules;
};

/* Gives read access to [pa, pa + len) of physical memory, or NULL when that range may not be read.
 */
struct phys_window {
	const void *(*map)(void *ctx, uint64_t pa, uint64_t len);
	void *ctx;
};

/*
 * Parses the info block the boot loader left at info_pa. Returns NULL on success, or a static
 * one-line reason. On failure *out holds whatever was parsed so far and must not be used.
 */
const char *multiboot_parse(uint32_t magic, uint64_t info_pa, const struct phys_window *mem,
			    struct boot_info *out);

/*
 * Finds "key=value" in a space-separated option string (optionally preceded by one word
 * without '=', such as a path); copies value into buf (NUL-terminated). Returns true if
 * present ("key" alone counts as present with empty value). A value that does not fit in
 * buf returns false and sets *too_long if too_long != NULL. When a key appears more than
 * once, the last occurrence wins, so an appended option overrides an earlier one.
 */
bool boot_option(const char *options, const char *key, char *buf, unsigned int size,
		 bool *too_long);

/*
 * Multiboot 0.6.96, section 3.3 "Boot information format". Only the fields up to
 * boot_loader_name are read; the rest is listed so the offsets can be checked against the
 * spec. The parser reads only the prefix that the set flags make valid.
 */
#define MB1_INFO_MEMORY	     (1u << 0) /* mem_lower, mem_upper */
#define MB1_INFO_BOOTDEV     (1u << 1)
#define MB1_INFO_CMDLINE     (1u << 2)
#define MB1_INFO_MODS	     (1u << 3) /* mods_count, mods_addr */
#define MB1_INFO_MMAP	     (1u << 6) /* mmap_length, mmap_addr */
#define MB1_INFO_LOADER_NAME (1u << 9)

struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB from 0 */
	uint32_t mem_upper; /* KiB from 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info;
	uint32_t vbe_mode_info;
	uint16_t vbe_mode;
	uint16_t vbe_interface_seg;
	uint16_t vbe_interface_off;
	uint16_t vbe_interface_len;
	uint64_t framebuffer_addr;
	uint32_t framebuffer_pitch;
	uint32_t framebuffer_width;
	uint32_t framebuffer_height;
	uint8_t framebuffer_bpp;
	uint8_t framebuffer_type;
	uint8_t color_info[6];
} __attribute__((packed));

_Static_assert(offsetof(struct mb1_info, mem_lower) == 4, "mb1 info mem_lower");
_Static_assert(offsetof(struct mb1_info, cmdline) == 16, "mb1 info cmdline");
_Static_assert(offsetof(struct mb1_info, mods_count) == 20, "mb1 info mods_count");
_Static_assert(offsetof(struct mb1_info, mods_addr) == 24, "mb1 info mods_addr");
_Static_assert(offsetof(struct mb1_info, mmap_length) == 44, "mb1 info mmap_length");
_Static_assert(offsetof(struct mb1_info, mmap_addr) == 48, "mb1 info mmap_addr");
_Static_assert(offsetof(struct mb1_info, boot_loader_name) == 64, "mb1 info boot_loader_name");
_Static_assert(offsetof(struct mb1_info, vbe_mode) == 80, "mb1 info vbe_mode");
_Static_assert(offsetof(struct mb1_info, framebuffer_addr) == 88, "mb1 info framebuffer_addr");
_Static_assert(sizeof(struct mb1_info) == 116, "mb1 info size");

/* Section 3.3, "mods_addr": one of these per module. */
struct mb1_module {
	uint32_t mod_start;
	uint32_t mod_end;
	uint32_t string; /* physical address of a NUL-terminated string */
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct mb1_module) == 16, "mb1 module size");

/*
 * Section 3.3, "mmap_addr": size does not count itself, so the next entry starts size + 4
 * bytes on. base_addr is at offset 4, so it is never 8-byte aligned.
 */
struct mb1_mmap_entry {
	uint32_t size;
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;
} __attribute__((packed));

_Static_assert(offsetof(struct mb1_mmap_entry, base_addr) == 4, "mb1 mmap base_addr");
_Static_assert(offsetof(struct mb1_mmap_entry, length) == 12, "mb1 mmap length");
_Static_assert(offsetof(struct mb1_mmap_entry, type) == 20, "mb1 mmap type");
_Static_assert(sizeof(struct mb1_mmap_entry) == 24, "mb1 mmap entry size");

/* The smallest size field that still covers base_addr, length and type. */
#define MB1_MMAP_MIN_SIZE (sizeof(struct mb1_mmap_entry) - sizeof(uint32_t))

/*
 * Multiboot2 1.0, section 3.6.2 "Basic tags structure": an 8-byte fixed part, then tags,
 * each starting 8-byte aligned, ending with a tag of type 0 and size 8. A tag's size counts
 * its header but not the padding after it. MB2_TAG_* in boot/multiboot_defs.h are the
 * (different) header tags, hence the INFO in these names.
 */
#define MB2_INFO_TAG_END	   0
#define MB2_INFO_TAG_CMDLINE	   1
#define MB2_INFO_TAG_LOADER_NAME   2
#define MB2_INFO_TAG_MODULE	   3
#define MB2_INFO_TAG_BASIC_MEMINFO 4
#define MB2_INFO_TAG_BOOTDEV	   5
#define MB2_INFO_TAG_MMAP	   6

#define MB2_INFO_ALIGN	  8
#define MB2_INFO_MIN_SIZE 16	     /* fixed part plus an end tag */
#define MB2_INFO_MAX_SIZE (1u << 20) /* far more than any loader writes */

struct mb2_info_header {
	uint32_t total_size; /* including this header and the end tag */
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct mb2_info_header) == 8, "mb2 info header size");

struct mb2_tag {
	uint32_t type;
	uint32_t size;
} __attribute__((packed));

_Static_assert(sizeof(struct mb2_tag) == 8, "mb2 tag header size");

/* Sections 3.6.5 (command line) and 3.6.9 (loader name): a NUL-terminated string follows. */

/* Section 3.6.6: the module's NUL-terminated string follows. */
struct mb2_tag_module {
	struct mb2_tag tag;
	uint32_t mod_start;
	uint32_t mod_end;
} __attribute__((packed));

_Static_assert(offsetof(struct mb2_tag_module, mod_start) == 8, "mb2 module mod_start");
_Static_assert(sizeof(struct mb2_tag_module) == 16, "mb2 module string offset");

/* Section 3.6.3. */
struct mb2_tag_basic_meminfo {
	struct mb2_tag tag;
	uint32_t mem_lower; /* KiB from 0 */
	uint32_t mem_upper; /* KiB from 1 MiB */
} __attribute__((packed));

_Static_assert(sizeof(struct mb2_tag_basic_meminfo) == 16, "mb2 basic meminfo size");

/*
 * Section 3.6.8: entries of entry_size bytes follow. entry_size is a multiple of 8 and a
 * later entry_version may make entries longer, keeping these fields at the front.
 */
struct mb2_tag_mmap {
	struct mb2_tag tag;
	uint32_t entry_size;
	uint32_t entry_version;
} __attribute__((packed));

_Static_assert(offsetof(struct mb2_tag_mmap, entry_size) == 8, "mb2 mmap entry_size");
_Static_assert(sizeof(struct mb2_tag_mmap) == 16, "mb2 mmap entries offset");

struct mb2_mmap_entry {
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(offsetof(struct mb2_mmap_entry, type) == 16, "mb2 mmap entry type");
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "mb2 mmap entry size");

#endif
