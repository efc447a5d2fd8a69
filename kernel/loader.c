/*
 * Guest loader: nestvisor as the multiboot boot loader of an L1 guest.
 *
 * Three phases, so that a refused image never touches guest RAM:
 *  1. header: find a multiboot2 header (preferred) or a multiboot1 header, check it and note
 *     what it asks for;
 *  2. plan: turn the header's load addresses (the mb1 a.out kludge or the mb2 address tag) or
 *     else the ELF program headers into a list of segments, each checked against the file,
 *     guest RAM, the VGA/ROM hole and the other segments, find the entry point inside loaded
 *     code, and choose where the info block goes;
 *  3. write: copy and zero the segments, build the info block.
 *
 * The image is untrusted. Everything read from it is copied out with memcpy (it has no
 * alignment guarantee) into locals, which both the checks and the uses see; every sum of
 * values from the image is checked in 64-bit arithmetic in the form "a <= limit && b <=
 * limit - a", which cannot wrap. The layouts below are written from Multiboot 0.6.96,
 * Multiboot2 1.0 and the System V gABI (ELF), with offsets asserted.
 */
#include "kernel/loader.h"
#include "kernel/multiboot.h"
#include "kernel/kstring.h"
#include "boot/multiboot_defs.h"

#include <stdbool.h>
#include <stddef.h>

#define ARRAY_SIZE(a)	   (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	   (((x) + (a)-1) & ~((uint64_t)(a)-1))
#define LOADER_PAGE_SIZE   0x1000u
#define LOADER_LOW_END_KIB (LOADER_LOW_END / 1024)

/* Multiboot 0.6.96 section 3.1.1: within the first 8192 bytes, 32-bit aligned. */
#define MB1_SEARCH_END	 8192u
#define MB1_HEADER_ALIGN 4u
/* Section 3.1.2: bits 0-15 are requirements the loader must meet or refuse the image. */
#define MB1_FLAG_VIDEO_MODE (1u << 2)
#define MB1_FLAGS_REQUIRED  0x0000FFFFu
#define MB1_FLAGS_WE_MEET   ((uint32_t)(MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY_INFO))

/* Multiboot 0.6.96 section 3.1.1, "The layout of the Multiboot header". */
struct mb1_header {
	uint32_t magic;
	uint32_t flags;
	uint32_t checksum; /* magic + flags + checksum == 0 (mod 2^32) */
	/* Valid if flags[16] (MB1_FLAG_AOUT_KLUDGE); section 3.1.3. */
	uint32_t header_addr;
	uint32_t load_addr;
	uint32_t load_end_addr; /* 0: load to the end of the file */
	uint32_t bss_end_addr;	/* 0: no bss */
	uint32_t entry_addr;
} __attribute__((packed));

#define MB1_HEADER_FIXED_SIZE offsetof(struct mb1_header, header_addr)
_Static_assert(offsetof(struct mb1_header, checksum) == 8, "mb1 header checksum");
_Static_assert(offsetof(struct mb1_header, header_addr) == 12, "mb1 header header_addr");
_Static_assert(offsetof(struct mb1_header, bss_end_addr) == 24, "mb1 header bss_end_addr");
_Static_assert(offsetof(struct mb1_header, entry_addr) == 28, "mb1 header entry_addr");
_Static_assert(sizeof(struct mb1_header) == 32, "mb1 header size");

/* Multiboot2 1.0 section 3.1.1: within the first 32768 bytes, 64-bit aligned. */
#define MB2_SEARCH_END	 32768u
#define MB2_HEADER_ALIGN 8u
#define MB2_TAG_ALIGN	 8u

/* Section 3.1.2, "Magic fields of Multiboot2 header". */
struct mb2_header {
	uint32_t magic;
	uint32_t architecture;
	uint32_t header_length; /* including these fields and all tags */
	uint32_t checksum;	/* the four fields sum to 0 (mod 2^32) */
} __attribute__((packed));

_Static_assert(offsetof(struct mb2_header, header_length) == 8, "mb2 header header_length");
_Static_assert(sizeof(struct mb2_header) == 16, "mb2 header size");

/* Section 3.1.3, "General tag structure": tags follow 8-aligned, up to an end tag (type 0). */
struct mb2_header_tag {
	uint16_t type;
	uint16_t flags;
	uint32_t size; /* including this header, excluding the padding after the tag */
} __attribute__((packed));

_Static_assert(sizeof(struct mb2_header_tag) == 8, "mb2 header tag size");

/* flags bit 0: the loader may ignore the tag if it lacks support for it. Clear = required. */
#define MB2_HEADER_TAG_OPTIONAL 1u

/* Header tag types, sections 3.1.4 to 3.1.13. (MB2_INFO_TAG_* are the info block's tags.) */
#define MB2_HEADER_TAG_END	    0
#define MB2_HEADER_TAG_INFO_REQUEST 1
#define MB2_HEADER_TAG_ADDRESS	    2
#define MB2_HEADER_TAG_ENTRY	    3
#define MB2_HEADER_TAG_CONSOLE	    4
#define MB2_HEADER_TAG_FRAMEBUFFER  5
#define MB2_HEADER_TAG_MODULE_ALIGN 6
#define MB2_HEADER_TAG_EFI_BS	    7
#define MB2_HEADER_TAG_EFI32_ENTRY  8
#define MB2_HEADER_TAG_EFI64_ENTRY  9
#define MB2_HEADER_TAG_RELOCATABLE  10

/* Section 3.1.5: the same fields as mb1's a.out kludge. */
struct mb2_header_tag_address {
	struct mb2_header_tag tag;
	uint32_t header_addr;
	uint32_t load_addr; /* MB2_LOAD_FROM_FILE_START: load the file from its first byte */
	uint32_t load_end_addr;
	uint32_t bss_end_addr;
} __attribute__((packed));

