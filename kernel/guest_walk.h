/*
 * Guest page-table walker: translates a guest-virtual (linear) address the
 * way the guest's own MMU would (AMD APM vol. 2, ch. 5), so the hypervisor
 * can fetch the instruction at the guest's RIP and reach the memory operands
 * of instructions it emulates.
 *
 * Pure logic with no globals: guest-physical memory is one block, the
 * guest's paging registers come in a struct, and the walk only reads.
 */
#ifndef KERNEL_GUEST_WALK_H
#define KERNEL_GUEST_WALK_H

#include <stdbool.h>
#include <stdint.h>

/* Guest-physical [0, size) is at host pointer base; anything else is not RAM. */
struct guest_ram {
	uint8_t *base;
	uint64_t size;
};

/* The guest's values from its VMCB save area. */
struct guest_paging {
	uint64_t cr0, cr3, cr4, efer;
	/*
	 * The guest's physical-address width (CPUID Fn8000_0008_EAX[7:0]):
	 * page-table address bits at and above it are reserved (APM 5.3.1).
	 * 0 means 52, the architectural maximum.
	 */
	unsigned int phys_addr_bits;
};

/* The access being translated, with the bits of the #PF error code (APM 8.4.2). */
#define WALK_WRITE (1u << 1)
#define WALK_USER  (1u << 2) /* CPL 3 */
#define WALK_FETCH (1u << 4)

/* #PF error-code bits (APM 8.4.2, "Page-Fault Error Code"). */
#define PF_ERR_P    (1u << 0) /* 0: not present; 1: protection or reserved-bit violation */
#define PF_ERR_W    (1u << 1)
#define PF_ERR_U    (1u << 2)
#define PF_ERR_RSVD (1u << 3)
#define PF_ERR_ID   (1u << 4)

enum walk_status {
	WALK_OK,
	WALK_PAGE_FAULT, /* the guest takes #PF(pf_error) with CR2 = fault_va */
	WALK_NOT_RAM,	 /* a page-table entry, or data, at bad_gpa lies outside guest RAM */
	WALK_GP,	 /* non-canonical address: #GP(0), or #SS(0) for stack accesses */
};

struct walk_result {
	enum walk_status status;
	uint64_t gpa;	   /* WALK_OK: the guest-physical address of va */
	uint32_t pf_error; /* WALK_PAGE_FAULT: the #PF error code */
	/*
	 * WALK_NOT_RAM: the guest-physical address outside RAM, that of the
	 * page-table entry or of the first data byte that guest_read_virt()
	 * could not read.
	 */
	uint64_t bad_gpa;
	/*
	 * Every status but WALK_OK: the linear address of the first byte that
	 * failed (CR2 for a #PF). Outside long mode it has 32 bits. For
	 * guest_read_virt() the (fault_va - va) bytes before it, counted modulo
	 * 2^32 outside long mode, have been copied.
	 */
	uint64_t fault_va;
};

/*
 * Translates va for the access (WALK_* bits) in the guest's current paging
 * mode: CR0.PG=0 (linear = physical), legacy 32-bit (4 KiB and, with
 * CR4.PSE, 4 MiB pages with PSE-36), legacy PAE, long mode with 4 levels,
 * or 5 levels with CR4.LA57. Honours P, R/W with CR0.WP, U/S, NX with
 * EFER.NXE, CR4.SMEP, reserved bits and large pages. CR4.SMAP and
 * protection keys are not honoured: they need RFLAGS.AC and PKRU.
 *
 * Outside long mode a linear address has 32 bits, so the upper half of va
 * is ignored there. A WALK_OK gpa may still lie outside guest RAM (MMIO).
 */
struct walk_result guest_walk(const struct guest_ram *ram, const struct guest_paging *pg,
			      uint64_t va, unsigned int access);

/*
 * The page-table entries one walk read, in order. While every one of them
 * still holds the same value (and CR0/CR3/CR4/EFER and the access are the
 * same), the walk would give the same result: that lets a caller cache a
 * translation soundly even though the guest edits its tables without exits.
 */
#define WALK_MAX_LEVELS 5
struct walk_trace {
	unsigned int nr, esize;
	uint64_t gpa[WALK_MAX_LEVELS];
	uint64_t entry[WALK_MAX_LEVELS];
};

/* guest_walk() that also records the entries it read (trace may be NULL). */
struct walk_result guest_walk_traced(const struct guest_ram *ram, const struct guest_paging *pg,
				     uint64_t va, unsigned int access, struct walk_trace *trace);
/* Whether every entry in trace still holds the value the walk saw. */
bool walk_trace_valid(const struct guest_ram *ram, const struct walk_trace *trace);

/*
 * Copies len bytes at guest-virtual va (the range may cross pages) into buf.
 * Returns WALK_OK, or the result for the first byte that could not be read:
 * a failed walk, or data outside guest RAM (WALK_NOT_RAM). The bytes before
 * fault_va have been copied in that case.
 */
struct walk_result guest_read_virt(const struct guest_ram *ram, const struct guest_paging *pg,
				   uint64_t va, void *buf, unsigned int len, unsigned int access);

#endif
