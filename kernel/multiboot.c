/*
 * Multiboot 1 and Multiboot2 info block parser.
 *
 * Everything the loader left is treated as hostile: each read is a map() of exactly the bytes
 * read, every field is copied into a local before it is checked (so a check and the use that
 * follows see the same value), and every size, count and pointer is bounded before it is
 * used. Any inconsistency fails the whole parse with a static one-line reason; nothing is
 * silently truncated or skipped, except zero-length memory regions and unknown mb2 tags.
 */
#include "kernel/multiboot.h"
#include "kernel/kstring.h"

#define STRINGIFY_(x)	       #x
#define STRINGIFY(x)	       STRINGIFY_(x)
#define ARRAY_SIZE(a)	       (sizeof(a) / sizeof((a)[0]))
#define FIELD_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* Messages for checks shared by both protocols, indexed by boot_info.protocol. */
static const char *const too_many_regions[] = {
    [1] = "multiboot1: more than " STRINGIFY(BOOT_MAX_REGIONS) " memory regions",
    [2] = "multiboot2: more than " STRINGIFY(BOOT_MAX_REGIONS) " memory regions",
};

static const char *const region_wraps[] = {
    [1] = "multiboot1: memory region wraps past the end of the address space",
    [2] = "multiboot2: memory region wraps past the end of the address space",
};

static const char *const too_many_modules[] = {
    [1] = "multiboot1: more than " STRINGIFY(BOOT_MAX_MODULES) " modules",
    [2] = "multiboot2: more than " STRINGIFY(BOOT_MAX_MODULES) " modules",
};

static const char *const module_inverted[] = {
    [1] = "multiboot1: module starts after its end",
    [2] = "multiboot2: module starts after its end",
};

static const void *map_range(const struct phys_window *mem, uint64_t pa, uint64_t len)
{
	/*
	 * Refuse ranges whose exclusive end is not representable (including an end of exactly
	 * 2^64), so no map() implementation has to get pa + len right by itself.
	 */
	if (len == 0 || pa + len < pa)
		return NULL;
	return mem->map(mem->ctx, pa, len);
}

static uint32_t mem_type_from_spec(uint32_t type)
{
	/*
	 * Multiboot 1 section 3.3 and Multiboot2 section 3.6.8 number the types alike (the E820
	 * numbering) and say every other value means reserved.
	 */
	if (type >= MEM_USABLE && type <= MEM_BAD)
		return type;
	return MEM_RESERVED;
}

static const char *add_region(struct boot_info *out, uint64_t base, uint64_t len, uint32_t type)
{
	struct mem_region *r;

	/* A zero-length entry describes no memory; firmware does report them. */
	if (len == 0)
		return NULL;
	if (base + (len - 1) < base)
		return region_wraps[out->protocol];
	if (out->nr_regions == BOOT_MAX_REGIONS)
		return too_many_regions[out->protocol];
	r = &out->regions[out->nr_regions++];
	r->base = base;
	r->len = len;
	r->type = mem_type_from_spec(type);
	return NULL;
}

/* The old BIOS-derived summary, used only when the loader gave no memory map. */
static void add_basic_meminfo(struct boot_info *out, uint32_t mem_lower, uint32_t mem_upper)
{
	/* Both sizes are in KiB below 4 TiB, so neither can wrap or overflow the table. */
	add_region(out, 0, (uint64_t)mem_lower * 1024, MEM_USABLE);
	add_region(out, 1024 * 1024, (uint64_t)mem_upper * 1024, MEM_USABLE);
}

static const char *add_module(struct boot_info *out, uint32_t start, uint32_t end)
{
	struct boot_module *m;

	if (out->nr_modules == BOOT_MAX_MODULES)
		return too_many_modules[out->protocol];
	if (start > end)
		return module_inverted[out->protocol];
	m = &out->modules[out->nr_modules++];
	m->start = start;
	m->end = end;
	return NULL;
}

/* What to say about a bad string field: mb1 strings can be unreadable, mb2 ones unterminated. */
struct string_errors {
	const char *unreadable;
	const char *unterminated;
	const char *too_long;
};

static const struct string_errors mb1_cmdline_errors = {
    .unreadable = "multiboot1: cmdline outside readable memory",
    .too_long = "multiboot1: cmdline has no NUL within " STRINGIFY(BOOT_STRING_MAX) " bytes",
};