#define MB2_LOAD_FROM_FILE_START 0xFFFFFFFFu
_Static_assert(offsetof(struct mb2_header_tag_address, header_addr) == 8, "mb2 address tag");
_Static_assert(sizeof(struct mb2_header_tag_address) == 24, "mb2 address tag size");

/* Section 3.1.6. */
struct mb2_header_tag_entry {
	struct mb2_header_tag tag;
	uint32_t entry_addr;
} __attribute__((packed));

_Static_assert(sizeof(struct mb2_header_tag_entry) == 12, "mb2 entry address tag size");

/* Section 3.1.9: bit 0 of console_flags says a console must be present and described. */
struct mb2_header_tag_console {
	struct mb2_header_tag tag;
	uint32_t console_flags;
} __attribute__((packed));

#define MB2_CONSOLE_REQUIRED 1u
_Static_assert(sizeof(struct mb2_header_tag_console) == 12, "mb2 console flags tag size");

/* System V gABI, "ELF Header" and "Program Header". */
#define EI_NIDENT   16
#define EI_CLASS    4
#define EI_DATA	    5
#define EI_VERSION  6
#define ELFCLASS32  1
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EV_CURRENT  1
#define ET_EXEC	    2
#define ET_DYN	    3
#define EM_386	    3
#define EM_X86_64   62
#define PT_LOAD	    1
#define PF_X	    1u

struct elf32_ehdr {
	uint8_t e_ident[EI_NIDENT];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint32_t e_entry;
	uint32_t e_phoff;
	uint32_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
} __attribute__((packed));

_Static_assert(offsetof(struct elf32_ehdr, e_entry) == 24, "elf32 e_entry");
_Static_assert(offsetof(struct elf32_ehdr, e_phoff) == 28, "elf32 e_phoff");
_Static_assert(offsetof(struct elf32_ehdr, e_phentsize) == 42, "elf32 e_phentsize");
_Static_assert(offsetof(struct elf32_ehdr, e_phnum) == 44, "elf32 e_phnum");
_Static_assert(sizeof(struct elf32_ehdr) == 52, "elf32 header size");

struct elf64_ehdr {
	uint8_t e_ident[EI_NIDENT];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
} __attribute__((packed));

_Static_assert(offsetof(struct elf64_ehdr, e_entry) == 24, "elf64 e_entry");
_Static_assert(offsetof(struct elf64_ehdr, e_phoff) == 32, "elf64 e_phoff");
_Static_assert(offsetof(struct elf64_ehdr, e_phentsize) == 54, "elf64 e_phentsize");
_Static_assert(offsetof(struct elf64_ehdr, e_phnum) == 56, "elf64 e_phnum");
_Static_assert(sizeof(struct elf64_ehdr) == 64, "elf64 header size");

struct elf32_phdr {
	uint32_t p_type;
	uint32_t p_offset;
	uint32_t p_vaddr;
	uint32_t p_paddr;
	uint32_t p_filesz;
	uint32_t p_memsz;
	uint32_t p_flags;
	uint32_t p_align;
} __attribute__((packed));

_Static_assert(offsetof(struct elf32_phdr, p_paddr) == 12, "elf32 p_paddr");
_Static_assert(offsetof(struct elf32_phdr, p_flags) == 24, "elf32 p_flags");
_Static_assert(sizeof(struct elf32_phdr) == 32, "elf32 phdr size");

/* p_flags moved to second place in ELF64 to keep the 64-bit fields aligned. */
struct elf64_phdr {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
} __attribute__((packed));

_Static_assert(offsetof(struct elf64_phdr, p_offset) == 8, "elf64 p_offset");
_Static_assert(offsetof(struct elf64_phdr, p_paddr) == 24, "elf64 p_paddr");
_Static_assert(offsetof(struct elf64_phdr, p_memsz) == 40, "elf64 p_memsz");
_Static_assert(sizeof(struct elf64_phdr) == 56, "elf64 phdr size");

/* What the chosen multiboot header asks for, protocol-neutral. */
struct mb_header {
	unsigned int protocol; /* 1 or 2 */
	uint64_t offset;       /* of the header in the file */
	bool has_addr;	       /* mb1 a.out kludge or mb2 address tag: load by these fields */
	uint32_t header_addr;
	uint32_t load_addr;
	uint32_t load_end_addr;
	uint32_t bss_end_addr;
	bool has_entry; /* mb1 a.out kludge or mb2 entry address tag */
	uint32_t entry_addr;
};

/*
 * One range of guest-physical memory to fill: filesz bytes from the file at offset, then
 * zeroes up to memsz. All four fit 32 bits once checked: the image is below 4 GiB, guest RAM
 * at most 4 GiB, and a segment may not span the VGA/ROM hole, so it is shorter than 4 GiB.
 */
struct segment {
	uint32_t paddr;
	uint32_t memsz;
	uint32_t offset;
	uint32_t filesz;
};

struct load_plan {
	struct segment segs[LOADER_MAX_PHDRS];
	unsigned int nr_segs;
	uint32_t entry;
};

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* -------------------------------------------------------------------------------------------
 * Phase 1: the multiboot header.
 */

/*
 * Returns the first 8-aligned offset in the first 32 KiB with the magic and a good checksum,
 * as GRUB does; a magic with a bad checksum is noted and the search goes on.
 */
