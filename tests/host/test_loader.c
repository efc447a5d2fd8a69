/* host-test-sources: kernel/loader.c kernel/multiboot.c */
/*
 * Host unit tests for kernel/loader.c, the guest loader.
 *
 * Images are built in memory byte by byte, with offsets taken from the Multiboot 0.6.96,
 * Multiboot2 and ELF specifications rather than from loader.c's structs, so that a layout
 * mistake cannot hide in both places. Guest RAM is a host buffer of exactly ram_size bytes
 * filled with POISON, and the loader gets a heap copy of exactly the image's size, so
 * AddressSanitizer catches any access past either. A refused image must leave RAM all POISON
 * (loader.h promises that nothing is written before every check has passed).
 *
 * Info blocks are checked twice: by reading their bytes at spec offsets, and with
 * kernel/multiboot.c's multiboot_parse(), the hypervisor's own parser of what GRUB hands it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "kernel/loader.h"
#include "kernel/multiboot.h"

#define KIB	    1024ull
#define MIB	    (1024 * KIB)
#define GIB	    (1024 * MIB)
#define POISON	    0xA5
#define IMG_MAX	    (64 * KIB)
#define RAM_DEFAULT (2 * MIB)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN8(x)     (((x) + 7) & ~(uint64_t)7)

/* System V gABI. */
#define ET_REL	     1
#define ET_EXEC	     2
#define ET_DYN	     3
#define EM_386	     3
#define EM_X86_64    62
#define PT_LOAD	     1
#define PT_NOTE	     4
#define PT_GNU_STACK 0x6474e551u
#define PF_X	     1u
#define PF_W	     2u
#define PF_R	     4u

/* Multiboot 0.6.96 section 3.1. */
#define MB1_MAGIC      0x1BADB002u
#define MB1_PAGE_ALIGN (1u << 0)
#define MB1_MEMINFO    (1u << 1)
#define MB1_VIDEO      (1u << 2)
#define MB1_AOUT       (1u << 16)

/* Multiboot 0.6.96 section 3.3. */
#define MB1I_FLAGS	      0
#define MB1I_MEM_LOWER	      4
#define MB1I_MEM_UPPER	      8
#define MB1I_CMDLINE	      16
#define MB1I_MODS_COUNT	      20
#define MB1I_MMAP_LENGTH      44
#define MB1I_MMAP_ADDR	      48
#define MB1I_BOOT_LOADER_NAME 64
#define MB1I_SIZE	      116 /* up to the framebuffer fields */

/* Multiboot2 section 3.1. */
#define MB2_MAGIC      0xE85250D6u
#define MB2_OPTIONAL   1
#define T_END	       0
#define T_INFO_REQUEST 1
#define T_ADDRESS      2
#define T_ENTRY	       3
#define T_CONSOLE      4
#define T_FRAMEBUFFER  5
#define T_MODULE_ALIGN 6
#define T_EFI_BS       7
#define T_EFI32_ENTRY  8
#define T_EFI64_ENTRY  9
#define T_RELOCATABLE  10

/* Where the standard test images put things. */
#define HDR_OFF	  0x100
#define SEG0_OFF  0x200 /* text, R+X, 0x300 bytes at 1 MiB */
#define SEG0_PA	  0x100000
#define SEG0_SIZE 0x300
#define SEG1_OFF  0x500 /* rodata, R, 0x100 bytes */
#define SEG1_PA	  0x101000
#define SEG1_SIZE 0x100
#define SEG2_OFF  0x600 /* data R+W, 0x80 bytes from the file then bss to 0x2000 */
#define SEG2_PA	  0x102000
#define SEG2_FILE 0x80
#define SEG2_MEM  0x2000
#define STD_SIZE  0x680
#define STD_ENTRY 0x100010

struct ctx {
	unsigned char *img; /* IMG_MAX bytes to build in */
	size_t size;
	unsigned char *ram;
	uint64_t ram_size;
	bool ram_mmapped;
	const char *cmdline;
	struct guest_boot gb;
};

/* ------------------------------------------------------------------------------------------
 * Little-endian byte access.
 */

static void put16(unsigned char *p, uint64_t off, uint16_t v)
{
	p[off] = v;
	p[off + 1] = v >> 8;
}

static void put32(unsigned char *p, uint64_t off, uint32_t v)
{
	put16(p, off, v);
	put16(p, off + 2, v >> 16);
}

static void put64(unsigned char *p, uint64_t off, uint64_t v)
{
	put32(p, off, v);
	put32(p, off + 4, v >> 32);
}

static uint32_t get32(const unsigned char *p, uint64_t off)
{
	return p[off] | p[off + 1] << 8 | p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
}

static uint64_t get64(const unsigned char *p, uint64_t off)
{
	return get32(p, off) | (uint64_t)get32(p, off + 4) << 32;
}

static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 131 + seed * 17 + 1);
}

/* ------------------------------------------------------------------------------------------
 * Fixture: an image workspace and guest RAM.
 */

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->img = calloc(1, IMG_MAX);
	assert_non_null(c->img);
	c->ram_size = RAM_DEFAULT;
	c->cmdline = "console=ttyS0 name=test";
	*state = c;
	return 0;
}

static void free_ram(struct ctx *c)
{
	if (c->ram_mmapped)
		munmap(c->ram, c->ram_size);
	else
		free(c->ram);
	c->ram = NULL;
	c->ram_mmapped = false;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	free_ram(c);
	free(c->img);
	free(c);
	return 0;
}

/* (Re)allocates RAM of c->ram_size bytes, all POISON. */
static void poison_ram(struct ctx *c)
{
	if (!c->ram) {
		c->ram = malloc(c->ram_size);
		assert_non_null(c->ram);
	}
	memset(c->ram, POISON, c->ram_size);
}

static void set_ram_size(struct ctx *c, uint64_t ram_size)
{
	free_ram(c);
	c->ram_size = ram_size;
}

static bool ram_all_poison(const struct ctx *c)
{
	return c->ram[0] == POISON && memcmp(c->ram, c->ram + 1, c->ram_size - 1) == 0;
}

/* Hands the loader a heap copy of exactly the image, so ASan sees reads past its end. */
static const char *load_buf(struct ctx *c, const unsigned char *buf, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);
	const char *err;

	assert_non_null(copy);
	memcpy(copy, buf, size);
	memset(&c->gb, 0x5A, sizeof(c->gb));
	err = loader_load(copy, size, c->ram, c->ram_size, c->cmdline, &c->gb);
	assert_memory_equal(copy, buf, size);
	free(copy);
	if (err) {
		assert_true(err[0] != '\0');
		assert_null(strchr(err, '\n'));
	}
	return err;
}

static const char *load(struct ctx *c)
{
	return load_buf(c, c->img, c->size);
}

static void expect_ok_buf(struct ctx *c, const unsigned char *buf, size_t size)
{
	const char *err;

	poison_ram(c);
	err = load_buf(c, buf, size);
	if (err)
		fail_msg("image refused: %s", err);
}

static void expect_ok(struct ctx *c)
{
	expect_ok_buf(c, c->img, c->size);
}

static void assert_err(const char *err, const char *want)
{
	if (!err)
		fail_msg("image accepted, expected \"%s\"", want);
	if (!strstr(err, want))
		fail_msg("got \"%s\", expected \"%s\"", err, want);
}

static void expect_refused(struct ctx *c, const char *want)
{
	struct guest_boot untouched;
	const char *err;

	poison_ram(c);
	err = load(c);
	assert_err(err, want);
	assert_true(ram_all_poison(c));
	memset(&untouched, 0x5A, sizeof(untouched));
	assert_memory_equal(&c->gb, &untouched, sizeof(untouched));
}

/* ------------------------------------------------------------------------------------------
 * ELF images.
 */

struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

struct elf {
	int bits;
	uint8_t ident_class, ident_data, ident_version;
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff;
	uint16_t phentsize, phnum;
	struct phdr ph[80];
};

static void elf_init(struct elf *e, int bits)
{
	memset(e, 0, sizeof(*e));
	e->bits = bits;
	e->ident_class = bits == 32 ? 1 : 2;
	e->ident_data = 1;
	e->ident_version = 1;
	e->type = ET_EXEC;
	e->machine = bits == 32 ? EM_386 : EM_X86_64;
	e->version = 1;
	e->phoff = bits == 32 ? 52 : 64;
	e->phentsize = bits == 32 ? 32 : 56;
}

static struct phdr *elf_add(struct elf *e, uint32_t type, uint32_t flags, uint64_t offset,
			    uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	struct phdr *p = &e->ph[e->phnum++];

	p->type = type;
	p->flags = flags;
	p->offset = offset;
	p->vaddr = paddr;
	p->paddr = paddr;
	p->filesz = filesz;
	p->memsz = memsz;
	return p;
}

