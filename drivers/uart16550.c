/*
 * 16550 on COM1, transmit only, polled. Every wait is bounded, so a machine
 * without a UART (or a wedged one) still boots: output is then dropped.
 */
#include "arch/x86/cpu.h"
#include "drivers/uart16550.h"

#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define LCR_8N1		    0x03
#define LCR_DLAB	    0x80
#define FCR_ENABLE_CLEAR    0x07
#define MCR_DTR_RTS_OUT2    0x0B
#define LSR_THR_EMPTY	    0x20
#define TX_SPIN_LIMIT	    100000
#define BAUD_DIVISOR_115200 1

static uint16_t uart_base;

bool uart_init(uint16_t base)
{
	/* The scratch register echoes on a real 16550; nothing there reads 0xFF. */
	outb(base + UART_SCR, 0x5A);
	if (inb(base + UART_SCR) != 0x5A)
		return false;
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, LCR_DLAB);
	outb(base + UART_DLL, BAUD_DIVISOR_115200);
	outb(base + UART_DLM, 0);
	outb(base + UART_LCR, LCR_8N1);
	outb(base + UART_FCR, FCR_ENABLE_CLEAR);
	outb(base + UART_MCR, MCR_DTR_RTS_OUT2);
	uart_base = base;
	return true;
}

static void uart_tx(char c)
{
	for (unsigned int spin = 0; spin < TX_SPIN_LIMIT; spin++)
		if (inb(uart_base + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(uart_base + UART_THR, (uint8_t)c);
}

void uart_putc(char c)
{
	if (!uart_base)
		return;
	if (c == '\n')
		uart_tx('\r');
	uart_tx(c);
}