static bool find_mb2(const unsigned char *image, uint64_t size, uint64_t *offset,
		     bool *bad_checksum)
{
	uint64_t end = size < MB2_SEARCH_END ? size : MB2_SEARCH_END;
	struct mb2_header hdr;
	uint64_t off;

	for (off = 0; off + sizeof(hdr) <= end; off += MB2_HEADER_ALIGN) {
		if (get_u32(image + off) != MB2_HEADER_MAGIC)
			continue;
		memcpy(&hdr, image + off, sizeof(hdr));
		if ((uint32_t)(hdr.magic + hdr.architecture + hdr.header_length + hdr.checksum) ==
		    0) {
			*offset = off;
			return true;
		}
		*bad_checksum = true;
	}
	return false;
}

static bool find_mb1(const unsigned char *image, uint64_t size, uint64_t *offset,
		     bool *bad_checksum)
{
	uint64_t end = size < MB1_SEARCH_END ? size : MB1_SEARCH_END;
	struct mb1_header hdr;
	uint64_t off;

	for (off = 0; off + MB1_HEADER_FIXED_SIZE <= end; off += MB1_HEADER_ALIGN) {
		if (get_u32(image + off) != MB1_HEADER_MAGIC)
			continue;
		memcpy(&hdr, image + off, MB1_HEADER_FIXED_SIZE);
		if ((uint32_t)(hdr.magic + hdr.flags + hdr.checksum) == 0) {
			*offset = off;
			return true;
		}
		*bad_checksum = true;
	}
	return false;
}

static const char *parse_mb1(const unsigned char *image, uint64_t size, uint64_t off,
			     struct mb_header *h)
{
	uint64_t end = size < MB1_SEARCH_END ? size : MB1_SEARCH_END;
	struct mb1_header hdr;

	memcpy(&hdr, image + off, MB1_HEADER_FIXED_SIZE);
	/* Section 3.1.2: a loader that cannot meet a set bit among 0-15 must refuse the image. */
	if (hdr.flags & MB1_FLAG_VIDEO_MODE)
		return "multiboot1 header requires video mode information (flags bit 2), which "
		       "nestvisor does not provide";
	if (hdr.flags & MB1_FLAGS_REQUIRED & ~MB1_FLAGS_WE_MEET)
		return "multiboot1 header has an unknown required flag (bits 3-15)";
	h->protocol = 1;
	h->offset = off;
	if (!(hdr.flags & MB1_FLAG_AOUT_KLUDGE))
		return NULL;
	if (sizeof(hdr) > end - off)
		return "multiboot1 header: a.out kludge fields past the file or its first 8 KiB";
	memcpy(&hdr, image + off, sizeof(hdr));
	h->has_addr = true;
	h->header_addr = hdr.header_addr;
	h->load_addr = hdr.load_addr;
	h->load_end_addr = hdr.load_end_addr;
	h->bss_end_addr = hdr.bss_end_addr;
	h->has_entry = true;
	h->entry_addr = hdr.entry_addr;
	return NULL;
}

/* Header tags we know: how big they must be and, if we cannot honour them, why. */
struct mb2_tag_kind {
	uint32_t min_size;
	const char *too_small;
	const char *unsupported; /* why a required tag of this kind is refused, or NULL */
};

#define MB2_TAG_KIND(size, name, why)                                                              \
	{                                                                                          \
		size, "multiboot2 header: " name " tag is too small", why                          \
	}

static const struct mb2_tag_kind mb2_tag_kinds[] = {
    [MB2_HEADER_TAG_INFO_REQUEST] = MB2_TAG_KIND(8, "information request", NULL),
    [MB2_HEADER_TAG_ADDRESS] = MB2_TAG_KIND(24, "address", NULL),
    [MB2_HEADER_TAG_ENTRY] = MB2_TAG_KIND(12, "entry address", NULL),
    [MB2_HEADER_TAG_CONSOLE] = MB2_TAG_KIND(12, "console flags", NULL),
    [MB2_HEADER_TAG_FRAMEBUFFER] = MB2_TAG_KIND(
	20, "framebuffer",
	"multiboot2 header has a required framebuffer tag (guests have no framebuffer)"),
    /* Nothing to align: nestvisor passes no modules. */
    [MB2_HEADER_TAG_MODULE_ALIGN] = MB2_TAG_KIND(8, "module alignment", NULL),
    /* The three EFI tags only matter when booted from EFI, which guests never are. */
    [MB2_HEADER_TAG_EFI_BS] = MB2_TAG_KIND(8, "EFI boot services", NULL),
    [MB2_HEADER_TAG_EFI32_ENTRY] = MB2_TAG_KIND(12, "EFI i386 entry address", NULL),
    [MB2_HEADER_TAG_EFI64_ENTRY] = MB2_TAG_KIND(12, "EFI amd64 entry address", NULL),
    [MB2_HEADER_TAG_RELOCATABLE] =
	MB2_TAG_KIND(24, "relocatable",
		     "multiboot2 header has a required relocatable tag (nestvisor loads images at "
		     "their link addresses only)"),
};

#define MB2_NOT_PROVIDED(name)                                                                     \
	"multiboot2 header requires " name " information, which nestvisor does not provide"

/*
 * Why a required information request for each info tag type (Multiboot2 section 3.6) is
 * refused; NULL for what we give: cmdline, loader name, modules (none), basic meminfo and
 * the memory map (and the end tag, which is always there).
 */