static void elf_write(unsigned char *img, const struct elf *e)
{
	unsigned int i;

	memcpy(img, "\177ELF", 4);
	img[4] = e->ident_class;
	img[5] = e->ident_data;
	img[6] = e->ident_version;
	put16(img, 16, e->type);
	put16(img, 18, e->machine);
	put32(img, 20, e->version);
	if (e->bits == 32) {
		put32(img, 24, e->entry);
		put32(img, 28, e->phoff);
		put16(img, 40, 52);
		put16(img, 42, e->phentsize);
		put16(img, 44, e->phnum);
	} else {
		put64(img, 24, e->entry);
		put64(img, 32, e->phoff);
		put16(img, 52, 64);
		put16(img, 54, e->phentsize);
		put16(img, 56, e->phnum);
	}
	for (i = 0; i < e->phnum && i < ARRAY_SIZE(e->ph); i++) {
		const struct phdr *p = &e->ph[i];
		uint64_t off = e->phoff + (uint64_t)i * e->phentsize;

		if (off + 56 > IMG_MAX)
			break;
		if (e->bits == 32) {
			put32(img, off + 0, p->type);
			put32(img, off + 4, p->offset);
			put32(img, off + 8, p->vaddr);
			put32(img, off + 12, p->paddr);
			put32(img, off + 16, p->filesz);
			put32(img, off + 20, p->memsz);
			put32(img, off + 24, p->flags);
			put32(img, off + 28, 0x1000);
		} else {
			put32(img, off + 0, p->type);
			put32(img, off + 4, p->flags);
			put64(img, off + 8, p->offset);
			put64(img, off + 16, p->vaddr);
			put64(img, off + 24, p->paddr);
			put64(img, off + 32, p->filesz);
			put64(img, off + 40, p->memsz);
			put64(img, off + 48, 0x1000);
		}
	}
}

/* ------------------------------------------------------------------------------------------
 * Multiboot headers.
 */

static void put_mb1(unsigned char *img, size_t off, uint32_t flags)
{
	put32(img, off, MB1_MAGIC);
	put32(img, off + 4, flags);
	put32(img, off + 8, -(MB1_MAGIC + flags));
}

static void put_mb1_aout(unsigned char *img, size_t off, uint32_t flags, uint32_t header_addr,
			 uint32_t load_addr, uint32_t load_end_addr, uint32_t bss_end_addr,
			 uint32_t entry_addr)
{
	put_mb1(img, off, flags | MB1_AOUT);
	put32(img, off + 12, header_addr);
	put32(img, off + 16, load_addr);
	put32(img, off + 20, load_end_addr);
	put32(img, off + 24, bss_end_addr);
	put32(img, off + 28, entry_addr);
}

struct mb2 {
	unsigned char *img;
	size_t start, pos;
};

static void mb2_begin(struct mb2 *b, unsigned char *img, size_t off)
{
	b->img = img;
	b->start = off;
	b->pos = off + 16;
}

/* A tag of 8 + 4 * n bytes, then padding to 8. */
static void mb2_tag(struct mb2 *b, uint16_t type, uint16_t flags, const uint32_t *words,
		    unsigned int n)
{
	unsigned int i;

	put16(b->img, b->pos, type);
	put16(b->img, b->pos + 2, flags);
	put32(b->img, b->pos + 4, 8 + 4 * n);
	for (i = 0; i < n; i++)
		put32(b->img, b->pos + 8 + 4 * i, words[i]);
	b->pos += ALIGN8(8 + 4 * n);
}

/* A tag header claiming size bytes, with no payload written. */
static void mb2_raw_tag(struct mb2 *b, uint16_t type, uint16_t flags, uint32_t size)
{
	put16(b->img, b->pos, type);
	put16(b->img, b->pos + 2, flags);
	put32(b->img, b->pos + 4, size);
	b->pos += ALIGN8(size < 8 ? 8 : size);
}

static void mb2_seal(unsigned char *img, size_t off, uint32_t arch, uint32_t len)
{
	put32(img, off, MB2_MAGIC);
	put32(img, off + 4, arch);
	put32(img, off + 8, len);
	put32(img, off + 12, -(MB2_MAGIC + arch + len));
}

static size_t mb2_end(struct mb2 *b)
{
	mb2_raw_tag(b, T_END, 0, 8);
	mb2_seal(b->img, b->start, 0, b->pos - b->start);
	return b->pos - b->start;
}

static void mb2_entry(struct mb2 *b, uint32_t entry)
{
	mb2_tag(b, T_ENTRY, 0, &entry, 1);
}

static void mb2_address(struct mb2 *b, uint32_t header_addr, uint32_t load_addr,
			uint32_t load_end_addr, uint32_t bss_end_addr)
{
	uint32_t w[] = {header_addr, load_addr, load_end_addr, bss_end_addr};

	mb2_tag(b, T_ADDRESS, 0, w, 4);
}

/* ------------------------------------------------------------------------------------------
 * The standard ELF image: three PT_LOAD segments (text, rodata, data + bss) above 1 MiB.
 */

static void std_elf(struct elf *e, int bits)
{
	elf_init(e, bits);
	e->entry = STD_ENTRY;
	elf_add(e, PT_LOAD, PF_R | PF_X, SEG0_OFF, SEG0_PA, SEG0_SIZE, SEG0_SIZE);
	elf_add(e, PT_LOAD, PF_R, SEG1_OFF, SEG1_PA, SEG1_SIZE, SEG1_SIZE);
	elf_add(e, PT_LOAD, PF_R | PF_W, SEG2_OFF, SEG2_PA, SEG2_FILE, SEG2_MEM);
}

static void std_data(struct ctx *c)
{
	fill(c->img + SEG0_OFF, SEG0_SIZE, 1);
	fill(c->img + SEG1_OFF, SEG1_SIZE, 2);
	fill(c->img + SEG2_OFF, SEG2_FILE, 3);
	c->size = STD_SIZE;
}

/*
 * Writes e, the segment data and a plain header of the protocol asked for. Program headers
 * must end before the multiboot header, or start after the segment data, where the file is
 * then extended to hold them.
 */
static void std_finish(struct ctx *c, const struct elf *e, int protocol)
{
	uint64_t phdrs_end = e->phoff + (uint64_t)e->phnum * e->phentsize;
	struct mb2 b;

	elf_write(c->img, e);
	std_data(c);
	if (e->phoff >= STD_SIZE && phdrs_end <= IMG_MAX)
		c->size = phdrs_end;
	else if (e->phoff < HDR_OFF)
		assert_true(phdrs_end <= HDR_OFF);
	if (protocol == 1) {
		put_mb1(c->img, HDR_OFF, MB1_PAGE_ALIGN | MB1_MEMINFO);
	} else {
		mb2_begin(&b, c->img, HDR_OFF);
		mb2_end(&b);
	}
}

static void std_image(struct ctx *c, int bits, int protocol)
{
	struct elf e;

	std_elf(&e, bits);
	std_finish(c, &e, protocol);
}

/* An std image whose mb2 header is what the caller built in b (after mb2_begin at HDR_OFF). */
static void std_mb2_image(struct ctx *c, int bits, struct mb2 *b)
{
	struct elf e;

	std_elf(&e, bits);
	elf_write(c->img, &e);
	std_data(c);
	mb2_end(b);
}

/* ------------------------------------------------------------------------------------------
 * Checks of a successful load.
 */

struct range {
	uint64_t lo, hi;
};

/* Every byte of RAM outside the given ranges must still be POISON. */
static void check_untouched_outside(const struct ctx *c, const struct range *r, unsigned int n)
{
	uint64_t pa = 0, next;
	unsigned int i;

	while (pa < c->ram_size) {
		next = c->ram_size;
		for (i = 0; i < n; i++) {
			if (pa >= r[i].lo && pa < r[i].hi)
				break;
			if (r[i].lo > pa && r[i].lo < next)
				next = r[i].lo;
		}
		if (i < n) {
			pa = r[i].hi;
			continue;
		}
		/* [pa, next) is outside every range. */
		if (c->ram[pa] != POISON || memcmp(c->ram + pa, c->ram + pa + 1, next - pa - 1))
			fail_msg("RAM written outside the image and info block near 0x%llx",
				 (unsigned long long)pa);
		pa = next;
	}
}

static void check_zero(const struct ctx *c, uint64_t pa, uint64_t len)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		if (c->ram[pa + i] != 0)
			fail_msg("byte at 0x%llx is not zero", (unsigned long long)(pa + i));
}

static void check_string_at(const struct ctx *c, uint64_t pa, const char *want)
{
	size_t len = strlen(want);

	assert_true(pa < c->ram_size && len + 1 <= c->ram_size - pa);
	assert_memory_equal(c->ram + pa, want, len + 1);
}

/* The map loader.h promises, as three (base, length, type) triples. */
static void expected_map(const struct ctx *c, uint64_t map[3][3])
{
	map[0][0] = 0;
	map[0][1] = 0xA0000;
	map[0][2] = MEM_USABLE;
	map[1][0] = 0xA0000;
	map[1][1] = 0x60000;
	map[1][2] = MEM_RESERVED;
	map[2][0] = MIB;
	map[2][1] = c->ram_size - MIB;
	map[2][2] = MEM_USABLE;
}