static const struct string_errors mb1_loader_errors = {
    .unreadable = "multiboot1: boot loader name outside readable memory",
    .too_long =
	"multiboot1: boot loader name has no NUL within " STRINGIFY(BOOT_LOADER_MAX) " bytes",
};

static const struct string_errors mb1_module_errors = {
    .unreadable = "multiboot1: module string outside readable memory",
    .too_long = "multiboot1: module string has no NUL within " STRINGIFY(BOOT_STRING_MAX) " bytes",
};

static const struct string_errors mb2_cmdline_errors = {
    .unterminated = "multiboot2: cmdline has no NUL within its tag",
    .too_long = "multiboot2: cmdline does not fit in " STRINGIFY(BOOT_STRING_MAX) " bytes",
};

static const struct string_errors mb2_loader_errors = {
    .unterminated = "multiboot2: boot loader name has no NUL within its tag",
    .too_long = "multiboot2: boot loader name does not fit in " STRINGIFY(BOOT_LOADER_MAX) " bytes",
};

static const struct string_errors mb2_module_errors = {
    .unterminated = "multiboot2: module string has no NUL within its tag",
    .too_long = "multiboot2: module string does not fit in " STRINGIFY(BOOT_STRING_MAX) " bytes",
};

/* Copies a NUL-terminated string of unknown length (an mb1 pointer) into dst[size]. */
static const char *copy_phys_string(const struct phys_window *mem, uint64_t pa, char *dst,
				    unsigned int size, const struct string_errors *errors)
{
	unsigned int i;

	/*
	 * One byte per map(): nothing tells us how long the string is, and reading ahead
	 * could step out of readable memory although the string itself ends before that.
	 */
	for (i = 0; i < size; i++) {
		const char *c = map_range(mem, pa + i, 1);

		if (!c)
			return errors->unreadable;
		dst[i] = *c;
		if (dst[i] == '\0')
			return NULL;
	}
	return errors->too_long;
}

/*
 * Multiboot 0.6.96 section 3.3: a field is valid only when its flag bit is set, so read only
 * the prefix of the struct that the highest flag we use makes valid.
 */
static uint64_t mb1_info_len(uint32_t flags)
{
	if (flags & MB1_INFO_LOADER_NAME)
		return FIELD_END(struct mb1_info, boot_loader_name);
	if (flags & MB1_INFO_MMAP)
		return FIELD_END(struct mb1_info, mmap_addr);
	if (flags & MB1_INFO_MODS)
		return FIELD_END(struct mb1_info, mods_addr);
	if (flags & MB1_INFO_CMDLINE)
		return FIELD_END(struct mb1_info, cmdline);
	if (flags & MB1_INFO_MEMORY)
		return FIELD_END(struct mb1_info, mem_upper);
	return FIELD_END(struct mb1_info, flags);
}

static const char *mb1_modules(const struct mb1_info *info, const struct phys_window *mem,
			       struct boot_info *out)
{
	const unsigned char *list;
	struct mb1_module mod;
	const char *err;
	uint32_t i;

	if (info->mods_count > BOOT_MAX_MODULES)
		return too_many_modules[1];
	if (info->mods_count == 0)
		return NULL;
	list = map_range(mem, info->mods_addr, (uint64_t)info->mods_count * sizeof(mod));
	if (!list)
		return "multiboot1: module list outside readable memory";
	for (i = 0; i < info->mods_count; i++) {
		memcpy(&mod, list + i * sizeof(mod), sizeof(mod));
		err = add_module(out, mod.mod_start, mod.mod_end);
		if (err)
			return err;
		err = copy_phys_string(mem, mod.string, out->modules[i].string, BOOT_STRING_MAX,
				       &mb1_module_errors);
		if (err)
			return err;
	}
	return NULL;
}

static const char *mb1_mmap(const struct mb1_info *info, const struct phys_window *mem,
			    struct boot_info *out)
{
	const unsigned char *map;
	struct mb1_mmap_entry e;
	uint64_t off, left;
	uint32_t size;
	const char *err;