static const char *const mb2_info_not_provided[] = {
    [MB2_INFO_TAG_BOOTDEV] = MB2_NOT_PROVIDED("BIOS boot device"),
    [7] = MB2_NOT_PROVIDED("VBE"),
    [8] = MB2_NOT_PROVIDED("framebuffer"),
    [9] = MB2_NOT_PROVIDED("ELF symbols"),
    [10] = MB2_NOT_PROVIDED("APM table"),
    [11] = MB2_NOT_PROVIDED("EFI 32-bit system table"),
    [12] = MB2_NOT_PROVIDED("EFI 64-bit system table"),
    [13] = MB2_NOT_PROVIDED("SMBIOS"),
    [14] = MB2_NOT_PROVIDED("ACPI old RSDP"),
    [15] = MB2_NOT_PROVIDED("ACPI new RSDP"),
    [16] = MB2_NOT_PROVIDED("networking"),
    [17] = MB2_NOT_PROVIDED("EFI memory map"),
    [18] = MB2_NOT_PROVIDED("EFI boot services not terminated"),
    [19] = MB2_NOT_PROVIDED("EFI 32-bit image handle"),
    [20] = MB2_NOT_PROVIDED("EFI 64-bit image handle"),
    [21] = MB2_NOT_PROVIDED("image load base address"),
};

/* Section 3.1.4: mbi_tag_types is an array of u32 that fills the rest of the tag. */
static const char *mb2_info_request(const unsigned char *tag, uint32_t size, bool optional)
{
	uint32_t off, type;

	if ((size - sizeof(struct mb2_header_tag)) % sizeof(uint32_t))
		return "multiboot2 header: information request tag size is not 8 + 4n";
	/* An optional request is a wish: the guest copes with whatever it gets. */
	if (optional)
		return NULL;
	for (off = sizeof(struct mb2_header_tag); off < size; off += sizeof(uint32_t)) {
		type = get_u32(tag + off);
		if (type >= ARRAY_SIZE(mb2_info_not_provided))
			return MB2_NOT_PROVIDED("unknown (type above 21)");
		if (mb2_info_not_provided[type])
			return mb2_info_not_provided[type];
	}
	return NULL;
}

/* Handles one header tag whose size has been checked against header_length. */
static const char *mb2_header_tag(const unsigned char *p, const struct mb2_header_tag *tag,
				  struct mb_header *h)
{
	bool optional = tag->flags & MB2_HEADER_TAG_OPTIONAL;
	const struct mb2_tag_kind *kind;
	struct mb2_header_tag_address addr;
	struct mb2_header_tag_entry entry;
	struct mb2_header_tag_console console;

	/* Section 3.1.3: an unknown tag may be skipped only if it is optional. */
	if (tag->type >= ARRAY_SIZE(mb2_tag_kinds) || !mb2_tag_kinds[tag->type].too_small)
		return optional ? NULL : "multiboot2 header has a required tag of unknown type";
	kind = &mb2_tag_kinds[tag->type];
	if (tag->size < kind->min_size)
		return kind->too_small;
	if (!optional && kind->unsupported)
		return kind->unsupported;

	switch (tag->type) {
	case MB2_HEADER_TAG_INFO_REQUEST:
		return mb2_info_request(p, tag->size, optional);
	case MB2_HEADER_TAG_ADDRESS:
		if (h->has_addr)
			return "multiboot2 header has more than one address tag";
		memcpy(&addr, p, sizeof(addr));
		h->has_addr = true;
		h->header_addr = addr.header_addr;
		h->load_addr = addr.load_addr;
		h->load_end_addr = addr.load_end_addr;
		h->bss_end_addr = addr.bss_end_addr;
		return NULL;
	case MB2_HEADER_TAG_ENTRY:
		if (h->has_entry)
			return "multiboot2 header has more than one entry address tag";
		memcpy(&entry, p, sizeof(entry));
		h->has_entry = true;
		h->entry_addr = entry.entry_addr;
		return NULL;
	case MB2_HEADER_TAG_CONSOLE:
		memcpy(&console, p, sizeof(console));
		if (!optional && (console.console_flags & MB2_CONSOLE_REQUIRED))
			return "multiboot2 header requires a console (console flags tag); guests "
			       "have a serial port only";
		return NULL;
	}
	/* Known, and either honoured by doing nothing or optional and ignored. */
	return NULL;
}

static const char *parse_mb2(const unsigned char *image, uint64_t size, uint64_t off,
			     struct mb_header *h)
{
	struct mb2_header hdr;
	struct mb2_header_tag tag;
	uint64_t len, pos;
	const char *err;

	memcpy(&hdr, image + off, sizeof(hdr));
	/* Section 3.1.2: 0 is 32-bit protected mode i386, the only one guests can be. */
	if (hdr.architecture != MB2_ARCH_I386)
		return "multiboot2 header: architecture is not i386 (0)";
	len = hdr.header_length;
	if (len < sizeof(hdr) + sizeof(tag))
		return "multiboot2 header: header_length too small to hold an end tag";
	if (len > size - off)
		return "multiboot2 header: header_length reaches past the end of the file";
	if (len > MB2_SEARCH_END - off)
		return "multiboot2 header: header_length reaches past the first 32 KiB";
	h->protocol = 2;
	h->offset = off;

	/* len is at most 32 KiB here, so pos and the tag sizes cannot overflow. */
	for (pos = sizeof(hdr);; pos += ALIGN_UP(tag.size, MB2_TAG_ALIGN)) {
		if (pos > len || len - pos < sizeof(tag))
			return "multiboot2 header: no end tag within header_length";
		memcpy(&tag, image + off + pos, sizeof(tag));
		if (tag.size < sizeof(tag))
			return "multiboot2 header: tag smaller than 8 bytes";
		if (tag.size > len - pos)
			return "multiboot2 header: tag reaches past header_length";
		if (tag.type == MB2_HEADER_TAG_END)
			return NULL;
		err = mb2_header_tag(image + off + pos, &tag, h);
		if (err)
			return err;
	}
}

