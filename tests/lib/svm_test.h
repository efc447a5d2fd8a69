/*
 * Helpers for the L1 test hypervisors that assert instruction-level SVM
 * outcomes (tests/guests/nested_*.c), on top of tests/lib/svm.h:
 *  - expected-fault wrappers for the SVM instructions, in the style of
 *    arch/x86/extable.h: each returns 0, or EXTABLE_FAULTED | vector;
 *  - a recorder that also keeps the error code, RIP and CPL of the last
 *    exception on a vector (the extable keeps only the vector), which also
 *    counts exceptions L2 takes through the IDT it shares with L1;
 *  - running a function at CPL 3;
 *  - the TAP idiom for known QEMU deviations from the APM.
 */
#ifndef TESTS_LIB_SVM_TEST_H
#define TESTS_LIB_SVM_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/extable.h"
#include "kernel/tap.h"

/* CPUID Fn8000_0001 ECX[12] SKINIT and STGI; Fn8000_000A EDX[2] SVML (SVM lock). */
#define CPUID_EXT_ECX_SKINIT (1u << 12)
#define CPUID_SVM_EDX_SVML   (1u << 2)
#define CPUID_SVM_EDX_VGIF   (1u << 16)

/*
 * The SVM instructions take their operands in fixed registers (APM vol. 3):
 * VMRUN, VMLOAD, VMSAVE the VMCB physical address in rAX; INVLPGA the
 * virtual address in rAX and the ASID in ECX; SKINIT the SLB address in EAX.
 */
static inline uint32_t vmload_safe(uint64_t pa)
{
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "1: vmload %%rax\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault)
		     : "a"(pa)
		     : "memory");
	return (uint32_t)fault;
}

static inline uint32_t vmsave_safe(uint64_t pa)
{
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "1: vmsave %%rax\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault)
		     : "a"(pa)
		     : "memory");
	return (uint32_t)fault;
}

/*
 * For VMRUNs that are expected not to enter a guest (instruction faults).
 * Should one run a guest after all, every GPR but RAX, RSP and RBP holds
 * whatever the guest left; RDI then decides what is reported. The caller
 * executes STGI afterwards: a VMRUN that failed its checks leaves GIF = 0.
 */
static inline uint32_t vmrun_safe(uint64_t pa)
{
	uint64_t fault;

	asm volatile("push %%rbp\n\t"
		     "xor %%edi, %%edi\n\t"
		     "1: vmrun %%rax\n\t"
		     "2:\n\t"
		     "pop %%rbp\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault), "+a"(pa)
		     :
		     : "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
		       "r15", "memory", "cc");
	return (uint32_t)fault;
}

static inline uint32_t stgi_safe(void)
{
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "1: stgi\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault)::"memory");
	return (uint32_t)fault;
}

static inline uint32_t clgi_safe(void)
{
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "1: clgi\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault)::"memory");
	return (uint32_t)fault;
}

static inline uint32_t invlpga_safe(uint64_t va, uint32_t asid)
{
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "1: invlpga %%rax, %%ecx\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault)
		     : "a"(va), "c"(asid)
		     : "memory");
	return (uint32_t)fault;
}

/* Only ever executed where CPUID says SKINIT does not exist, so it must #UD. */
static inline uint32_t skinit_safe(uint32_t slb)
{
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "1: skinit %%eax\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault)
		     : "a"(slb)
		     : "memory");
	return (uint32_t)fault;
}

/*
 * Exception recorder. exc_record_install(v) routes vector v to a handler
 * that counts it, keeps its error code, RIP and CPL, and then resumes at
 * the extable fixup (or bails out if there is none). L2 shares L1's IDT
 * and memory, so an exception L2 takes without an intercept is counted
 * here too.
 */
struct exc_record {
	unsigned int count;
	uint64_t error, rip;
	unsigned int cpl;
};

void exc_record_install(unsigned int vector);
void exc_record_remove(unsigned int vector);
/* What was recorded for vector since the last install or reset. */
struct exc_record exc_record_get(unsigned int vector);
void exc_record_reset(unsigned int vector);

/*
 * CPL 3. cpl3_init() makes the guest image user accessible (U=1 at every
 * level of the boot identity map that maps it), gives the TSS an RSP0 and
 * opens one DPL 3 gate through which user code returns. cpl3_call() runs
 * fn(arg) at CPL 3 on a user stack with RFLAGS.IF = 0 and returns its
 * result; fn may only touch the image. An exception at CPL 3 goes through
 * the recorder and the extable as at CPL 0. Returns false (and says why)
 * if the boot tables cannot be used for CPL 3.
 */
bool cpl3_init(void);
uint64_t cpl3_call(uint64_t (*fn)(uint64_t), uint64_t arg);

/* CPUID Fn8000_0008 EAX[7:0]: the physical-address width. */
unsigned int cpu_maxphyaddr(void);
/* The end of the highest usable region in the boot memory map, 4 KiB aligned up. */
uint64_t guest_ram_top(void);

/*
 * The APM outcome is ok. Bare on QEMU (not under nestvisor), an outcome
 * for which qemu_deviation holds (what QEMU 7.2 is known to do instead)
 * prints "ok N - name # SKIP QEMU deviation: why"; anything else is
 * "not ok". Under nestvisor a deviation is a failure like any other.
 */
bool tap_apm(struct tap *tap, bool ok, bool qemu_deviation, const char *why, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Low 32 bits bare (QEMU zero-extends), all 64 bits under nestvisor (decision 2). */
bool svm_exit_is_invalid(uint64_t exit_code);

#endif