	if (info->mmap_length == 0)
		return NULL;
	map = map_range(mem, info->mmap_addr, info->mmap_length);
	if (!map)
		return "multiboot1: memory map outside readable memory";
	for (off = 0; off < info->mmap_length; off += sizeof(e.size) + size) {
		left = info->mmap_length - off;
		if (left < sizeof(e.size))
			return "multiboot1: memory map ends inside an entry's size field";
		memcpy(&size, map + off, sizeof(size));
		/* The size field does not count itself (section 3.3), hence the - 4 below. */
		if (size < MB1_MMAP_MIN_SIZE)
			return "multiboot1: memory map entry size below 20";
		if (size > left - sizeof(e.size))
			return "multiboot1: memory map entry overruns mmap_length";
		memcpy(&e, map + off, sizeof(e));
		err = add_region(out, e.base_addr, e.length, e.type);
		if (err)
			return err;
	}
	return NULL;
}

static const char *mb1_parse(uint64_t info_pa, const struct phys_window *mem, struct boot_info *out)
{
	struct mb1_info info;
	const void *p;
	uint32_t flags;
	uint64_t len;
	const char *err;

	p = map_range(mem, info_pa, sizeof(flags));
	if (!p)
		return "multiboot1: info block outside readable memory";
	memcpy(&flags, p, sizeof(flags));
	memset(&info, 0, sizeof(info));
	/* From here on only the local flags decide, so they match the length copied. */
	len = mb1_info_len(flags);
	p = map_range(mem, info_pa, len);
	if (!p)
		return "multiboot1: info block fields outside readable memory";
	memcpy(&info, p, len);

	if (flags & MB1_INFO_CMDLINE) {
		err = copy_phys_string(mem, info.cmdline, out->cmdline, sizeof(out->cmdline),
				       &mb1_cmdline_errors);
		if (err)
			return err;
	}
	if (flags & MB1_INFO_LOADER_NAME) {
		err = copy_phys_string(mem, info.boot_loader_name, out->loader, sizeof(out->loader),
				       &mb1_loader_errors);
		if (err)
			return err;
	}
	if (flags & MB1_INFO_MODS) {
		err = mb1_modules(&info, mem, out);
		if (err)
			return err;
	}
	if (flags & MB1_INFO_MMAP)
		return mb1_mmap(&info, mem, out);
	if (flags & MB1_INFO_MEMORY)
		add_basic_meminfo(out, info.mem_lower, info.mem_upper);
	return NULL;
}

enum tag_problem {
	TAG_TOO_SMALL,
	TAG_OVERRUNS,
	TAG_REPEATED,
	NR_TAG_PROBLEMS,
};

#define TAG_PROBLEMS(name)                                                                         \
	{                                                                                          \
		[TAG_TOO_SMALL] = "multiboot2: " name " tag is smaller than its fixed fields",     \
		[TAG_OVERRUNS] = "multiboot2: " name " tag overruns the info block",               \
		[TAG_REPEATED] = "multiboot2: " name " tag appears more than once",                \
	}

/* Tag names from Multiboot2 section 3.6, so a failure says which tag was bad. */
static const char *const tag_problems[][NR_TAG_PROBLEMS] = {
    [0] = TAG_PROBLEMS("end"),
    [1] = TAG_PROBLEMS("cmdline"),
    [2] = TAG_PROBLEMS("boot loader name"),
    [3] = TAG_PROBLEMS("module"),
    [4] = TAG_PROBLEMS("basic meminfo"),
    [5] = TAG_PROBLEMS("BIOS boot device"),
    [6] = TAG_PROBLEMS("memory map"),
    [7] = TAG_PROBLEMS("VBE info"),
    [8] = TAG_PROBLEMS("framebuffer info"),
    [9] = TAG_PROBLEMS("ELF symbols"),
    [10] = TAG_PROBLEMS("APM table"),
    [11] = TAG_PROBLEMS("EFI 32-bit system table"),
    [12] = TAG_PROBLEMS("EFI 64-bit system table"),
    [13] = TAG_PROBLEMS("SMBIOS tables"),
    [14] = TAG_PROBLEMS("ACPI old RSDP"),
    [15] = TAG_PROBLEMS("ACPI new RSDP"),
    [16] = TAG_PROBLEMS("networking info"),
    [17] = TAG_PROBLEMS("EFI memory map"),
    [18] = TAG_PROBLEMS("EFI boot services not terminated"),
    [19] = TAG_PROBLEMS("EFI 32-bit image handle"),
    [20] = TAG_PROBLEMS("EFI 64-bit image handle"),
    [21] = TAG_PROBLEMS("image load base address"),
};