static const char *find_header(const unsigned char *image, uint64_t size, struct mb_header *h)
{
	bool bad_mb2 = false, bad_mb1 = false;
	uint64_t off;

	memset(h, 0, sizeof(*h));
	/* nestvisor's own image carries both; GRUB's multiboot2 command would pick mb2. */
	if (find_mb2(image, size, &off, &bad_mb2))
		return parse_mb2(image, size, off, h);
	if (find_mb1(image, size, &off, &bad_mb1))
		return parse_mb1(image, size, off, h);
	if (bad_mb2)
		return "multiboot2 header checksum is wrong (and there is no multiboot1 header)";
	if (bad_mb1)
		return "multiboot1 header checksum is wrong";
	return "no multiboot header (mb2 in the first 32 KiB, mb1 in the first 8 KiB)";
}

/* -------------------------------------------------------------------------------------------
 * Phase 2: the load plan.
 */

struct range_errors {
	const char *past_ram;
	const char *in_hole;
};

/*
 * [pa, pa + len) must lie in guest RAM and miss the VGA/ROM hole, which the memory map marks
 * reserved (a real loader cannot load there either).
 */
static const char *check_ram_range(uint64_t pa, uint64_t len, uint64_t ram_size,
				   const struct range_errors *errors)
{
	if (pa > ram_size || len > ram_size - pa)
		return errors->past_ram;
	if (pa < LOADER_HIGH_START && pa + len > LOADER_LOW_END)
		return errors->in_hole;
	return NULL;
}

/* Both protocols load by the same four fields (mb1 section 3.1.3, mb2 section 3.1.5). */
struct aout_errors {
	const char *load_above_header;
	const char *before_file;
	const char *load_end_below;
	const char *past_file;
	const char *bss_below;
	const char *entry_outside;
	struct range_errors range;
};

#define AOUT_ERRORS(prefix)                                                                        \
	{                                                                                          \
		.load_above_header = prefix ": load_addr is above header_addr",                    \
		.before_file = prefix ": load_addr lies before the start of the file",             \
		.load_end_below = prefix ": load_end_addr is below load_addr",                     \
		.past_file = prefix ": load_end_addr reaches past the end of the file",            \
		.bss_below = prefix ": bss_end_addr is below the end of the loaded data",          \
		.entry_outside = prefix ": entry address is outside the loaded data",              \
		.range = {                                                                         \
		    .past_ram = prefix ": load range reaches past the end of guest RAM",           \
		    .in_hole = prefix ": load range overlaps the VGA/ROM hole at 0xA0000-0xFFFFF", \
		},                                                                                 \
	}

static const struct aout_errors aout_errors[] = {
    [1] = AOUT_ERRORS("multiboot1 a.out kludge"),
    [2] = AOUT_ERRORS("multiboot2 address tag"),
};

static const char *plan_aout(const struct mb_header *h, uint64_t size, uint64_t ram_size,
			     struct load_plan *plan)
{
	const struct aout_errors *e = &aout_errors[h->protocol];
	uint64_t load_addr = h->load_addr, file_off, load_len, memsz;
	const char *err;

	if (!h->has_entry)
		return "multiboot2 header has an address tag but no entry address tag";
	if (h->protocol == 2 && h->load_addr == MB2_LOAD_FROM_FILE_START) {
		/*
		 * Mb2 section 3.1.5: -1 loads the file from its first byte, so that the
		 * header lands at header_addr.
		 */
		if (h->header_addr < h->offset)
			return "multiboot2 address tag: header_addr below the header's file offset";
		load_addr = h->header_addr - h->offset;
	}
	/* The header's file offset and header_addr tie file offsets to addresses. */
	if (load_addr > h->header_addr)
		return e->load_above_header;
	if (h->header_addr - load_addr > h->offset)
		return e->before_file;
	file_off = h->offset - (h->header_addr - load_addr);
	if (h->load_end_addr == 0) {
		/* "the text and data segments occupy the whole OS image file" */
		load_len = size - file_off;
	} else {
		if (h->load_end_addr < load_addr)
			return e->load_end_below;
		load_len = h->load_end_addr - load_addr;
		if (load_len > size - file_off)
			return e->past_file;
	}
	memsz = load_len;
	if (h->bss_end_addr != 0) {
		if (h->bss_end_addr < load_addr + load_len)
			return e->bss_below;
		memsz = h->bss_end_addr - load_addr;
	}
	err = check_ram_range(load_addr, memsz, ram_size, &e->range);
	if (err)
		return err;
	if (h->entry_addr < load_addr || h->entry_addr - load_addr >= load_len)
		return e->entry_outside;

	plan->segs[0].paddr = load_addr;
	plan->segs[0].memsz = memsz;
	plan->segs[0].offset = file_off;
	plan->segs[0].filesz = load_len;
	plan->nr_segs = 1;
	plan->entry = h->entry_addr;
	return NULL;
}

/* The fields of an ELF header or program header we use, whatever the class. */
struct elf_header {
	uint64_t entry;
	uint64_t phoff;
	uint32_t phdr_size; /* of the class's program header */
	uint16_t phentsize;
	uint16_t phnum;
};

struct elf_phdr {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
};

