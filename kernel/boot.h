/* What kmain learned at boot and hands to the rest of the kernel. */
#ifndef KERNEL_BOOT_H
#define KERNEL_BOOT_H

#include "arch/x86/svm/svm_caps.h"
#include "kernel/multiboot.h"
#include "kernel/pmm.h"

struct hv {
	struct boot_info boot;
	struct pmm pmm;
	struct svm_caps svm;
};

extern char __image_start[], __image_end[];

/* Runs the in-kernel checks as TAP; returns the number of failures. */
unsigned int selftest_run(struct hv *hv);
/* Raises the exception named by what ("ud", "gp", "pf", "de", "bp", "stack"); returns if unknown.
 */
void selftest_crash(const char *what);

#endif
