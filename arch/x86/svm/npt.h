/*
 * L0 nested page tables (APM 15.25): guest-physical [0, size) onto one
 * private host block, nothing else present. Pure over struct pmm, so the
 * host tests can build and walk them.
 */
#ifndef ARCH_X86_SVM_NPT_H
#define ARCH_X86_SVM_NPT_H

#include <stdint.h>
#include "kernel/pmm.h"

/*
 * Builds tables mapping gpa [0, size) to host_base + gpa, with 2 MiB pages
 * wherever both sides are 2 MiB aligned. size and host_base must be 4 KiB
 * aligned and size at most 512 GiB. Returns NULL and the PML4 address in
 * *root, or a reason (everything allocated so far is freed again).
 */
const char *npt_build(struct pmm *pmm, uint64_t host_base, uint64_t size, uint64_t *root);
/* Frees every table page reachable from root (not the mapped memory). */
void npt_destroy(struct pmm *pmm, uint64_t root);
/* Software walk: the host address gpa maps to, or ~0 when not present. */
uint64_t npt_translate(const struct pmm *pmm, uint64_t root, uint64_t gpa);

#endif