static const char *read_elf_header(const unsigned char *image, uint64_t size, struct elf_header *eh)
{
	struct elf32_ehdr e32;
	struct elf64_ehdr e64;
	uint16_t type;
	uint32_t version;

	if (size < EI_NIDENT || memcmp(image, "\177ELF", 4) != 0)
		return "image is not ELF and its multiboot header gives no load addresses";
	if (image[EI_DATA] != ELFDATA2LSB)
		return "ELF file is not little-endian";
	if (image[EI_VERSION] != EV_CURRENT)
		return "ELF identification version is not 1";
	if (image[EI_CLASS] == ELFCLASS32) {
		if (size < sizeof(e32))
			return "ELF32 header reaches past the end of the file";
		memcpy(&e32, image, sizeof(e32));
		if (e32.e_machine != EM_386)
			return "ELF32 file is not for i386 (e_machine)";
		type = e32.e_type;
		version = e32.e_version;
		eh->entry = e32.e_entry;
		eh->phoff = e32.e_phoff;
		eh->phdr_size = sizeof(struct elf32_phdr);
		eh->phentsize = e32.e_phentsize;
		eh->phnum = e32.e_phnum;
	} else if (image[EI_CLASS] == ELFCLASS64) {
		if (size < sizeof(e64))
			return "ELF64 header reaches past the end of the file";
		memcpy(&e64, image, sizeof(e64));
		if (e64.e_machine != EM_X86_64)
			return "ELF64 file is not for x86-64 (e_machine)";
		type = e64.e_type;
		version = e64.e_version;
		eh->entry = e64.e_entry;
		eh->phoff = e64.e_phoff;
		eh->phdr_size = sizeof(struct elf64_phdr);
		eh->phentsize = e64.e_phentsize;
		eh->phnum = e64.e_phnum;
	} else {
		return "ELF class is neither ELF32 nor ELF64";
	}
	if (version != EV_CURRENT)
		return "ELF e_version is not 1";
	/* ET_DYN is loaded at its p_paddr like ET_EXEC, as GRUB does. */
	if (type != ET_EXEC && type != ET_DYN)
		return "ELF file is not an executable (e_type)";
	return NULL;
}

static void read_elf_phdr(const unsigned char *image, const struct elf_header *eh, unsigned int i,
			  struct elf_phdr *ph)
{
	const unsigned char *p = image + eh->phoff + (uint64_t)i * eh->phentsize;
	struct elf32_phdr p32;
	struct elf64_phdr p64;

	if (eh->phdr_size == sizeof(p32)) {
		memcpy(&p32, p, sizeof(p32));
		ph->type = p32.p_type;
		ph->flags = p32.p_flags;
		ph->offset = p32.p_offset;
		ph->vaddr = p32.p_vaddr;
		ph->paddr = p32.p_paddr;
		ph->filesz = p32.p_filesz;
		ph->memsz = p32.p_memsz;
	} else {
		memcpy(&p64, p, sizeof(p64));
		ph->type = p64.p_type;
		ph->flags = p64.p_flags;
		ph->offset = p64.p_offset;
		ph->vaddr = p64.p_vaddr;
		ph->paddr = p64.p_paddr;
		ph->filesz = p64.p_filesz;
		ph->memsz = p64.p_memsz;
	}
}

/* addr lies in the part of a segment at base that comes from the file. */
static bool in_file_part(uint64_t addr, uint64_t base, uint64_t filesz)
{
	return addr >= base && addr - base < filesz;
}

static const struct range_errors elf_range_errors = {
    .past_ram = "ELF segment reaches past the end of guest RAM",
    .in_hole = "ELF segment overlaps the VGA/ROM hole at 0xA0000-0xFFFFF",
};

static const char *plan_elf(const unsigned char *image, uint64_t size, uint64_t ram_size,
			    const struct mb_header *h, struct load_plan *plan)
{
	bool entry_found = false, entry_not_exec = false;
	struct elf_header eh;
	struct elf_phdr ph;
	struct segment *s;
	const char *err;
	unsigned int i, j;

	err = read_elf_header(image, size, &eh);
	if (err)
		return err;
	if (eh.phnum == 0)
		return "ELF file has no program headers";
	if (eh.phnum > LOADER_MAX_PHDRS)
		return "ELF file has more than 64 program headers";
	if (eh.phentsize < eh.phdr_size)
		return "ELF e_phentsize is smaller than a program header";
	if (eh.phoff > size || (uint64_t)eh.phnum * eh.phentsize > size - eh.phoff)
		return "ELF program headers reach past the end of the file";

	for (i = 0; i < eh.phnum; i++) {
		read_elf_phdr(image, &eh, i, &ph);
		if (ph.type != PT_LOAD)
			continue;
		if (ph.filesz > ph.memsz)
			return "ELF segment has p_filesz larger than p_memsz";
		if (ph.filesz != 0 && (ph.offset > size || ph.filesz > size - ph.offset))
			return "ELF segment data reaches past the end of the file";
		if (ph.memsz == 0)
			continue;
		err = check_ram_range(ph.paddr, ph.memsz, ram_size, &elf_range_errors);
		if (err)
			return err;
		for (j = 0; j < plan->nr_segs; j++) {
			s = &plan->segs[j];
			if (ph.paddr < (uint64_t)s->paddr + s->memsz &&
			    s->paddr < ph.paddr + ph.memsz)
				return "ELF segments overlap in guest-physical memory";
		}

		/*
		 * The entry point must be in loaded code. An mb2 entry address tag gives it
		 * physically. e_entry is virtual: GRUB turns it into a physical address through
		 * the segment that contains it, so higher-half kernels work.
		 */
		if (h->has_entry) {
			if ((ph.flags & PF_X) && in_file_part(h->entry_addr, ph.paddr, ph.filesz)) {
				plan->entry = h->entry_addr;
				entry_found = true;
			}
		} else if (!entry_found && in_file_part(eh.entry, ph.vaddr, ph.filesz)) {
			if (ph.flags & PF_X) {
				plan->entry = ph.paddr + (eh.entry - ph.vaddr);
				entry_found = true;
			} else {
				entry_not_exec = true;
			}
		}

		s = &plan->segs[plan->nr_segs++];
		s->paddr = ph.paddr;
		s->memsz = ph.memsz;
		s->offset = ph.filesz ? ph.offset : 0;
		s->filesz = ph.filesz;
	}

	if (plan->nr_segs == 0)
		return "ELF file has no PT_LOAD segment with memory";
	if (entry_found)
		return NULL;
	if (h->has_entry)
		return "multiboot2 entry address is not in the file data of an executable segment";
	if (entry_not_exec)
		return "ELF entry point is in a segment without execute permission";
	if (eh.entry > 0xFFFFFFFFu)
		return "ELF entry point is above 4 GiB and in no segment (guests start in 32-bit "
		       "mode)";
	return "ELF entry point is not in the file data of any PT_LOAD segment";
}

