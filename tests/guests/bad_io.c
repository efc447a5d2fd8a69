/*
 * bad_io: writes garbage to every I/O port and reads every port, except
 * the two the guest needs (COM1 0x3F8-0x3FF, debug exit 0xF4). Under
 * nestvisor unknown ports read as all ones and ignore writes
 * (ARCHITECTURE.md "CPU"), so the guest finishes and exits 0: the test is
 * that nestvisor survives it. Bare it would reset or power off the machine.
 */
#include <stdint.h>
#include "arch/x86/cpu.h"
#include "drivers/platform.h"
#include "drivers/uart16550.h"
#include "kernel/console.h"
#include "tests/lib/guest.h"

#define NR_PORTS 0x10000u

static bool spared(uint32_t port)
{
	return port == DEBUG_EXIT_PORT || (port >= COM1_PORT && port < COM1_PORT + 8);
}

/* Deterministic garbage, different per port. */
static uint8_t garbage(uint32_t port)
{
	return (uint8_t)(port * 0x9D + 0x5A);
}

void guest_main(struct tap *tap)
{
	unsigned int not_ones = 0;

	tap_plan(tap, 2);
	tap_check(tap, true, "bad_io: about to write and read every I/O port");
	cli();
	for (uint32_t port = 0; port < NR_PORTS; port++)
		if (!spared(port))
			outb((uint16_t)port, garbage(port));
	/* Dword accesses too, where all four bytes miss the spared ports. */
	for (uint32_t port = 0; port < NR_PORTS - 3; port += 4)
		if (!spared(port) && !spared(port + 1) && !spared(port + 2) && !spared(port + 3))
			outl((uint16_t)port, 0xDEADBEEF ^ port);
	for (uint32_t port = 0; port < NR_PORTS; port++)
		if (!spared(port) && inb((uint16_t)port) != 0xFF)
			not_ones++;
	for (uint32_t port = 0; port < NR_PORTS - 3; port += 4)
		if (!spared(port) && !spared(port + 1) && !spared(port + 2) && !spared(port + 3))
			(void)inl((uint16_t)port);
	kprintf("# %u ports read other than 0xFF\n", not_ones);
	tap_check(tap, true, "bad_io: survived writing and reading every I/O port");
}