static const char *const unknown_tag_problems[NR_TAG_PROBLEMS] = TAG_PROBLEMS("unknown");

static const char *tag_problem(uint32_t type, enum tag_problem problem)
{
	if (type < ARRAY_SIZE(tag_problems))
		return tag_problems[type][problem];
	return unknown_tag_problems[problem];
}

/*
 * Copies the string that fills the rest of a tag from offset start. It must end inside the
 * tag (section 3.6.5 and friends: "zero-terminated") and fit in dst[size].
 */
static const char *mb2_tag_string(const unsigned char *tag, uint32_t tag_size, uint32_t start,
				  char *dst, unsigned int size, const struct string_errors *errors)
{
	size_t room = tag_size - start;
	size_t len = strnlen((const char *)tag + start, room);

	if (len == room)
		return errors->unterminated;
	if (len >= size)
		return errors->too_long;
	memcpy(dst, tag + start, len + 1);
	return NULL;
}

static const char *mb2_mmap(const unsigned char *tag, uint32_t tag_size, struct boot_info *out)
{
	struct mb2_tag_mmap hdr;
	struct mb2_mmap_entry e;
	uint32_t off;
	const char *err;

	memcpy(&hdr, tag, sizeof(hdr));
	/*
	 * Section 3.6.8: entry_size is a multiple of 8 and newer entry versions only append
	 * fields, so read the fields we know from each entry_size step.
	 */
	if (hdr.entry_size < sizeof(e) || hdr.entry_size % 8)
		return "multiboot2: memory map entry_size below 24 or not a multiple of 8";
	if ((tag_size - sizeof(hdr)) % hdr.entry_size)
		return "multiboot2: memory map tag is not a whole number of entries";
	for (off = sizeof(hdr); off < tag_size; off += hdr.entry_size) {
		memcpy(&e, tag + off, sizeof(e));
		err = add_region(out, e.base_addr, e.length, e.type);
		if (err)
			return err;
	}
	return NULL;
}

/* Handles one tag whose header and size have been checked against the info block. */
static const char *mb2_tag(const unsigned char *tag, uint32_t type, uint32_t size,
			   struct boot_info *out, struct mb2_tag_basic_meminfo *meminfo)
{
	struct mb2_tag_module mod;
	const char *err;

	switch (type) {
	case MB2_INFO_TAG_CMDLINE:
		return mb2_tag_string(tag, size, sizeof(struct mb2_tag), out->cmdline,
				      sizeof(out->cmdline), &mb2_cmdline_errors);
	case MB2_INFO_TAG_LOADER_NAME:
		return mb2_tag_string(tag, size, sizeof(struct mb2_tag), out->loader,
				      sizeof(out->loader), &mb2_loader_errors);
	case MB2_INFO_TAG_MODULE:
		if (size < sizeof(mod))
			return tag_problem(type, TAG_TOO_SMALL);
		memcpy(&mod, tag, sizeof(mod));
		err = add_module(out, mod.mod_start, mod.mod_end);
		if (err)
			return err;
		return mb2_tag_string(tag, size, sizeof(mod),
				      out->modules[out->nr_modules - 1].string, BOOT_STRING_MAX,
				      &mb2_module_errors);
	case MB2_INFO_TAG_BASIC_MEMINFO:
		if (size < sizeof(*meminfo))
			return tag_problem(type, TAG_TOO_SMALL);
		memcpy(meminfo, tag, sizeof(*meminfo));
		return NULL;
	case MB2_INFO_TAG_MMAP:
		if (size < sizeof(struct mb2_tag_mmap))
			return tag_problem(type, TAG_TOO_SMALL);
		return mb2_mmap(tag, size, out);
	}
	/* Section 3.6.2: tags we do not know are to be skipped. */
	return NULL;
}