/* Multiboot 0.6.96 section 3.3, read at spec offsets. Returns the end of the block. */
static uint64_t check_mb1_info(const struct ctx *c, const char *cmdline)
{
	const unsigned char *p = c->ram + c->gb.info;
	uint64_t map[3][3], end, mmap, name, cmd;
	unsigned int i;

	assert_int_equal(c->gb.magic, MULTIBOOT1_BOOT_MAGIC);
	assert_true(c->gb.info % 4 == 0);
	assert_true(c->gb.info + MB1I_SIZE <= c->ram_size);
	/* MEM, CMDLINE, MODS, MMAP, BOOT_LOADER_NAME. */
	assert_int_equal(get32(p, MB1I_FLAGS),
			 (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
	assert_int_equal(get32(p, MB1I_MEM_LOWER), 640);
	assert_int_equal(get32(p, MB1I_MEM_UPPER), (c->ram_size - MIB) / KIB);
	assert_int_equal(get32(p, MB1I_MODS_COUNT), 0);

	expected_map(c, map);
	assert_int_equal(get32(p, MB1I_MMAP_LENGTH), 3 * 24);
	mmap = get32(p, MB1I_MMAP_ADDR);
	assert_true(mmap + 72 <= c->ram_size);
	for (i = 0; i < 3; i++) {
		const unsigned char *e = c->ram + mmap + 24 * i;

		assert_int_equal(get32(e, 0), 20);
		assert_int_equal(get64(e, 4), map[i][0]);
		assert_int_equal(get64(e, 12), map[i][1]);
		assert_int_equal(get32(e, 20), map[i][2]);
	}
	name = get32(p, MB1I_BOOT_LOADER_NAME);
	check_string_at(c, name, "nestvisor");
	cmd = get32(p, MB1I_CMDLINE);
	check_string_at(c, cmd, cmdline);

	end = c->gb.info + MB1I_SIZE;
	if (mmap + 72 > end)
		end = mmap + 72;
	if (name + 10 > end)
		end = name + 10;
	if (cmd + strlen(cmdline) + 1 > end)
		end = cmd + strlen(cmdline) + 1;
	/* The block is small and contiguous. */
	assert_true(end - c->gb.info <= 4096 + LOADER_CMDLINE_MAX);
	assert_true(mmap >= c->gb.info && name >= c->gb.info && cmd >= c->gb.info);
	return end;
}

/* Multiboot2 section 3.6, read at spec offsets. Returns the end of the block. */
static uint64_t check_mb2_info(const struct ctx *c, const char *cmdline)
{
	const unsigned char *p = c->ram + c->gb.info;
	uint32_t total, off, type, size, seen = 0;
	uint64_t map[3][3];
	unsigned int i;

	assert_int_equal(c->gb.magic, MULTIBOOT2_BOOT_MAGIC);
	assert_true(c->gb.info % 8 == 0);
	total = get32(p, 0);
	assert_int_equal(get32(p, 4), 0);
	assert_true(total >= 16 && c->gb.info + total <= c->ram_size);
	expected_map(c, map);
	for (off = 8;; off = ALIGN8(off + size)) {
		assert_true(off + 8 <= total);
		type = get32(p, off);
		size = get32(p, off + 4);
		assert_true(size >= 8 && off + size <= total);
		assert_false(seen & (1u << type));
		seen |= 1u << type;
		switch (type) {
		case 1:
			assert_int_equal(size, 8 + strlen(cmdline) + 1);
			assert_memory_equal(p + off + 8, cmdline, strlen(cmdline) + 1);
			break;
		case 2:
			assert_int_equal(size, 8 + 10);
			assert_memory_equal(p + off + 8, "nestvisor", 10);
			break;
		case 4:
			assert_int_equal(size, 16);
			assert_int_equal(get32(p, off + 8), 640);
			assert_int_equal(get32(p, off + 12), (c->ram_size - MIB) / KIB);
			break;
		case 6:
			assert_int_equal(size, 16 + 3 * 24);
			assert_int_equal(get32(p, off + 8), 24);
			assert_int_equal(get32(p, off + 12), 0);
			for (i = 0; i < 3; i++) {
				const unsigned char *e = p + off + 16 + 24 * i;

				assert_int_equal(get64(e, 0), map[i][0]);
				assert_int_equal(get64(e, 8), map[i][1]);
				assert_int_equal(get32(e, 16), map[i][2]);
				assert_int_equal(get32(e, 20), 0);
			}
			break;
		case 0:
			assert_int_equal(size, 8);
			break;
		default:
			fail_msg("unexpected info tag %u", type);
		}
		if (type == 0)
			break;
	}
	assert_int_equal(off + 8, total);
	assert_int_equal(seen, (1u << 0) | (1u << 1) | (1u << 2) | (1u << 4) | (1u << 6));
	return c->gb.info + total;
}

static const void *ram_map(void *ctx, uint64_t pa, uint64_t len)
{
	const struct ctx *c = ctx;

	if (pa > c->ram_size || len > c->ram_size - pa)
		return NULL;
	return c->ram + pa;
}

/* What the hypervisor's own parser makes of the block. */
static void check_parsed(struct ctx *c, const char *cmdline)
{
	struct phys_window win = {.map = ram_map, .ctx = c};
	struct boot_info *bi = malloc(sizeof(*bi));
	uint64_t map[3][3];
	const char *err;
	unsigned int i;

	assert_non_null(bi);
	err = multiboot_parse(c->gb.magic, c->gb.info, &win, bi);
	if (err)
		fail_msg("multiboot_parse: %s", err);
	assert_int_equal(bi->protocol, c->gb.protocol);
	if (strlen(cmdline) < BOOT_STRING_MAX)
		assert_string_equal(bi->cmdline, cmdline);
	assert_string_equal(bi->loader, "nestvisor");
	assert_int_equal(bi->nr_modules, 0);
	assert_int_equal(bi->nr_regions, 3);
	expected_map(c, map);
	for (i = 0; i < 3; i++) {
		assert_int_equal(bi->regions[i].base, map[i][0]);
		assert_int_equal(bi->regions[i].len, map[i][1]);
		assert_int_equal(bi->regions[i].type, map[i][2]);
	}
	free(bi);
}

/* Checks the info block both ways and returns its end. */
static uint64_t check_info(struct ctx *c)
{
	const char *cmdline = c->cmdline ? c->cmdline : "";
	uint64_t end;

	assert_true(c->gb.protocol == 1 || c->gb.protocol == 2);
	assert_true(c->gb.info >= 0x1000 && c->gb.info % 4096 == 0);
	if (c->gb.protocol == 1)
		end = check_mb1_info(c, cmdline);
	else
		end = check_mb2_info(c, cmdline);
	if (strlen(cmdline) < BOOT_STRING_MAX)
		check_parsed(c, cmdline);
	/* Never in the VGA/ROM hole; the callers check it misses the loaded bytes. */
	assert_true(end <= 0xA0000 || c->gb.info >= MIB);
	return end;
}

static void check_std_loaded(struct ctx *c, uint32_t entry)
{
	uint64_t end;

	assert_int_equal(c->gb.entry, entry);
	assert_int_equal(c->gb.image_lo, SEG0_PA);
	assert_int_equal(c->gb.image_hi, SEG2_PA + SEG2_MEM);
	assert_memory_equal(c->ram + SEG0_PA, c->img + SEG0_OFF, SEG0_SIZE);
	assert_memory_equal(c->ram + SEG1_PA, c->img + SEG1_OFF, SEG1_SIZE);
	assert_memory_equal(c->ram + SEG2_PA, c->img + SEG2_OFF, SEG2_FILE);
	check_zero(c, SEG2_PA + SEG2_FILE, SEG2_MEM - SEG2_FILE);
	/* The first gap at or above 4 KiB. */
	assert_int_equal(c->gb.info, 0x1000);
	end = check_info(c);
	{
		struct range r[] = {
		    {SEG0_PA, SEG0_PA + SEG0_SIZE},
		    {SEG1_PA, SEG1_PA + SEG1_SIZE},
		    {SEG2_PA, SEG2_PA + SEG2_MEM},
		    {c->gb.info, end},
		};

		check_untouched_outside(c, r, ARRAY_SIZE(r));
	}
}

/* ------------------------------------------------------------------------------------------
 * ELF loads.
 */

static void elf_case(void **state, int bits, int protocol)
{
	struct ctx *c = *state;

	std_image(c, bits, protocol);
	expect_ok(c);
	assert_int_equal(c->gb.protocol, protocol);
	check_std_loaded(c, STD_ENTRY);
}

static void test_elf32_mb1(void **state)
{
	elf_case(state, 32, 1);
}

static void test_elf64_mb1(void **state)
{
	elf_case(state, 64, 1);
}

static void test_elf32_mb2(void **state)
{
	elf_case(state, 32, 2);
}

static void test_elf64_mb2(void **state)
{
	elf_case(state, 64, 2);
}

/* Every tag nestvisor understands, required where it can honour it, optional otherwise. */
static void test_mb2_tags_accepted(void **state)
{
	static const uint32_t wanted[] = {1, 2, 3, 4, 6, 0};
	static const uint32_t wished[] = {5, 8, 14, 15, 21, 99};
	static const uint32_t fb[] = {1024, 768, 32};
	static const uint32_t reloc[] = {0x100000, 0x1000000, 0x1000, 0};
	uint32_t no_console = 2, console = 1, efi = 0x100000;
	struct ctx *c = *state;
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_tag(&b, T_INFO_REQUEST, 0, wanted, ARRAY_SIZE(wanted));
	mb2_tag(&b, T_INFO_REQUEST, MB2_OPTIONAL, wished, ARRAY_SIZE(wished));
	mb2_tag(&b, T_MODULE_ALIGN, 0, NULL, 0);
	mb2_tag(&b, T_CONSOLE, 0, &no_console, 1);
	mb2_tag(&b, T_CONSOLE, MB2_OPTIONAL, &console, 1);
	mb2_tag(&b, T_FRAMEBUFFER, MB2_OPTIONAL, fb, 3);
	mb2_tag(&b, T_EFI_BS, 0, NULL, 0);
	mb2_tag(&b, T_EFI32_ENTRY, 0, &efi, 1);
	mb2_tag(&b, T_EFI64_ENTRY, 0, &efi, 1);
	mb2_tag(&b, T_RELOCATABLE, MB2_OPTIONAL, reloc, 4);
	mb2_tag(&b, 42, MB2_OPTIONAL, NULL, 0);
	assert_true(b.pos + 8 <= SEG0_OFF);
	std_mb2_image(c, 64, &b);
	expect_ok(c);
	assert_int_equal(c->gb.protocol, 2);
	check_std_loaded(c, STD_ENTRY);
}

/* An unknown optional mb1 flag (bits 16-31 other than 16) is ignored. */
static void test_mb1_optional_flag(void **state)
{
	struct ctx *c = *state;
	struct elf e;

	std_elf(&e, 32);
	std_finish(c, &e, 1);
	put_mb1(c->img, HDR_OFF, MB1_PAGE_ALIGN | MB1_MEMINFO | (1u << 20));
	expect_ok(c);
	check_std_loaded(c, STD_ENTRY);
}

/* e_entry is virtual; GRUB turns it into a physical address through its segment. */
static void test_higher_half_entry(void **state)
{
	struct ctx *c = *state;
	struct elf e;
	unsigned int i;

	std_elf(&e, 64);
	for (i = 0; i < e.phnum; i++)
		e.ph[i].vaddr = e.ph[i].paddr + 0xFFFFFFFF80000000ull;
	e.entry = STD_ENTRY + 0xFFFFFFFF80000000ull;
	std_finish(c, &e, 2);
	expect_ok(c);
	check_std_loaded(c, STD_ENTRY);
}

static void test_mb2_entry_tag_overrides(void **state)
{
	struct ctx *c = *state;
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_entry(&b, SEG0_PA + 0x2F0);
	std_mb2_image(c, 32, &b);
	expect_ok(c);
	check_std_loaded(c, SEG0_PA + 0x2F0);
}

/*
 * What GRUB accepts besides: ET_DYN, program headers other than PT_LOAD, empty PT_LOADs,
 * an e_phentsize larger than the struct, exactly 64 program headers.
 */
static void test_elf_variants(void **state)
{
	struct ctx *c = *state;
	struct elf e;

	std_elf(&e, 32);
	e.type = ET_DYN;
	std_finish(c, &e, 1);
	expect_ok(c);
	check_std_loaded(c, STD_ENTRY);

	memset(c->img, 0, IMG_MAX);
	std_elf(&e, 64);
	elf_add(&e, PT_NOTE, PF_R, 0xFFFFFFFFFFFF0000ull, 0xFFFFFFFFFFFF0000ull, 0x10000, 0x10000);
	elf_add(&e, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
	/* No memory: offset and address do not matter. */
	elf_add(&e, PT_LOAD, PF_R, 0xFFFFFFFFFFFF0000ull, 0xFFFFFFFFFFFF0000ull, 0, 0);
	e.phoff = 0x700;
	std_finish(c, &e, 2);
	expect_ok(c);
	check_std_loaded(c, STD_ENTRY);

	memset(c->img, 0, IMG_MAX);
	std_elf(&e, 32);
	e.phentsize = 40;
	std_finish(c, &e, 2);
	expect_ok(c);
	check_std_loaded(c, STD_ENTRY);

	/* Exactly 64 program headers is fine. */
	memset(c->img, 0, IMG_MAX);
	std_elf(&e, 32);
	while (e.phnum < LOADER_MAX_PHDRS)
		elf_add(&e, PT_NOTE, 0, 0, 0, 0, 0);
	e.phoff = 0x1000;
	std_finish(c, &e, 1);
	expect_ok(c);
	check_std_loaded(c, STD_ENTRY);
}

static void test_both_headers_prefers_mb2(void **state)
{
	struct ctx *c = *state;

	std_image(c, 64, 2);
	put_mb1(c->img, 0xF0, MB1_PAGE_ALIGN);
	expect_ok(c);
	assert_int_equal(c->gb.protocol, 2);
	check_std_loaded(c, STD_ENTRY);

	/* With its checksum wrong, the mb2 header does not count: GRUB would not see it. */
	put32(c->img, HDR_OFF + 12, get32(c->img, HDR_OFF + 12) + 1);
	expect_ok(c);
	assert_int_equal(c->gb.protocol, 1);
	check_std_loaded(c, STD_ENTRY);
}

/* The search limits: mb1 wholly in the first 8 KiB, 4-aligned; mb2 wholly in 32 KiB, 8-aligned. */
static void test_header_search_limits(void **state)
{
	struct ctx *c = *state;
	struct mb2 b;
	struct elf e;

	std_elf(&e, 32);
	elf_write(c->img, &e);
	std_data(c);
	c->size = 40 * KIB;
	put_mb1(c->img, 8192 - 12, 0);
	expect_ok(c);
	assert_int_equal(c->gb.protocol, 1);
	put_mb1(c->img, 8192 - 12, 0);
	memmove(c->img + 8192 - 8, c->img + 8192 - 12, 12);
	memset(c->img + 8192 - 12, 0, 4);
	expect_refused(c, "no multiboot header");
	memset(c->img + 8192 - 8, 0, 12);
	put_mb1(c->img, 0x102, 0);
	expect_refused(c, "no multiboot header");
	memset(c->img + 0x102, 0, 12);

	mb2_begin(&b, c->img, 32 * KIB - 24);
	mb2_end(&b);
	expect_ok(c);
	assert_int_equal(c->gb.protocol, 2);
	memset(c->img + 32 * KIB - 24, 0, 24);
	mb2_begin(&b, c->img, 32 * KIB - 16);
	mb2_end(&b);
	expect_refused(c, "past the first 32 KiB");
	memset(c->img + 32 * KIB - 16, 0, 24);
	mb2_begin(&b, c->img, 0x104);
	mb2_end(&b);
	expect_refused(c, "no multiboot header");
}

/* ------------------------------------------------------------------------------------------
 * a.out kludge (mb1) and address tag (mb2) loads.
 */

/* A flat binary loaded whole at 2 MiB - 64 KiB, header 0x40 into it. */
#define FLAT_PA	  0x1F0000
#define FLAT_SIZE 0x900

static void test_aout_mb1_whole_file(void **state)
{
	struct ctx *c = *state;

	fill(c->img, FLAT_SIZE, 9);
	put_mb1_aout(c->img, 0x40, MB1_MEMINFO, FLAT_PA + 0x40, FLAT_PA, 0, 0, FLAT_PA + 0x80);
	c->size = FLAT_SIZE;
	expect_ok(c);
	assert_int_equal(c->gb.protocol, 1);
	assert_int_equal(c->gb.entry, FLAT_PA + 0x80);
	assert_int_equal(c->gb.image_lo, FLAT_PA);
	assert_int_equal(c->gb.image_hi, FLAT_PA + FLAT_SIZE);
	assert_memory_equal(c->ram + FLAT_PA, c->img, FLAT_SIZE);
	assert_int_equal(c->gb.info, 0x1000);
	check_info(c);
}

/* Loading starts 0x80 into the file, stops before its end, and is followed by bss. */
static void test_aout_mb1_bss(void **state)
{
	struct ctx *c = *state;
	uint64_t end;

	fill(c->img, 0x800, 10);
	put_mb1_aout(c->img, 0x100, 0, 0x100080, 0x100000, 0x100400, 0x103000, 0x100100);
	c->size = 0x800;
	expect_ok(c);
	assert_int_equal(c->gb.entry, 0x100100);
	assert_int_equal(c->gb.image_lo, 0x100000);
	assert_int_equal(c->gb.image_hi, 0x103000);
	assert_memory_equal(c->ram + 0x100000, c->img + 0x80, 0x400);
	check_zero(c, 0x100400, 0x2C00);
	end = check_info(c);
	{
		struct range r[] = {{0x100000, 0x103000}, {c->gb.info, end}};

		check_untouched_outside(c, r, ARRAY_SIZE(r));
	}
}

/* The a.out fields win over ELF program headers, as in GRUB and QEMU. */
static void test_aout_mb1_on_elf(void **state)
{
	struct ctx *c = *state;

	std_image(c, 64, 1);
	put_mb1_aout(c->img, HDR_OFF, 0, 0x180100, 0x180000, 0x180680, 0, 0x180200);
	expect_ok(c);
	assert_int_equal(c->gb.entry, 0x180200);
	assert_int_equal(c->gb.image_lo, 0x180000);
	assert_int_equal(c->gb.image_hi, 0x180680);
	assert_memory_equal(c->ram + 0x180000, c->img, STD_SIZE);
}

static void test_mb2_address_tag(void **state)
{
	struct ctx *c = *state;
	struct mb2 b;

	fill(c->img, 0x1000, 11);
	mb2_begin(&b, c->img, 0x200);
	mb2_address(&b, 0x180200, 0x180100, 0x180800, 0x184000);
	mb2_entry(&b, 0x180400);
	mb2_end(&b);
	c->size = 0x1000;
	expect_ok(c);
	assert_int_equal(c->gb.protocol, 2);
	assert_int_equal(c->gb.entry, 0x180400);
	assert_int_equal(c->gb.image_lo, 0x180100);
	assert_int_equal(c->gb.image_hi, 0x184000);
	assert_memory_equal(c->ram + 0x180100, c->img + 0x100, 0x700);
	check_zero(c, 0x180800, 0x3800);
	check_info(c);

	/* load_addr -1: from the first byte of the file, so the header lands at header_addr. */
	memset(c->img, 0, IMG_MAX);
	fill(c->img, 0x1000, 12);
	mb2_begin(&b, c->img, 0x200);
	mb2_address(&b, 0x180200, 0xFFFFFFFF, 0, 0);
	mb2_entry(&b, 0x180010);
	mb2_end(&b);
	expect_ok(c);
	assert_int_equal(c->gb.image_lo, 0x180000);
	assert_int_equal(c->gb.image_hi, 0x181000);
	assert_memory_equal(c->ram + 0x180000, c->img, 0x1000);
	assert_int_equal(c->gb.entry, 0x180010);
}

/* ------------------------------------------------------------------------------------------
 * Where the info block goes.
 */

static void test_info_placement(void **state)
{
	struct ctx *c = *state;
	struct elf e;

	/* Below 4 KiB is allowed; the block starts at 4 KiB anyway. */
	std_elf(&e, 32);
	elf_add(&e, PT_LOAD, PF_R | PF_W, 0x600, 0, 0x10, 0x800);
	std_finish(c, &e, 1);
	expect_ok(c);
	assert_int_equal(c->gb.info, 0x1000);
	assert_int_equal(c->gb.image_lo, 0);
	check_info(c);

	/* The first gap after a segment at 4 KiB. */
	memset(c->img, 0, IMG_MAX);
	std_elf(&e, 32);
	elf_add(&e, PT_LOAD, PF_R | PF_W, 0x600, 0x1000, 0x10, 0x1800);
	std_finish(c, &e, 2);
	expect_ok(c);
	assert_int_equal(c->gb.info, 0x3000);
	check_info(c);

	/* A 4 KiB gap is too small for a block with a long command line: the next one. */
	memset(c->img, 0, IMG_MAX);
	std_elf(&e, 32);
	elf_add(&e, PT_LOAD, PF_R | PF_W, 0x600, 0x1000, 0x10, 0x1000);
	elf_add(&e, PT_LOAD, PF_R | PF_W, 0x600, 0x3000, 0x10, 0x5000);
	std_finish(c, &e, 1);
	expect_ok(c);
	assert_int_equal(c->gb.info, 0x2000);
	check_info(c);
	{
		char *cmdline = malloc(LOADER_CMDLINE_MAX);

		memset(cmdline, 'x', LOADER_CMDLINE_MAX - 1);
		cmdline[LOADER_CMDLINE_MAX - 1] = '\0';
		c->cmdline = cmdline;
		expect_ok(c);
		assert_int_equal(c->gb.info, 0x8000);
		check_info(c);
		c->cmdline = NULL;
		free(cmdline);
	}
}

/* Low memory full: the block goes after the image, above 1 MiB. */
static void test_info_after_image(void **state)
{
	struct ctx *c = *state;
	struct elf e;

	std_elf(&e, 64);
	elf_add(&e, PT_LOAD, PF_R | PF_W, 0x600, 0x0, 0x10, 0x9F800);
	e.phoff = STD_SIZE;
	std_finish(c, &e, 2);
	expect_ok(c);
	assert_int_equal(c->gb.info, SEG2_PA + SEG2_MEM);
	check_info(c);

	/* Only low memory used, and all of it. */
	memset(c->img, 0, IMG_MAX);
	elf_init(&e, 32);
	e.entry = 0x10;
	elf_add(&e, PT_LOAD, PF_R | PF_X, SEG0_OFF, 0x0, 0x100, 0xA0000);
	std_finish(c, &e, 1);
	expect_ok(c);
	assert_int_equal(c->gb.info, MIB);
	assert_int_equal(c->gb.image_hi, 0xA0000);
	check_info(c);
}

static void test_info_no_room(void **state)
{
	struct ctx *c = *state;
	struct elf e;

	elf_init(&e, 32);
	e.entry = 0x10;
	elf_add(&e, PT_LOAD, PF_R | PF_X, SEG0_OFF, 0x0, 0x100, 0xA0000);
	elf_add(&e, PT_LOAD, PF_R | PF_W, SEG1_OFF, MIB, 0x100, MIB - 0x800);
	std_finish(c, &e, 1);
	expect_refused(c, "no room");

	/* The image ends at the end of RAM, which is not page-aligned. */
	set_ram_size(c, 2 * MIB + 0x123);
	e.ph[1].memsz = MIB + 0x123;
	std_finish(c, &e, 2);
	expect_refused(c, "no room");
	e.ph[1].memsz = MIB + 0x122;
	std_finish(c, &e, 2);
	expect_refused(c, "no room");
}

/* ------------------------------------------------------------------------------------------
 * Command line and RAM size.
 */

static void test_cmdline(void **state)
{
	struct ctx *c = *state;
	char *cmdline = malloc(LOADER_CMDLINE_MAX + 1);

	assert_non_null(cmdline);
	c->cmdline = NULL;
	std_image(c, 32, 1);
	expect_ok(c);
	check_std_loaded(c, STD_ENTRY);
	std_image(c, 32, 2);
	expect_ok(c);
	check_std_loaded(c, STD_ENTRY);

	memset(cmdline, 'a', LOADER_CMDLINE_MAX);
	cmdline[LOADER_CMDLINE_MAX - 1] = '\0';
	c->cmdline = cmdline;
	expect_ok(c);
	check_std_loaded(c, STD_ENTRY);
	std_image(c, 32, 1);
	expect_ok(c);
	check_std_loaded(c, STD_ENTRY);

	cmdline[LOADER_CMDLINE_MAX - 1] = 'a';
	cmdline[LOADER_CMDLINE_MAX] = '\0';
	expect_refused(c, "command line");
	free(cmdline);
}

static void test_ram_sizes(void **state)
{
	struct ctx *c = *state;
	uint64_t sizes[] = {2 * MIB, 2 * MIB + 0x123, 16 * MIB};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		set_ram_size(c, sizes[i]);
		std_image(c, 32, 1);
		expect_ok(c);
		check_std_loaded(c, STD_ENTRY);
		std_image(c, 64, 2);
		expect_ok(c);
		check_std_loaded(c, STD_ENTRY);
	}
	set_ram_size(c, 2 * MIB - 4096);
	expect_refused(c, "guest RAM size");
}

/* Sizes the loader must refuse before touching anything, so a small buffer stands in. */
static void test_sizes_refused_early(void **state)
{
	struct ctx *c = *state;
	struct guest_boot gb;
	const char *err;

	std_image(c, 32, 1);
	poison_ram(c);
	err = loader_load(c->img, STD_SIZE, c->ram, 4 * GIB + 4096, NULL, &gb);
	assert_err(err, "guest RAM size");
	err = loader_load(c->img, 4 * GIB, c->ram, c->ram_size, NULL, &gb);
	assert_err(err, "4 GiB or larger");
	assert_true(ram_all_poison(c));
}

/* The largest guest: 4 GiB, lazily allocated, with a segment ending exactly at 4 GiB. */
static void test_ram_4g(void **state)
{
	struct ctx *c = *state;
	struct elf e;
	void *ram;

	ram = mmap(NULL, 4 * GIB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		skip();
	free_ram(c);
	c->ram = ram;
	c->ram_size = 4 * GIB;
	c->ram_mmapped = true;

	elf_init(&e, 32);
	e.entry = 0xFFFFF010;
	elf_add(&e, PT_LOAD, PF_R | PF_X, SEG0_OFF, 0xFFFFF000, SEG0_SIZE, 0x1000);
	std_finish(c, &e, 2);
	assert_null(load(c));
	assert_int_equal(c->gb.entry, 0xFFFFF010);
	assert_int_equal(c->gb.image_hi, 4 * GIB);
	assert_memory_equal(c->ram + 0xFFFFF000, c->img + SEG0_OFF, SEG0_SIZE);
	assert_int_equal(c->gb.info, 0x1000);
	check_info(c);

	/* Low memory full and the image at the very top: nowhere for the info block. */
	elf_add(&e, PT_LOAD, PF_R | PF_W, SEG1_OFF, 0, 0x10, 0xA0000);
	std_finish(c, &e, 1);
	assert_err(load(c), "no room");

	/* One byte more does not fit. */
	e.phnum = 1;
	e.ph[0].memsz = 0x1001;
	std_finish(c, &e, 1);
	assert_err(load(c), "past the end of guest RAM");
}

/* ------------------------------------------------------------------------------------------
 * Refused images: one builder per case, each starting from a zeroed workspace.
 */

static void bad_empty(struct ctx *c)
{
	c->size = 0;
}

static void bad_garbage(struct ctx *c)
{
	uint32_t x = 12345;
	size_t i;

	for (i = 0; i < 40 * KIB; i++) {
		x = x * 1103515245 + 12345;
		c->img[i] = x >> 16;
	}
	c->size = 40 * KIB;
}

static void bad_no_header(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	elf_write(c->img, &e);
	std_data(c);
}

static void bad_mb1_checksum(struct ctx *c)
{
	std_image(c, 32, 1);
	put32(c->img, HDR_OFF + 8, 0);
}

static void bad_mb2_checksum(struct ctx *c)
{
	std_image(c, 32, 2);
	put32(c->img, HDR_OFF + 12, 0);
}

static void bad_mb1_video(struct ctx *c)
{
	std_image(c, 32, 1);
	put_mb1(c->img, HDR_OFF, MB1_VIDEO);
}

static void bad_mb1_required_flag(struct ctx *c)
{
	std_image(c, 32, 1);
	put_mb1(c->img, HDR_OFF, 1u << 5);
}

static void bad_mb1_aout_truncated(struct ctx *c)
{
	fill(c->img, 0x100, 1);
	put_mb1(c->img, 0xF4, MB1_AOUT);
	c->size = 0x100;
}

static void bad_mb2_arch(struct ctx *c)
{
	std_image(c, 32, 2);
	mb2_seal(c->img, HDR_OFF, 4, 24);
}

static void bad_mb2_short(struct ctx *c)
{
	std_image(c, 32, 2);
	mb2_seal(c->img, HDR_OFF, 0, 16);
}

static void bad_mb2_past_file(struct ctx *c)
{
	std_image(c, 32, 2);
	mb2_seal(c->img, HDR_OFF, 0, STD_SIZE - HDR_OFF + 8);
}

static void bad_mb2_no_end_tag(struct ctx *c)
{
	struct mb2 b;

	std_image(c, 32, 2);
	mb2_begin(&b, c->img, HDR_OFF);
	mb2_tag(&b, T_MODULE_ALIGN, 0, NULL, 0);
	mb2_seal(c->img, HDR_OFF, 0, 24);
}

/* header_length not a multiple of 8: padding after the last tag runs past it. */
static void bad_mb2_padding_past_end(struct ctx *c)
{
	struct mb2 b;

	std_image(c, 32, 2);
	mb2_begin(&b, c->img, HDR_OFF);
	mb2_entry(&b, STD_ENTRY);
	mb2_seal(c->img, HDR_OFF, 0, 28);
}

static void bad_mb2_tag_too_small(struct ctx *c)
{
	struct mb2 b;

	std_image(c, 32, 2);
	mb2_begin(&b, c->img, HDR_OFF);
	mb2_raw_tag(&b, T_MODULE_ALIGN, 0, 4);
	mb2_end(&b);
}

static void bad_mb2_tag_overruns(struct ctx *c)
{
	struct mb2 b;

	std_image(c, 32, 2);
	mb2_begin(&b, c->img, HDR_OFF);
	mb2_raw_tag(&b, 42, MB2_OPTIONAL, 0x40);
	mb2_seal(c->img, HDR_OFF, 0, 48);
}

static void bad_mb2_framebuffer(struct ctx *c)
{
	static const uint32_t fb[] = {640, 480, 8};
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_tag(&b, T_FRAMEBUFFER, 0, fb, 3);
	std_mb2_image(c, 32, &b);
}

static void bad_mb2_relocatable(struct ctx *c)
{
	static const uint32_t reloc[] = {0x100000, 0x1000000, 0x1000, 0};
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_tag(&b, T_RELOCATABLE, 0, reloc, 4);
	std_mb2_image(c, 32, &b);
}

static void bad_mb2_console(struct ctx *c)
{
	uint32_t flags = 3;
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_tag(&b, T_CONSOLE, 0, &flags, 1);
	std_mb2_image(c, 32, &b);
}

static void bad_mb2_unknown_required(struct ctx *c)
{
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_tag(&b, 42, 0, NULL, 0);
	std_mb2_image(c, 32, &b);
}

static void bad_mb2_address_too_small(struct ctx *c)
{
	uint32_t w[] = {0x100100, 0x100000};
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_tag(&b, T_ADDRESS, 0, w, 2);
	std_mb2_image(c, 32, &b);
}

static void bad_mb2_request_size(struct ctx *c)
{
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_raw_tag(&b, T_INFO_REQUEST, MB2_OPTIONAL, 10);
	std_mb2_image(c, 32, &b);
}

static void bad_mb2_request_framebuffer(struct ctx *c)
{
	static const uint32_t want[] = {1, 6, 8};
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_tag(&b, T_INFO_REQUEST, 0, want, 3);
	std_mb2_image(c, 32, &b);
}

static void bad_mb2_request_unknown(struct ctx *c)
{
	static const uint32_t want[] = {99};
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_tag(&b, T_INFO_REQUEST, 0, want, 1);
	std_mb2_image(c, 32, &b);
}

static void bad_mb2_two_addresses(struct ctx *c)
{
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_address(&b, 0x100100, 0x100000, 0, 0);
	mb2_address(&b, 0x100100, 0x100000, 0, 0);
	mb2_entry(&b, 0x100200);
	std_mb2_image(c, 32, &b);
}

static void bad_mb2_two_entries(struct ctx *c)
{
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_entry(&b, STD_ENTRY);
	mb2_entry(&b, STD_ENTRY);
	std_mb2_image(c, 32, &b);
}

static void bad_mb2_entry_not_exec(struct ctx *c)
{
	struct mb2 b;

	mb2_begin(&b, c->img, HDR_OFF);
	mb2_entry(&b, SEG1_PA + 0x10);
	std_mb2_image(c, 64, &b);
}

static void bad_mb2_address_without_entry(struct ctx *c)
{
	struct mb2 b;

	fill(c->img, 0x1000, 1);
	mb2_begin(&b, c->img, 0x200);
	mb2_address(&b, 0x180200, 0x180000, 0, 0);
	mb2_end(&b);
	c->size = 0x1000;
}

/* a.out fields, mb1 flavour: flat 0x1000-byte file, header at 0x200. */
static void aout(struct ctx *c, uint32_t header_addr, uint32_t load_addr, uint32_t load_end,
		 uint32_t bss_end, uint32_t entry)
{
	fill(c->img, 0x1000, 1);
	put_mb1_aout(c->img, 0x200, 0, header_addr, load_addr, load_end, bss_end, entry);
	c->size = 0x1000;
}

static void bad_aout_load_above_header(struct ctx *c)
{
	aout(c, 0x180200, 0x180300, 0, 0, 0x180400);
}

static void bad_aout_before_file(struct ctx *c)
{
	aout(c, 0x180200, 0x17FF00, 0, 0, 0x180400);
}

static void bad_aout_load_end_below(struct ctx *c)
{
	aout(c, 0x180200, 0x180000, 0x17FFFF, 0, 0x180400);
}

static void bad_aout_past_file(struct ctx *c)
{
	aout(c, 0x180200, 0x180000, 0x181001, 0, 0x180400);
}

static void bad_aout_bss_below(struct ctx *c)
{
	aout(c, 0x180200, 0x180000, 0x180800, 0x1807FF, 0x180400);
}

static void bad_aout_past_ram(struct ctx *c)
{
	aout(c, 0x1FF200, 0x1FF000, 0, 0x200001, 0x1FF400);
}

static void bad_aout_hole(struct ctx *c)
{
	aout(c, 0x9F300, 0x9F100, 0, 0, 0x9F400);
}

static void bad_aout_entry_outside(struct ctx *c)
{
	aout(c, 0x180200, 0x180000, 0x180800, 0x182000, 0x180800);
}

static void bad_aout_entry_below(struct ctx *c)
{
	aout(c, 0x180200, 0x180000, 0, 0, 0x17FFFF);
}

static void bad_aout_empty(struct ctx *c)
{
	aout(c, 0x180200, 0x180000, 0x180000, 0, 0x180000);
}

static void bad_mb2_address_minus_one(struct ctx *c)
{
	struct mb2 b;

	fill(c->img, 0x1000, 1);
	mb2_begin(&b, c->img, 0x200);
	mb2_address(&b, 0x100, 0xFFFFFFFF, 0, 0);
	mb2_entry(&b, 0x180);
	mb2_end(&b);
	c->size = 0x1000;
}

static void bad_mb2_address_past_ram(struct ctx *c)
{
	struct mb2 b;

	fill(c->img, 0x1000, 1);
	mb2_begin(&b, c->img, 0x200);
	mb2_address(&b, 0xFFFFF200, 0xFFFFF000, 0, 0);
	mb2_entry(&b, 0xFFFFF400);
	mb2_end(&b);
	c->size = 0x1000;
}

/* Just an mb1 header, too short to be ELF. */
static void bad_tiny(struct ctx *c)
{
	put_mb1(c->img, 0, 0);
	c->size = 12;
}

static void bad_flat_without_aout(struct ctx *c)
{
	fill(c->img, 0x1000, 1);
	put_mb1(c->img, 0x200, 0);
	c->size = 0x1000;
}

/* ELF: the std image with one thing broken. */
static void bad_elf_ident_class(struct ctx *c)
{
	std_image(c, 32, 1);
	c->img[4] = 3;
}

static void bad_elf_ident_data(struct ctx *c)
{
	std_image(c, 32, 1);
	c->img[5] = 2;
}

static void bad_elf_ident_version(struct ctx *c)
{
	std_image(c, 64, 1);
	c->img[6] = 0;
}

static void bad_elf_version(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.version = 2;
	std_finish(c, &e, 1);
}

static void bad_elf_type(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 32);
	e.type = ET_REL;
	std_finish(c, &e, 1);
}

static void bad_elf32_machine(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 32);
	e.machine = EM_X86_64;
	std_finish(c, &e, 1);
}

static void bad_elf64_machine(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.machine = EM_386;
	std_finish(c, &e, 2);
}

/* An ELF identification followed by an mb1 header, in a file too short for the ELF header. */
static void bad_elf32_header_truncated(struct ctx *c)
{
	memcpy(c->img, "\177ELF\001\001\001", 7);
	put_mb1(c->img, 16, 0);
	c->size = 51;
}

static void bad_elf64_header_truncated(struct ctx *c)
{
	memcpy(c->img, "\177ELF\002\001\001", 7);
	put_mb1(c->img, 16, 0);
	c->size = 63;
}

static void bad_elf_phnum0(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.phnum = 0;
	std_finish(c, &e, 2);
}

static void bad_elf_phnum65(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 32);
	while (e.phnum < LOADER_MAX_PHDRS + 1)
		elf_add(&e, PT_NOTE, 0, 0, 0, 0, 0);
	e.phoff = 0x1000;
	std_finish(c, &e, 2);
}

