/* The hypervisor's own identity map, built by boot/entry.S. */
#ifndef ARCH_X86_PAGING_H
#define ARCH_X86_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/* Everything below this physical address is identity mapped (4 or 512 GiB). */
uint64_t paging_identity_limit(void);
/* Unmaps the 4 KiB page at va (splitting its 2 MiB page); used for stack guards. */
void paging_unmap_4k(uint64_t va);
/* Whether va is mapped present in the current tables (walks CR3). */
bool paging_is_mapped(uint64_t va);

#endif
