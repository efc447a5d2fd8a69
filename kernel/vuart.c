/*
 * Emulated 16550 UART: register semantics from the 16550D datasheet,
 * output assembled into lines for the host console. See vuart.h.
 */
#include "kernel/vuart.h"

#include "kernel/kstring.h"

/* Room one \xNN escape takes in the line. */
#define ESCAPE_LEN 4

void vuart_init(struct vuart *u)
{
	/*
	 * 16550D reset table: IER, FCR, LCR, MCR = 0, LSR = 0x60 (computed in
	 * vuart_read), MSR bits 0-3 = 0 and bits 4-7 follow the inputs. The
	 * divisor latch and SCR are not affected by reset; we start them at
	 * divisor 1 (115200 baud) and 0.
	 */
	memset(u, 0, sizeof(*u));
	u->dll = 1;
}

static bool loopback(const struct vuart *u)
{
	return u->mcr & VUART_MCR_LOOP;
}

/*
 * The modem status inputs (MSR bits 4-7). In loopback mode the datasheet
 * connects them internally to the modem control outputs: DTR -> DSR,
 * RTS -> CTS, OUT1 -> RI, OUT2 -> DCD. Otherwise our "other end" is the
 * host console, which is always there and ready, so CTS, DSR and DCD are
 * asserted and RI is not. (A real port with nothing attached reads 0,
 * but then a guest using hardware flow control would never transmit.)
 */
static uint8_t msr_inputs(const struct vuart *u)
{
	uint8_t in = 0;

	if (!loopback(u))
		return VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD;
	if (u->mcr & VUART_MCR_DTR)
		in |= VUART_MSR_DSR;
	if (u->mcr & VUART_MCR_RTS)
		in |= VUART_MSR_CTS;
	if (u->mcr & VUART_MCR_OUT1)
		in |= VUART_MSR_RI;
	if (u->mcr & VUART_MCR_OUT2)
		in |= VUART_MSR_DCD;
	return in;
}

/*
 * Datasheet, MSR bits 0-3: DCTS, DDSR and DDCD flag any change of their
 * input since MSR was last read; TERI flags only the trailing edge of RI
 * (the RI bit going from 1 to 0).
 */
static void msr_track(struct vuart *u, uint8_t before, uint8_t after)
{
	uint8_t changed = before ^ after;

	if (changed & VUART_MSR_CTS)
		u->msr_delta |= VUART_MSR_DCTS;
	if (changed & VUART_MSR_DSR)
		u->msr_delta |= VUART_MSR_DDSR;
	if ((before & VUART_MSR_RI) && !(after & VUART_MSR_RI))
		u->msr_delta |= VUART_MSR_TERI;
	if (changed & VUART_MSR_DCD)
		u->msr_delta |= VUART_MSR_DDCD;
}

static void rx_clear(struct vuart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/*
 * A received character (only ever from the loopback path). Datasheet,
 * LSR bit 1: without FIFOs the new character overwrites the unread one in
 * RBR; with FIFOs a full FIFO keeps its contents and the new character is
 * lost. Either way the overrun error is flagged.
 */
static void rx_push(struct vuart *u, uint8_t c)
{
	unsigned int cap = (u->fcr & VUART_FCR_ENABLE) ? VUART_RX_FIFO_SIZE : 1;

	if (u->rx_count == cap) {
		u->lsr_err |= VUART_LSR_OE;
		if (cap == 1)
			u->rx[u->rx_head] = c;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % VUART_RX_FIFO_SIZE] = c;
	u->rx_count++;
}

static uint8_t rx_pop(struct vuart *u)
{
	uint8_t c;

	/* No input source: an empty RBR reads 0. */
	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % VUART_RX_FIFO_SIZE;
	u->rx_count--;
	return c;
}

static void emit(struct vuart *u, vuart_line_fn fn, void *ctx, bool continued)
{
	u->line[u->len] = '\0';
	if (fn)
		fn(ctx, u->line, continued);
	u->len = 0;
	u->line[0] = '\0';
}

/* Makes room for n more characters, flushing a continued piece if needed. */
static void reserve(struct vuart *u, unsigned int n, vuart_line_fn fn, void *ctx)
{
	if (u->len + n > VUART_LINE_MAX)
		emit(u, fn, ctx, true);
}

static void put_char(struct vuart *u, uint8_t c, vuart_line_fn fn, void *ctx)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '\r')
		return;
	if (c == '\n') {
		emit(u, fn, ctx, false);
		return;
	}
	if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
		reserve(u, 1, fn, ctx);
		u->line[u->len++] = (char)c;
	} else {
		/*
		 * Control characters (ESC first of all), DEL and bytes >= 0x80
		 * could drive the host terminal; show them as text instead.
		 * The escape is never split across pieces.
		 */
		reserve(u, ESCAPE_LEN, fn, ctx);
		u->line[u->len++] = '\\';
		u->line[u->len++] = 'x';
		u->line[u->len++] = hex[c >> 4];
		u->line[u->len++] = hex[c & 0xf];
	}
	u->line[u->len] = '\0';
}