static void bad_elf_phentsize(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.phentsize = 32;
	std_finish(c, &e, 2);
}

static void bad_elf_phoff(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 32);
	e.phoff = STD_SIZE - 95;
	std_finish(c, &e, 2);
	elf_write(c->img, &e);
}

static void bad_elf_phoff_huge(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.phoff = 0xFFFFFFFFFFFFFF00ull;
	std_finish(c, &e, 2);
}

static void bad_elf_data_past_file(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 32);
	e.ph[2].filesz = SEG2_FILE + 1;
	std_finish(c, &e, 1);
}

static void bad_elf_offset_wraps(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.ph[1].offset = 0xFFFFFFFFFFFFFF80ull;
	std_finish(c, &e, 1);
}

static void bad_elf_filesz_above_memsz(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 32);
	e.ph[1].memsz = SEG1_SIZE - 1;
	std_finish(c, &e, 1);
}

static void bad_elf_past_ram(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 32);
	e.ph[2].paddr = 2 * MIB - 0x1000;
	std_finish(c, &e, 1);
}

static void bad_elf_huge_memsz(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.ph[2].memsz = 0xFFFFFFFFFFFFF000ull;
	std_finish(c, &e, 2);
}

static void bad_elf_paddr_wraps(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.ph[2].paddr = 0xFFFFFFFFFFFFF000ull;
	std_finish(c, &e, 2);
}