/*
 * Lowest page-aligned pa >= start with [pa, pa + size) clear of every segment and inside
 * [start, limit). Each move puts pa past the end of a segment, which then never overlaps
 * again, so this ends after at most nr_segs moves.
 */
static bool find_gap(const struct load_plan *plan, uint64_t start, uint64_t limit, uint64_t size,
		     uint64_t *pa_out)
{
	uint64_t pa = start, end;
	const struct segment *s;
	unsigned int i;
	bool moved;

	do {
		moved = false;
		for (i = 0; i < plan->nr_segs; i++) {
			s = &plan->segs[i];
			end = (uint64_t)s->paddr + s->memsz;
			if (pa < end && s->paddr < pa + size) {
				pa = ALIGN_UP(end, LOADER_PAGE_SIZE);
				moved = true;
			}
		}
	} while (moved);
	if (pa > limit || size > limit - pa)
		return false;
	*pa_out = pa;
	return true;
}

/* -------------------------------------------------------------------------------------------
 * The info block, written by one function per protocol that both measures (buf == NULL)
 * and writes it, so that its size and its layout cannot disagree.
 */

struct info_writer {
	unsigned char *buf; /* guest RAM at pa, or NULL to measure only */
	uint64_t pa;
	uint64_t off;
};

static void emit_at(struct info_writer *w, uint64_t off, const void *data, uint64_t len)
{
	if (w->buf)
		memcpy(w->buf + off, data, len);
}

static void emit(struct info_writer *w, const void *data, uint64_t len)
{
	emit_at(w, w->off, data, len);
	w->off += len;
}

static void emit_align(struct info_writer *w, uint64_t align)
{
	uint64_t pad = ALIGN_UP(w->off, align) - w->off;

	if (w->buf)
		memset(w->buf + w->off, 0, pad);
	w->off += pad;
}

static uint32_t here(const struct info_writer *w)
{
	return w->pa + w->off;
}

#define NR_MEM_REGIONS 3

/* The map every guest gets (see loader.h). */
static void memory_map(uint64_t ram_size, struct mem_region map[NR_MEM_REGIONS])
{
	map[0].base = 0;
	map[0].len = LOADER_LOW_END;
	map[0].type = MEM_USABLE;
	map[1].base = LOADER_LOW_END;
	map[1].len = LOADER_HIGH_START - LOADER_LOW_END;
	map[1].type = MEM_RESERVED;
	map[2].base = LOADER_HIGH_START;
	map[2].len = ram_size - LOADER_HIGH_START;
	map[2].type = MEM_USABLE;
}

/* Multiboot 0.6.96 section 3.3: the fixed part, the memory map, then the strings. */
static void write_mb1_info(struct info_writer *w, uint64_t ram_size, const char *cmdline,
			   size_t cmdline_len)
{
	struct mem_region map[NR_MEM_REGIONS];
	struct mb1_mmap_entry e;
	struct mb1_info info;
	uint64_t info_off = w->off;
	unsigned int i;

	memset(&info, 0, sizeof(info));
	info.flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP |
		     MB1_INFO_LOADER_NAME;
	/* The whole of low memory: there is no EBDA in a guest, so not the usual 639. */
	info.mem_lower = LOADER_LOW_END_KIB;
	info.mem_upper = (ram_size - LOADER_HIGH_START) / 1024;
	/* Filled in below, once their addresses are known. */
	emit(w, &info, sizeof(info));
	emit_align(w, 8);

	/* No modules: an empty list, which any address describes. */
	info.mods_count = 0;
	info.mods_addr = here(w);

	memory_map(ram_size, map);
	info.mmap_addr = here(w);
	for (i = 0; i < NR_MEM_REGIONS; i++) {
		/* size does not count itself. */
		e.size = sizeof(e) - sizeof(e.size);
		e.base_addr = map[i].base;
		e.length = map[i].len;
		e.type = map[i].type;
		emit(w, &e, sizeof(e));
	}
	info.mmap_length = here(w) - info.mmap_addr;

	info.boot_loader_name = here(w);
	emit(w, LOADER_NAME, sizeof(LOADER_NAME));
	info.cmdline = here(w);
	emit(w, cmdline, cmdline_len);
	emit(w, "", 1);

	emit_at(w, info_off, &info, sizeof(info));
}

static void emit_mb2_tag(struct info_writer *w, uint32_t type, uint32_t size)
{
	struct mb2_tag tag = {.type = type, .size = size};

	emit_align(w, MB2_INFO_ALIGN);
	emit(w, &tag, sizeof(tag));
}