uint8_t vuart_read(struct vuart *u, unsigned int offset)
{
	bool dlab = u->lcr & VUART_LCR_DLAB;
	uint8_t val;

	switch (offset) {
	case VUART_RBR:
		return dlab ? u->dll : rx_pop(u);
	case VUART_IER:
		return dlab ? u->dlm : u->ier;
	case VUART_IIR:
		/* We never raise an interrupt, so bits 1-3 stay 0. */
		return VUART_IIR_NO_INT | ((u->fcr & VUART_FCR_ENABLE) ? VUART_IIR_FIFO : 0);
	case VUART_LCR:
		return u->lcr;
	case VUART_MCR:
		return u->mcr;
	case VUART_LSR:
		/*
		 * We transmit instantly, so THRE and TEMT are always set.
		 * Reading LSR clears the error bits. Bit 7 (error in RX FIFO)
		 * counts only parity, framing and break errors, which a
		 * loopback cannot produce.
		 */
		val = VUART_LSR_THRE | VUART_LSR_TEMT | u->lsr_err;
		if (u->rx_count)
			val |= VUART_LSR_DR;
		u->lsr_err = 0;
		return val;
	case VUART_MSR:
		/* Reading MSR clears the delta bits. */
		val = msr_inputs(u) | u->msr_delta;
		u->msr_delta = 0;
		return val;
	case VUART_SCR:
		return u->scr;
	default:
		return 0xff;
	}
}

void vuart_write(struct vuart *u, unsigned int offset, uint8_t val, vuart_line_fn fn, void *ctx)
{
	bool dlab = u->lcr & VUART_LCR_DLAB;
	uint8_t before;

	switch (offset) {
	case VUART_THR:
		if (dlab) {
			u->dll = val;
		} else if (loopback(u)) {
			/*
			 * Datasheet, MCR bit 4: the transmitter output is looped
			 * back to the receiver and the serial output is held
			 * marking, so nothing reaches the console.
			 */
			rx_push(u, val);
		} else {
			put_char(u, val, fn, ctx);
		}
		break;
	case VUART_IER:
		if (dlab)
			u->dlm = val;
		else
			u->ier = val & VUART_IER_MASK;
		break;
	case VUART_FCR:
		/*
		 * Datasheet, FCR: the other bits are only programmed while
		 * bit 0 is set, and switching between FIFO and 16450 mode
		 * clears the FIFOs. The clear bits are self-clearing; our TX
		 * side is always empty.
		 */
		if (!(val & VUART_FCR_ENABLE)) {
			if (u->fcr & VUART_FCR_ENABLE)
				rx_clear(u);
			u->fcr = 0;
			break;
		}
		if (!(u->fcr & VUART_FCR_ENABLE) || (val & VUART_FCR_CLR_RX))
			rx_clear(u);
		u->fcr = val & VUART_FCR_KEEP;
		break;
	case VUART_LCR:
		u->lcr = val;
		break;
	case VUART_MCR:
		before = msr_inputs(u);
		u->mcr = val & VUART_MCR_MASK;
		msr_track(u, before, msr_inputs(u));
		break;
	case VUART_SCR:
		u->scr = val;
		break;
	default:
		/* LSR and MSR writes are for factory testing only: ignored. */
		break;
	}
}

void vuart_flush(struct vuart *u, vuart_line_fn fn, void *ctx)
{
	if (u->len)
		emit(u, fn, ctx, false);
}
