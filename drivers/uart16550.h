/* Polled 16550 UART: the hypervisor's console. */
#ifndef DRIVERS_UART16550_H
#define DRIVERS_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#define COM1_PORT 0x3F8

/* Programs 115200 8N1 with FIFOs; returns false if no UART answers at base. */
bool uart_init(uint16_t base);
void uart_putc(char c);

#endif
