/*
 * Emulated 16550 UART for the guest's COM1 (guest contract: "Serial").
 *
 * A pure device model with no globals and no I/O: the I/O exit handler
 * calls vuart_read()/vuart_write() with the port offset from the UART's
 * base, and the model hands complete output lines to a callback. It is
 * enough for polled output and input-status reads: the transmitter is
 * always empty (we transmit instantly), there is no input source (RBR
 * reads 0, LSR.DR = 0) except the MCR loopback mode, and no interrupt is
 * ever raised (IER is only stored, IIR always says "none pending").
 *
 * Register layout and reset values follow the 16550D datasheet
 * ("Register Description" and the reset table).
 */
#ifndef KERNEL_VUART_H
#define KERNEL_VUART_H

#include <stdbool.h>
#include <stdint.h>

#define VUART_COM1_BASE 0x3f8
#define VUART_NR_PORTS	8

/* Port offsets from the base (DLAB = LCR bit 7 selects DLL/DLM at 0 and 1). */
#define VUART_RBR 0 /* read, DLAB = 0 */
#define VUART_THR 0 /* write, DLAB = 0 */
#define VUART_DLL 0 /* DLAB = 1 */
#define VUART_IER 1 /* DLAB = 0 */
#define VUART_DLM 1 /* DLAB = 1 */
#define VUART_IIR 2 /* read */
#define VUART_FCR 2 /* write */
#define VUART_LCR 3
#define VUART_MCR 4
#define VUART_LSR 5
#define VUART_MSR 6
#define VUART_SCR 7

#define VUART_IER_MASK 0x0f /* bits 4-7 are always 0 on a 16550 */

#define VUART_IIR_NO_INT 0x01 /* bit 0 = 1: no interrupt pending */
#define VUART_IIR_FIFO	 0xc0 /* bits 6-7: FIFOs enabled (FCR bit 0) */

#define VUART_FCR_ENABLE 0x01
#define VUART_FCR_CLR_RX 0x02
#define VUART_FCR_CLR_TX 0x04
#define VUART_FCR_KEEP	 0xc9 /* enable, DMA mode, RX trigger: kept; clear bits self-clear */

#define VUART_LCR_DLAB 0x80

#define VUART_MCR_DTR  0x01
#define VUART_MCR_RTS  0x02
#define VUART_MCR_OUT1 0x04
#define VUART_MCR_OUT2 0x08
#define VUART_MCR_LOOP 0x10
#define VUART_MCR_MASK 0x1f /* bits 5-7 are always 0 on a 16550 */

#define VUART_LSR_DR   0x01 /* data ready */
#define VUART_LSR_OE   0x02 /* overrun error, cleared by reading LSR */
#define VUART_LSR_THRE 0x20 /* transmitter holding register (or TX FIFO) empty */
#define VUART_LSR_TEMT 0x40 /* transmitter completely empty */

#define VUART_MSR_DCTS	0x01 /* delta bits: set on change, cleared by reading MSR */
#define VUART_MSR_DDSR	0x02
#define VUART_MSR_TERI	0x04 /* RI went from asserted to not asserted */
#define VUART_MSR_DDCD	0x08
#define VUART_MSR_CTS	0x10
#define VUART_MSR_DSR	0x20
#define VUART_MSR_RI	0x40
#define VUART_MSR_DCD	0x80
#define VUART_MSR_DELTA 0x0f

#define VUART_RX_FIFO_SIZE 16

#define VUART_LINE_MAX 200

struct vuart {
	uint8_t ier;
	uint8_t lcr;
	uint8_t mcr;
	uint8_t fcr; /* the kept FCR bits (VUART_FCR_KEEP) */
	uint8_t scr;
	uint8_t dll;
	uint8_t dlm;
	uint8_t lsr_err;   /* sticky LSR error bits (only OE can happen) */
	uint8_t msr_delta; /* MSR bits 0-3 */
	/*
	 * Receive side, fed only by the loopback path: a 16-byte FIFO when
	 * FCR bit 0 is set, otherwise a single RBR (capacity 1).
	 */
	uint8_t rx[VUART_RX_FIFO_SIZE];
	unsigned int rx_head;
	unsigned int rx_count;
	/* Output line being assembled; always NUL-terminated at line[len]. */
	char line[VUART_LINE_MAX + 1];
	unsigned int len;
};

/*
 * Called for each complete line (without the newline, NUL-terminated). An
 * over-long line is flushed in pieces of at most VUART_LINE_MAX characters,
 * each piece but the last marked as continued (never silently truncated).
 * fn may be NULL, which discards the output.
 */
typedef void (*vuart_line_fn)(void *ctx, const char *line, bool continued);

/* Puts the UART into its reset state with an empty line buffer. */
void vuart_init(struct vuart *u);

/* Reads the register at offset 0..7 (other offsets read 0xff, like an unused port). */
uint8_t vuart_read(struct vuart *u, unsigned int offset);

/* Writes the register at offset 0..7 (other offsets are ignored). */
void vuart_write(struct vuart *u, unsigned int offset, uint8_t val, vuart_line_fn fn, void *ctx);

/* At guest exit: emits a pending partial line (not marked continued), if any. */
void vuart_flush(struct vuart *u, vuart_line_fn fn, void *ctx);

#endif
