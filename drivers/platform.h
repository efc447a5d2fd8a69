/* Ending a run: QEMU's isa-debug-exit where present, a halt on hardware. */
#ifndef DRIVERS_PLATFORM_H
#define DRIVERS_PLATFORM_H

#include <stdint.h>

#define DEBUG_EXIT_PORT 0xF4

/* Writes status (kernel/exit_status.h) to the debug-exit port, then halts. */
void __attribute__((noreturn)) platform_exit(uint8_t status);
/* Masks every line of both legacy 8259 PICs, after moving them off the exception vectors. */
void pic_disable(void);

#endif
