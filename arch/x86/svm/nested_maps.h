/*
 * L1's permission maps for L2 (APM 15.10 I/O intercepts, 15.11 MSR
 * intercepts): lookups that decide whether an L2 IN/OUT or RDMSR/WRMSR
 * exit goes to L1, and the merge of L0's and L1's maps that VMCB02 uses.
 *
 * Pure functions over L1's RAM. Map bytes outside L1 RAM, including
 * addresses that would wrap past 2^64, read as 0xFF: they intercept, which
 * fails closed (spec/nested-svm.md, decision 4).
 */
#ifndef ARCH_X86_SVM_NESTED_MAPS_H
#define ARCH_X86_SVM_NESTED_MAPS_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/guest_walk.h"

/* A byte of L1-physical memory; bytes outside L1 RAM read as 0xFF. */
uint8_t l1_phys_byte(const struct guest_ram *l1, uint64_t gpa);

/*
 * Whether L1's MSRPM at msrpm_pa intercepts a read (write false) or write
 * of msr. An MSR outside the three MSRPM ranges always exits (APM 15.11).
 */
bool nested_msr_intercepted(const struct guest_ram *l1, uint64_t msrpm_pa, uint32_t msr,
			    bool write);

/*
 * Whether L1's IOPM at iopm_pa intercepts an access of size bytes (1, 2 or
 * 4; anything else intercepts) at port: the bit of every port accessed is
 * checked (APM 15.10.2), up to the 3 bits past port 0xFFFF.
 */
bool nested_io_intercepted(const struct guest_ram *l1, uint64_t iopm_pa, uint16_t port,
			   unsigned int size);

/*
 * dst = l0 | L1's map at the given address, SVM_MSRPM_SIZE or SVM_IOPM_SIZE
 * bytes: the map VMCB02 uses, so that an access L0 or L1 intercepts exits.
 * dst may be l0.
 */
void nested_msrpm_merge(uint8_t *dst, const uint8_t *l0, const struct guest_ram *l1,
			uint64_t l1_msrpm_pa);
void nested_iopm_merge(uint8_t *dst, const uint8_t *l0, const struct guest_ram *l1,
		       uint64_t l1_iopm_pa);

#endif
