/*
 * The L1 test-guest runtime. A guest is one C file that defines guest_main();
 * the runtime (tests/lib/guest.c) boots it on the same boot/ entry as the
 * hypervisor, so the same ELF runs bare under QEMU and under nestvisor.
 *
 * Protocol (ARCHITECTURE.md "Test protocol"): the guest prints its own plan
 * with tap_plan(), one line per test, and the runtime exits through port 0xF4
 * with EXIT_PASS or EXIT_FAIL. Anything unexpected (an exception without a
 * fixup, a panic) prints one "Bail out!" line and exits with EXIT_FAIL.
 */
#ifndef TESTS_LIB_GUEST_H
#define TESTS_LIB_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/multiboot.h"
#include "kernel/tap.h"

/* Each guest defines this; it prints the plan and runs every test. */
void guest_main(struct tap *tap);

/* What the boot loader left: its EAX and EBX, and the parsed info block. */
extern uint32_t guest_boot_magic, guest_boot_info_pa;
extern struct boot_info guest_boot;
/* NULL if the info block parsed, else the parser's reason. */
extern const char *guest_boot_error;

/* Ends the run now: prints "Bail out! <why>" and exits with EXIT_FAIL. */
void __attribute__((noreturn, format(printf, 1, 2))) guest_bail_out(const char *fmt, ...);

/*
 * Whether we run under nestvisor: CPUID.1:ECX[31] (hypervisor present) and
 * the signature "NestvisorSVM" in EBX, ECX, EDX of leaf 0x4000_0000.
 */
bool under_nestvisor(void);

/*
 * For a test that only means something under nestvisor: returns true when
 * the caller should run it, else prints "ok N - name # SKIP bare metal".
 * Bare and nested runs thus have the same plan and the same numbered names:
 *	if (nestvisor_only(tap, name))
 *		tap_check(tap, cond, "%s", name);
 */
bool nestvisor_only(struct tap *tap, const char *name);

/* An unsigned number from the command line option key=N (0x... hex or decimal). */
uint64_t guest_option_u64(const char *key, uint64_t fallback);

/*
 * Spins for about tsc TSC ticks. Bounded by construction: every wait in the
 * guests is one of these or a loop with such a deadline.
 */
void tsc_delay(uint64_t tsc);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