/* Multiboot2 section 3.6: a fixed part, then 8-aligned tags up to an end tag. */
static void write_mb2_info(struct info_writer *w, uint64_t ram_size, const char *cmdline,
			   size_t cmdline_len)
{
	struct mem_region map[NR_MEM_REGIONS];
	struct mb2_info_header hdr = {0};
	struct mb2_tag_basic_meminfo meminfo;
	struct mb2_tag_mmap mmap;
	struct mb2_mmap_entry e;
	uint64_t start = w->off;
	unsigned int i;

	emit(w, &hdr, sizeof(hdr)); /* total_size filled in at the end */

	emit_mb2_tag(w, MB2_INFO_TAG_CMDLINE, sizeof(struct mb2_tag) + cmdline_len + 1);
	emit(w, cmdline, cmdline_len);
	emit(w, "", 1);

	emit_mb2_tag(w, MB2_INFO_TAG_LOADER_NAME, sizeof(struct mb2_tag) + sizeof(LOADER_NAME));
	emit(w, LOADER_NAME, sizeof(LOADER_NAME));

	emit_align(w, MB2_INFO_ALIGN);
	meminfo.tag.type = MB2_INFO_TAG_BASIC_MEMINFO;
	meminfo.tag.size = sizeof(meminfo);
	meminfo.mem_lower = LOADER_LOW_END_KIB;
	meminfo.mem_upper = (ram_size - LOADER_HIGH_START) / 1024;
	emit(w, &meminfo, sizeof(meminfo));

	emit_align(w, MB2_INFO_ALIGN);
	mmap.tag.type = MB2_INFO_TAG_MMAP;
	mmap.tag.size = sizeof(mmap) + NR_MEM_REGIONS * sizeof(e);
	mmap.entry_size = sizeof(e);
	mmap.entry_version = 0;
	emit(w, &mmap, sizeof(mmap));
	memory_map(ram_size, map);
	for (i = 0; i < NR_MEM_REGIONS; i++) {
		e.base_addr = map[i].base;
		e.length = map[i].len;
		e.type = map[i].type;
		e.reserved = 0;
		emit(w, &e, sizeof(e));
	}

	emit_mb2_tag(w, MB2_INFO_TAG_END, sizeof(struct mb2_tag));
	hdr.total_size = w->off - start;
	emit_at(w, start, &hdr, sizeof(hdr));
}

static void write_info(struct info_writer *w, unsigned int protocol, uint64_t ram_size,
		       const char *cmdline, size_t cmdline_len)
{
	if (protocol == 1)
		write_mb1_info(w, ram_size, cmdline, cmdline_len);
	else
		write_mb2_info(w, ram_size, cmdline, cmdline_len);
}

/* -------------------------------------------------------------------------------------------
 * Putting it together.
 */

const char *loader_load(const void *image, uint64_t image_size, void *ram, uint64_t ram_size,
			const char *cmdline, struct guest_boot *out)
{
	const unsigned char *img = image;
	unsigned char *guest = ram;
	struct info_writer w = {0};
	struct load_plan plan;
	struct mb_header h;
	const struct segment *s;
	uint64_t lo = UINT64_MAX, hi = 0, info_pa, info_size;
	size_t cmdline_len;
	const char *err;
	unsigned int i;

	if (ram_size < LOADER_RAM_MIN || ram_size > LOADER_RAM_MAX)
		return "guest RAM size is not between 2 MiB and 4 GiB";
	if (image_size > LOADER_IMAGE_MAX)
		return "image is 4 GiB or larger";
	if (!cmdline)
		cmdline = "";
	cmdline_len = strnlen(cmdline, LOADER_CMDLINE_MAX);
	if (cmdline_len == LOADER_CMDLINE_MAX)
		return "command line is longer than 4095 bytes";

	err = find_header(img, image_size, &h);
	if (err)
		return err;
	plan.nr_segs = 0;
	plan.entry = 0;
	if (h.has_addr)
		err = plan_aout(&h, image_size, ram_size, &plan);
	else
		err = plan_elf(img, image_size, ram_size, &h, &plan);
	if (err)
		return err;
	for (i = 0; i < plan.nr_segs; i++) {
		s = &plan.segs[i];
		if (s->paddr < lo)
			lo = s->paddr;
		if ((uint64_t)s->paddr + s->memsz > hi)
			hi = (uint64_t)s->paddr + s->memsz;
	}

	/* A dry run gives the size of the info block. */
	write_info(&w, h.protocol, ram_size, cmdline, cmdline_len);
	info_size = w.off;
	/*
	 * Below the VGA/ROM hole if there is a gap there, else after the image: never between
	 * segments above 1 MiB, where a kernel that frees everything past its end might not
	 * expect it.
	 */
	if (!find_gap(&plan, LOADER_INFO_MIN_PA, LOADER_LOW_END, info_size, &info_pa)) {
		info_pa =
		    ALIGN_UP(hi > LOADER_HIGH_START ? hi : LOADER_HIGH_START, LOADER_PAGE_SIZE);
		if (info_pa > ram_size || info_size > ram_size - info_pa)
			return "no room in guest RAM for the boot information block";
	}

	/* Everything is checked: write. */
	for (i = 0; i < plan.nr_segs; i++) {
		s = &plan.segs[i];
		memcpy(guest + s->paddr, img + s->offset, s->filesz);
		memset(guest + s->paddr + s->filesz, 0, s->memsz - s->filesz);
	}
	w.buf = guest + info_pa;
	w.pa = info_pa;
	w.off = 0;
	write_info(&w, h.protocol, ram_size, cmdline, cmdline_len);

	out->entry = plan.entry;
	out->magic = h.protocol == 1 ? MULTIBOOT1_BOOT_MAGIC : MULTIBOOT2_BOOT_MAGIC;
	out->info = info_pa;
	out->protocol = h.protocol;
	out->image_lo = lo;
	out->image_hi = hi;
	return NULL;
}
