/*
 * An L1 guest: a multiboot kernel given as a boot module, its private RAM,
 * its devices and how its run ended.
 */
#ifndef KERNEL_GUEST_H
#define KERNEL_GUEST_H

#include <stdint.h>
#include "arch/x86/svm/vcpu.h"
#include "kernel/tap_count.h"
#include "kernel/vuart.h"

enum guest_end {
	GUEST_RUNNING,
	GUEST_EXITED,	/* wrote a status to port 0xF4 */
	GUEST_SHUTDOWN, /* triple fault */
	GUEST_TIMEOUT,	/* ran past its budget */
	GUEST_REFUSED,	/* bad image or options: never ran */
	GUEST_NPF,	/* touched guest-physical memory that is not its own */
	GUEST_HALTED,	/* HLT with nothing that could ever wake it */
	GUEST_STOPPED,	/* anything else nestvisor would not do for it */
	NR_GUEST_ENDS
};

#define GUEST_NAME_MAX	 32
#define GUEST_REASON_MAX 160

struct guest {
	char name[GUEST_NAME_MAX];
	struct pmm *pmm;
	uint64_t ram_pa, ram_size;
	uint64_t npt_root;
	unsigned int asid;
	uint64_t start_tsc, deadline_tsc;
	struct vcpu vcpu;
	struct vuart uart;
	struct tap_count tap;
	bool line_continues; /* the last console piece was cut: the next one is its tail */
	enum guest_end end;
	uint8_t exit_value;
	char reason[GUEST_REASON_MAX];
};

/* Ends the guest's run: the vCPU stops at its next exit-handler return. */
void guest_stop(struct guest *g, enum guest_end end, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The guest's console: one host line "[name] text" per guest line. */
void guest_console_line(void *ctx, const char *line, bool continued);

struct hv;
struct tap;
/*
 * Loads, runs and reports (one TAP line) the guest in boot module index.
 * Module options: name=, mem= (default 32M), budget= (ms, default 60000,
 * or nestvisor's own budget=), expect= (default exit: status 0 and clean TAP). Returns whether the
 * guest ended as expected.
 */
bool guest_run_module(struct hv *hv, unsigned int index, struct tap *tap);

#endif