static void bad_elf_hole(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 32);
	e.ph[1].paddr = 0x9FF80;
	std_finish(c, &e, 1);
}

static void bad_elf_hole_top(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 32);
	e.ph[2].paddr = 0xFF000;
	std_finish(c, &e, 1);
}

static void bad_elf_overlap(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.ph[2].paddr = SEG0_PA + SEG0_SIZE - 1;
	std_finish(c, &e, 2);
}

static void bad_elf_overlap_contains(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 32);
	e.ph[1].paddr = SEG0_PA;
	e.ph[1].memsz = 0x10000;
	std_finish(c, &e, 2);
}

static void bad_elf_no_load(struct ctx *c)
{
	struct elf e;
	unsigned int i;

	std_elf(&e, 32);
	for (i = 0; i < e.phnum; i++)
		e.ph[i].type = PT_NOTE;
	std_finish(c, &e, 1);
}

static void bad_elf_only_empty_loads(struct ctx *c)
{
	struct elf e;
	unsigned int i;

	std_elf(&e, 64);
	for (i = 0; i < e.phnum; i++)
		e.ph[i].filesz = e.ph[i].memsz = 0;
	std_finish(c, &e, 1);
}

static void bad_elf_entry_outside(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 32);
	e.entry = 0x180000;
	std_finish(c, &e, 1);
}

