/*
 * L1's permission maps (APM 15.10, 15.11); see nested_maps.h.
 */
#include "arch/x86/svm/nested_maps.h"
#include "arch/x86/svm/vmcb.h"

/* A 64-bit word at any alignment that may alias anything: the merge's unit. */
typedef uint64_t __attribute__((may_alias, aligned(1))) map_word;

uint8_t l1_phys_byte(const struct guest_ram *l1, uint64_t gpa)
{
	/* Decision 4: nothing backs it, so read all ones (intercept). */
	return gpa < l1->size ? l1->base[gpa] : 0xff;
}

/* Byte off of the map at pa. A sum that wraps past 2^64 is not L1 RAM. */
static uint8_t map_byte(const struct guest_ram *l1, uint64_t pa, uint64_t off)
{
	return pa + off < pa ? 0xff : l1_phys_byte(l1, pa + off);
}

bool nested_msr_intercepted(const struct guest_ram *l1, uint64_t msrpm_pa, uint32_t msr, bool write)
{
	/* APM 15.11: two bits per MSR, the read bit at 2k, the write bit at 2k + 1. */
	uint32_t bit = write;

	if (msr - SVM_MSRPM_RANGE0_MSR < SVM_MSRPM_MSRS_PER_RANGE)
		bit += SVM_MSRPM_RANGE0_OFFSET * 8 + 2 * (msr - SVM_MSRPM_RANGE0_MSR);
	else if (msr - SVM_MSRPM_RANGE1_MSR < SVM_MSRPM_MSRS_PER_RANGE)
		bit += SVM_MSRPM_RANGE1_OFFSET * 8 + 2 * (msr - SVM_MSRPM_RANGE1_MSR);
	else if (msr - SVM_MSRPM_RANGE2_MSR < SVM_MSRPM_MSRS_PER_RANGE)
		bit += SVM_MSRPM_RANGE2_OFFSET * 8 + 2 * (msr - SVM_MSRPM_RANGE2_MSR);
	else
		return true; /* APM 15.11: an MSR no range covers always exits. */
	return (map_byte(l1, msrpm_pa, bit / 8) >> (bit % 8)) & 1;
}

bool nested_io_intercepted(const struct guest_ram *l1, uint64_t iopm_pa, uint16_t port,
			   unsigned int size)
{
	unsigned int lo, hi;

	/* IN/OUT move 1, 2 or 4 bytes (APM 15.10.2); fail closed on anything else. */
	if (size != 1 && size != 2 && size != 4)
		return true;
	/*
	 * APM 15.10.2: the bits of all size ports are checked, and they may
	 * straddle a byte, so take two. Byte port / 8 + 1 is at most 0x2000:
	 * for port 0xFFFF it holds the 3 bits past the 64K ports, inside the
	 * 12 KiB IOPM.
	 */
	lo = map_byte(l1, iopm_pa, port / 8);
	hi = map_byte(l1, iopm_pa, port / 8 + 1);
	return ((lo | hi << 8) >> (port % 8)) & ((1u << size) - 1);
}

/* dst = l0 | L1's len-byte map at pa, a word at a time over the part in L1 RAM. */
static void map_merge(uint8_t *dst, const uint8_t *l0, const struct guest_ram *l1, uint64_t pa,
		      uint64_t len)
{
	/* The first n bytes are in RAM; with pa < size none of them wraps. */
	uint64_t n = pa < l1->size ? l1->size - pa : 0;
	const uint8_t *src = l1->base + (n ? pa : 0);
	uint64_t i = 0;

	if (n > len)
		n = len;
	for (; i + 8 <= n; i += 8)
		*(map_word *)(dst + i) = *(const map_word *)(l0 + i) | *(const map_word *)(src + i);
	for (; i < n; i++)
		dst[i] = l0[i] | src[i];
	/* Decision 4: the rest lies outside L1 RAM and reads as all ones. */
	for (; i < len; i++)
		dst[i] = 0xff;
}

void nested_msrpm_merge(uint8_t *dst, const uint8_t *l0, const struct guest_ram *l1,
			uint64_t l1_msrpm_pa)
{
	map_merge(dst, l0, l1, l1_msrpm_pa, SVM_MSRPM_SIZE);
}

void nested_iopm_merge(uint8_t *dst, const uint8_t *l0, const struct guest_ram *l1,
		       uint64_t l1_iopm_pa)
{
	map_merge(dst, l0, l1, l1_iopm_pa, SVM_IOPM_SIZE);
}
