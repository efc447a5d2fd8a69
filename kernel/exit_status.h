/*
 * Status values written to the debug-exit port (0xF4). QEMU exits with
 * (status << 1) | 1, so 0 here is QEMU exit code 1; QEMU code 0 means the
 * port was never written. tests/qemu/ decodes these in one place.
 */
#ifndef KERNEL_EXIT_STATUS_H
#define KERNEL_EXIT_STATUS_H

#define EXIT_PASS	 0 /* everything ran and passed */
#define EXIT_FAIL	 1 /* a test or a guest failed */
#define EXIT_PANIC	 2 /* hypervisor invariant broken, or an exception */
#define EXIT_UNSUPPORTED 3 /* no long mode, or no usable SVM */

#endif