static void bad_elf_entry_in_bss(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.ph[2].flags |= PF_X;
	e.entry = SEG2_PA + SEG2_FILE;
	std_finish(c, &e, 1);
}

static void bad_elf_entry_not_exec(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.entry = SEG1_PA;
	std_finish(c, &e, 2);
}

static void bad_elf_entry_64bit(struct ctx *c)
{
	struct elf e;

	std_elf(&e, 64);
	e.entry = 0x100000000ull + STD_ENTRY;
	std_finish(c, &e, 2);
}

static void bad_image_too_small_for_info(struct ctx *c)
{
	struct elf e;

	elf_init(&e, 32);
	e.entry = 0x10;
	elf_add(&e, PT_LOAD, PF_R | PF_X, SEG0_OFF, 0x0, 0x100, 0xA0000);
	elf_add(&e, PT_LOAD, PF_R | PF_W, SEG1_OFF, MIB, 0x100, MIB - 0x100);
	std_finish(c, &e, 2);
}

struct bad_case {
	const char *name;
	void (*build)(struct ctx *c);
	const char *want;
};

#define BAD(fn, want)                                                                              \
	{                                                                                          \
#fn, fn, want                                                                      \
	}

static const struct bad_case bad_cases[] = {
    BAD(bad_empty, "no multiboot header"),
    BAD(bad_garbage, "no multiboot header"),
    BAD(bad_no_header, "no multiboot header"),
    BAD(bad_mb1_checksum, "multiboot1 header checksum"),
    BAD(bad_mb2_checksum, "multiboot2 header checksum"),
    BAD(bad_mb1_video, "video mode"),
    BAD(bad_mb1_required_flag, "unknown required flag"),
    BAD(bad_mb1_aout_truncated, "a.out kludge fields past the file"),
    BAD(bad_mb2_arch, "architecture"),
    BAD(bad_mb2_short, "header_length too small"),
    BAD(bad_mb2_past_file, "past the end of the file"),
    BAD(bad_mb2_no_end_tag, "no end tag"),
    BAD(bad_mb2_padding_past_end, "no end tag"),
    BAD(bad_mb2_tag_too_small, "smaller than 8 bytes"),
    BAD(bad_mb2_tag_overruns, "reaches past header_length"),
    BAD(bad_mb2_framebuffer, "framebuffer tag"),
    BAD(bad_mb2_relocatable, "relocatable tag"),
    BAD(bad_mb2_console, "requires a console"),
    BAD(bad_mb2_unknown_required, "required tag of unknown type"),
    BAD(bad_mb2_address_too_small, "address tag is too small"),
    BAD(bad_mb2_request_size, "8 + 4n"),
    BAD(bad_mb2_request_framebuffer, "requires framebuffer information"),
    BAD(bad_mb2_request_unknown, "requires unknown"),
    BAD(bad_mb2_two_addresses, "more than one address tag"),
    BAD(bad_mb2_two_entries, "more than one entry address tag"),
    BAD(bad_mb2_entry_not_exec, "multiboot2 entry address is not in"),
    BAD(bad_mb2_address_without_entry, "no entry address tag"),
    BAD(bad_aout_load_above_header, "multiboot1 a.out kludge: load_addr is above header_addr"),
    BAD(bad_aout_before_file, "before the start of the file"),
    BAD(bad_aout_load_end_below, "load_end_addr is below load_addr"),
    BAD(bad_aout_past_file, "load_end_addr reaches past the end of the file"),
    BAD(bad_aout_bss_below, "bss_end_addr is below"),
    BAD(bad_aout_past_ram, "load range reaches past the end of guest RAM"),
    BAD(bad_aout_hole, "VGA/ROM hole"),
    BAD(bad_aout_entry_outside, "entry address is outside"),
    BAD(bad_aout_entry_below, "entry address is outside"),
    BAD(bad_aout_empty, "entry address is outside"),
    BAD(bad_mb2_address_minus_one, "below the header's file offset"),
    BAD(bad_mb2_address_past_ram, "multiboot2 address tag: load range reaches past"),
    BAD(bad_flat_without_aout, "not ELF"),
    BAD(bad_tiny, "not ELF"),
    BAD(bad_elf_ident_class, "ELF class"),
    BAD(bad_elf_ident_data, "little-endian"),
    BAD(bad_elf_ident_version, "identification version"),
    BAD(bad_elf_version, "e_version"),
    BAD(bad_elf_type, "e_type"),
    BAD(bad_elf32_machine, "not for i386"),
    BAD(bad_elf64_machine, "not for x86-64"),
    BAD(bad_elf32_header_truncated, "ELF32 header reaches past"),
    BAD(bad_elf64_header_truncated, "ELF64 header reaches past"),
    BAD(bad_elf_phnum0, "no program headers"),
    BAD(bad_elf_phnum65, "more than 64 program headers"),
    BAD(bad_elf_phentsize, "e_phentsize"),
    BAD(bad_elf_phoff, "program headers reach past"),
    BAD(bad_elf_phoff_huge, "program headers reach past"),
    BAD(bad_elf_data_past_file, "segment data reaches past"),
    BAD(bad_elf_offset_wraps, "segment data reaches past"),
    BAD(bad_elf_filesz_above_memsz, "p_filesz larger than p_memsz"),
    BAD(bad_elf_past_ram, "ELF segment reaches past the end of guest RAM"),
    BAD(bad_elf_huge_memsz, "ELF segment reaches past the end of guest RAM"),
    BAD(bad_elf_paddr_wraps, "ELF segment reaches past the end of guest RAM"),
    BAD(bad_elf_hole, "VGA/ROM hole"),
    BAD(bad_elf_hole_top, "VGA/ROM hole"),
    BAD(bad_elf_overlap, "segments overlap"),
    BAD(bad_elf_overlap_contains, "segments overlap"),
    BAD(bad_elf_no_load, "no PT_LOAD"),
    BAD(bad_elf_only_empty_loads, "no PT_LOAD"),
    BAD(bad_elf_entry_outside, "not in the file data of any PT_LOAD"),
    BAD(bad_elf_entry_in_bss, "not in the file data of any PT_LOAD"),
    BAD(bad_elf_entry_not_exec, "without execute permission"),
    BAD(bad_elf_entry_64bit, "above 4 GiB"),
    BAD(bad_image_too_small_for_info, "no room"),
};