static const char *mb2_parse(uint64_t info_pa, const struct phys_window *mem, struct boot_info *out)
{
	struct mb2_tag_basic_meminfo meminfo;
	struct mb2_info_header hdr;
	const unsigned char *info;
	struct mb2_tag tag;
	uint32_t total, off, seen = 0;
	const char *err;
	const void *p;

	/* Section 3.6.2: "Its start is 8-bytes aligned", and tag alignment is relative to it. */
	if (info_pa % MB2_INFO_ALIGN)
		return "multiboot2: info block is not 8-byte aligned";
	p = map_range(mem, info_pa, sizeof(hdr));
	if (!p)
		return "multiboot2: info block outside readable memory";
	memcpy(&hdr, p, sizeof(hdr));
	total = hdr.total_size;
	if (total < MB2_INFO_MIN_SIZE)
		return "multiboot2: total_size too small for an end tag";
	if (total > MB2_INFO_MAX_SIZE)
		return "multiboot2: total_size larger than 1 MiB";
	info = map_range(mem, info_pa, total);
	if (!info)
		return "multiboot2: total_size reaches outside readable memory";

	memset(&meminfo, 0, sizeof(meminfo));
	/*
	 * off stays 8-aligned, and off and tag.size are both at most 1 MiB, so the sums below
	 * cannot overflow.
	 */
	for (off = sizeof(hdr);; off += (tag.size + MB2_INFO_ALIGN - 1) & ~(MB2_INFO_ALIGN - 1)) {
		if (off > total || total - off < sizeof(tag))
			return "multiboot2: no end tag within total_size";
		memcpy(&tag, info + off, sizeof(tag));
		if (tag.size < sizeof(tag))
			return tag_problem(tag.type, TAG_TOO_SMALL);
		if (tag.size > total - off)
			return tag_problem(tag.type, TAG_OVERRUNS);
		if (tag.type == MB2_INFO_TAG_END)
			break;
		/* A second copy of a single-valued tag would have to override the first. */
		if (tag.type == MB2_INFO_TAG_CMDLINE || tag.type == MB2_INFO_TAG_LOADER_NAME ||
		    tag.type == MB2_INFO_TAG_BASIC_MEMINFO || tag.type == MB2_INFO_TAG_MMAP) {
			if (seen & (1u << tag.type))
				return tag_problem(tag.type, TAG_REPEATED);
			seen |= 1u << tag.type;
		}
		err = mb2_tag(info + off, tag.type, tag.size, out, &meminfo);
		if (err)
			return err;
	}

	if (!(seen & (1u << MB2_INFO_TAG_MMAP)) && (seen & (1u << MB2_INFO_TAG_BASIC_MEMINFO)))
		add_basic_meminfo(out, meminfo.mem_lower, meminfo.mem_upper);
	return NULL;
}

const char *multiboot_parse(uint32_t magic, uint64_t info_pa, const struct phys_window *mem,
			    struct boot_info *out)
{
	memset(out, 0, sizeof(*out));
	switch (magic) {
	case MULTIBOOT1_BOOT_MAGIC:
		out->protocol = 1;
		return mb1_parse(info_pa, mem, out);
	case MULTIBOOT2_BOOT_MAGIC:
		out->protocol = 2;
		return mb2_parse(info_pa, mem, out);
	}
	return "multiboot: bad boot magic in EAX (not started by a Multiboot loader?)";
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

bool boot_option(const char *options, const char *key, char *buf, unsigned int size, bool *too_long)
{
	const char *p = options, *value = NULL;
	size_t key_len, value_len = 0;

	if (too_long)
		*too_long = false;
	if (!options || !key)
		return false;
	key_len = strlen(key);
	if (key_len == 0)
		return false;

	/*
	 * A leading path (QEMU's "file name=a") needs no special case: a path is a word without
	 * '=', so it only matches a bare key spelled exactly like it. The last match wins, so
	 * an option appended later overrides an earlier one.
	 */
	for (;;) {
		const char *word;
		size_t word_len, name_len;

		while (is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		word = p;
		while (*p != '\0' && !is_blank(*p))
			p++;
		word_len = p - word;
		for (name_len = 0; name_len < word_len && word[name_len] != '='; name_len++)
			;
		if (name_len == key_len && memcmp(word, key, key_len) == 0) {
			/* "key" alone is present with an empty value; "key=v" skips the '='. */
			value = word + name_len + (name_len < word_len);
			value_len = word + word_len - value;
		}
	}
	if (!value)
		return false;
	if (value_len >= size) {
		if (too_long)
			*too_long = true;
		return false;
	}
	memcpy(buf, value, value_len);
	buf[value_len] = '\0';
	return true;
}