static void test_refused(void **state)
{
	struct ctx *c = *state;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		print_message("# %s\n", bad_cases[i].name);
		memset(c->img, 0, IMG_MAX);
		c->size = 0;
		bad_cases[i].build(c);
		expect_refused(c, bad_cases[i].want);
	}
}

/* ------------------------------------------------------------------------------------------
 * Truncation and corruption.
 */

/* Every image below ends in loaded data, so every proper prefix of it must be refused. */
static void truncate_all(struct ctx *c)
{
	size_t full = c->size, size;
	const char *err;

	poison_ram(c);
	for (size = 0; size < full; size++) {
		err = load_buf(c, c->img, size);
		if (!err)
			fail_msg("image truncated to %zu of %zu bytes accepted", size, full);
	}
	/* Nothing was written by any of them. */
	assert_true(ram_all_poison(c));
	expect_ok(c);
}

static void test_truncated(void **state)
{
	struct ctx *c = *state;
	struct mb2 b;
	int bits, protocol;

	for (bits = 32; bits <= 64; bits += 32) {
		for (protocol = 1; protocol <= 2; protocol++) {
			memset(c->img, 0, IMG_MAX);
			std_image(c, bits, protocol);
			truncate_all(c);
		}
	}

	memset(c->img, 0, IMG_MAX);
	aout(c, 0x180200, 0x180000, 0x181000, 0x182000, 0x180FFF);
	truncate_all(c);

	memset(c->img, 0, IMG_MAX);
	fill(c->img, 0x1000, 1);
	mb2_begin(&b, c->img, 0x200);
	mb2_address(&b, 0x180200, 0x180000, 0x181000, 0);
	mb2_entry(&b, 0x180FFF);
	mb2_end(&b);
	c->size = 0x1000;
	truncate_all(c);
}

/*
 * Random bit flips in the headers: never a crash or an access out of bounds (ASan), and
 * whatever is accepted is consistent.
 */
static void test_corrupted(void **state)
{
	struct ctx *c = *state;
	unsigned char *base = malloc(IMG_MAX);
	uint32_t x = 1;
	unsigned int kind, iter, n;

	assert_non_null(base);
	for (kind = 0; kind < 4; kind++) {
		memset(c->img, 0, IMG_MAX);
		if (kind < 3)
			std_image(c, kind == 0 ? 32 : 64, kind == 2 ? 1 : 2);
		else
			aout(c, 0x180200, 0x180000, 0x181000, 0x182000, 0x180FFF);
		memcpy(base, c->img, IMG_MAX);
		poison_ram(c);
		for (iter = 0; iter < 3000; iter++) {
			memcpy(c->img, base, c->size);
			for (n = 0; n < 1 + iter % 4; n++) {
				x = x * 1103515245 + 12345;
				c->img[(x >> 8) % 0x240] ^= 1u << (x % 8);
			}
			if (load(c))
				continue;
			assert_true(c->gb.protocol == 1 || c->gb.protocol == 2);
			assert_true(c->gb.entry >= c->gb.image_lo && c->gb.entry < c->gb.image_hi);
			assert_true(c->gb.image_hi <= c->ram_size);
			assert_true(c->gb.info >= 0x1000 && c->gb.info < c->ram_size);
		}
	}
	free(base);
}

/* ------------------------------------------------------------------------------------------
 * The real thing: nestvisor's own image, which carries both headers.
 */

static unsigned char *read_file(const char *path, size_t *size)
{
	unsigned char *buf;
	FILE *f = fopen(path, "rb");
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(len > 0 ? len : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, len, f), len);
	fclose(f);
	*size = len;
	return buf;
}

static void test_nestvisor_elf(void **state)
{
	struct ctx *c = *state;
	const char *path =
	    getenv("NESTVISOR_ELF") ? getenv("NESTVISOR_ELF") : "build/nestvisor.elf";
	struct guest_boot elf_gb;
	unsigned char *file, *elf_ram;
	uint64_t phoff, entry, off, first_off = 0, first_pa = 0;
	unsigned int i, phnum, loads = 0;
	size_t size;

	file = read_file(path, &size);
	if (!file) {
		print_message("# %s not built: skipped\n", path);
		skip();
	}
	set_ram_size(c, 32 * MIB);
	c->cmdline = "name=nestvisor-in-nestvisor";
	expect_ok_buf(c, file, size);
	assert_int_equal(c->gb.protocol, 2);
	check_info(c);

	/* Each PT_LOAD where its program header says, read here at ELF64 spec offsets. */
	assert_true(size >= 64 && file[4] == 2);
	entry = get64(file, 24);
	phoff = get64(file, 32);
	phnum = file[56] | file[57] << 8;
	assert_int_equal(c->gb.entry, entry);
	for (i = 0; i < phnum; i++) {
		const unsigned char *ph = file + phoff + 56 * i;
		uint64_t pa = get64(ph, 24), filesz = get64(ph, 32), memsz = get64(ph, 40);

		if (get32(ph, 0) != PT_LOAD)
			continue;
		if (loads++ == 0) {
			first_off = get64(ph, 8);
			first_pa = pa;
		}
		assert_memory_equal(c->ram + pa, file + get64(ph, 8), filesz);
		check_zero(c, pa + filesz, memsz - filesz);
	}
	assert_true(loads >= 1);

	/*
	 * Without its mb2 header it is loaded by the mb1 a.out kludge, as by `qemu -kernel`:
	 * the same bytes must end up in the same places.
	 */
	elf_gb = c->gb;
	elf_ram = malloc(elf_gb.image_hi - elf_gb.image_lo);
	assert_non_null(elf_ram);
	memcpy(elf_ram, c->ram + elf_gb.image_lo, elf_gb.image_hi - elf_gb.image_lo);
	for (off = 0; off + 4 <= size && off < 32 * KIB; off += 8) {
		if (get32(file, off) != MB2_MAGIC)
			continue;
		/* The a.out load copies the file as patched here, so expect the same change. */
		put32(file, off, 0);
		assert_true(off >= first_off);
		put32(elf_ram, first_pa + (off - first_off) - elf_gb.image_lo, 0);
	}
	expect_ok_buf(c, file, size);
	assert_int_equal(c->gb.protocol, 1);
	check_info(c);
	assert_int_equal(c->gb.entry, elf_gb.entry);
	assert_int_equal(c->gb.image_lo, elf_gb.image_lo);
	assert_int_equal(c->gb.image_hi, elf_gb.image_hi);
	assert_memory_equal(c->ram + elf_gb.image_lo, elf_ram, elf_gb.image_hi - elf_gb.image_lo);
	free(elf_ram);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_elf32_mb1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_elf64_mb1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_elf32_mb2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_elf64_mb2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mb2_tags_accepted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mb1_optional_flag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_higher_half_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mb2_entry_tag_overrides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_elf_variants, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_both_headers_prefers_mb2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_header_search_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_aout_mb1_whole_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_aout_mb1_bss, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_aout_mb1_on_elf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mb2_address_tag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_info_placement, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_info_after_image, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_info_no_room, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cmdline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ram_sizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sizes_refused_early, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ram_4g, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nestvisor_elf, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
