/* host-test-sources: kernel/vuart.c */
/*
 * Host unit tests for the emulated 16550: register reset values and
 * writable bits, the line-buffered console output with its escaping and
 * splitting, and the loopback path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vuart.h"

#define MAX_LINES 16

/* What the line callback saw. */
struct sink {
	unsigned int n;
	char line[MAX_LINES][VUART_LINE_MAX + 1];
	bool continued[MAX_LINES];
};

static void sink_fn(void *ctx, const char *line, bool continued)
{
	struct sink *s = ctx;

	assert_true(s->n < MAX_LINES);
	assert_true(strlen(line) <= VUART_LINE_MAX);
	strcpy(s->line[s->n], line);
	s->continued[s->n] = continued;
	s->n++;
}

struct fixture {
	struct vuart u;
	struct sink s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	vuart_init(&f->u);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void out(struct fixture *f, unsigned int offset, uint8_t val)
{
	vuart_write(&f->u, offset, val, sink_fn, &f->s);
}

static void puts_uart(struct fixture *f, const char *str)
{
	while (*str)
		out(f, VUART_THR, (uint8_t)*str++);
}

static void test_reset_values(void **state)
{
	struct fixture *f = *state;
	struct vuart *u = &f->u;

	/* Fill the struct with junk first: init must not depend on prior contents. */
	memset(u, 0xa5, sizeof(*u));
	vuart_init(u);
	assert_int_equal(vuart_read(u, VUART_RBR), 0);
	assert_int_equal(vuart_read(u, VUART_IER), 0);
	assert_int_equal(vuart_read(u, VUART_IIR), 0x01);
	assert_int_equal(vuart_read(u, VUART_LCR), 0);
	assert_int_equal(vuart_read(u, VUART_MCR), 0);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x60);
	assert_int_equal(vuart_read(u, VUART_MSR), 0xb0);
	assert_int_equal(vuart_read(u, VUART_SCR), 0);
	out(f, VUART_LCR, VUART_LCR_DLAB);
	assert_int_equal(vuart_read(u, VUART_DLL), 1);
	assert_int_equal(vuart_read(u, VUART_DLM), 0);
	assert_int_equal(u->len, 0);
	assert_string_equal(u->line, "");
}

static void test_writable_bits(void **state)
{
	struct fixture *f = *state;
	struct vuart *u = &f->u;

	out(f, VUART_IER, 0xff);
	assert_int_equal(vuart_read(u, VUART_IER), 0x0f);
	out(f, VUART_IER, 0x05);
	assert_int_equal(vuart_read(u, VUART_IER), 0x05);
	out(f, VUART_LCR, 0x7f);
	assert_int_equal(vuart_read(u, VUART_LCR), 0x7f);
	out(f, VUART_LCR, 0x03);
	assert_int_equal(vuart_read(u, VUART_LCR), 0x03);
	out(f, VUART_MCR, 0xef); /* everything but loopback */
	assert_int_equal(vuart_read(u, VUART_MCR), 0x0f);
	out(f, VUART_MCR, 0x00);
	assert_int_equal(vuart_read(u, VUART_MCR), 0);
	out(f, VUART_SCR, 0x5a);
	assert_int_equal(vuart_read(u, VUART_SCR), 0x5a);
	out(f, VUART_SCR, 0xa5);
	assert_int_equal(vuart_read(u, VUART_SCR), 0xa5);
	/* LSR and MSR are read-only for us. */
	out(f, VUART_LSR, 0x00);
	out(f, VUART_MSR, 0x0f);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x60);
	assert_int_equal(vuart_read(u, VUART_MSR), 0xb0);
	/* No interrupt is ever pending, whatever IER says. */
	out(f, VUART_IER, 0x0f);
	puts_uart(f, "x\n");
	assert_int_equal(vuart_read(u, VUART_IIR), 0x01);
	assert_int_equal(f->s.n, 1);
}

static void test_dlab(void **state)
{
	struct fixture *f = *state;
	struct vuart *u = &f->u;

	out(f, VUART_IER, 0x03);
	out(f, VUART_LCR, VUART_LCR_DLAB | 0x03);
	out(f, VUART_DLL, 0x0c);
	out(f, VUART_DLM, 0x34);
	assert_int_equal(vuart_read(u, VUART_DLL), 0x0c);
	assert_int_equal(vuart_read(u, VUART_DLM), 0x34);
	/* The divisor writes produced no output and left IER alone. */
	out(f, VUART_LCR, 0x03);
	assert_int_equal(vuart_read(u, VUART_IER), 0x03);
	assert_int_equal(u->len, 0);
	vuart_flush(u, sink_fn, &f->s);
	assert_int_equal(f->s.n, 0);
	/* And the divisor survives DLAB = 0 traffic. */
	puts_uart(f, "a");
	out(f, VUART_LCR, VUART_LCR_DLAB);
	assert_int_equal(vuart_read(u, VUART_DLL), 0x0c);
	assert_int_equal(vuart_read(u, VUART_DLM), 0x34);
	out(f, VUART_LCR, 0);
	assert_string_equal(u->line, "a");
}

static void test_fcr_iir(void **state)
{
	struct fixture *f = *state;
	struct vuart *u = &f->u;

	out(f, VUART_FCR, 0xc7); /* enable, clear both, 14-byte trigger */
	assert_int_equal(vuart_read(u, VUART_IIR), 0xc1);
	assert_int_equal(u->fcr, 0xc1);
	out(f, VUART_FCR, 0x09); /* DMA mode, keeps FIFOs on */
	assert_int_equal(vuart_read(u, VUART_IIR), 0xc1);
	assert_int_equal(u->fcr, 0x09);
	/* Without bit 0 nothing else is programmed and the FIFOs go off. */
	out(f, VUART_FCR, 0xc8);
	assert_int_equal(vuart_read(u, VUART_IIR), 0x01);
	assert_int_equal(u->fcr, 0);
	out(f, VUART_FCR, 0x00);
	assert_int_equal(vuart_read(u, VUART_IIR), 0x01);
}

static void test_simple_lines(void **state)
{
	struct fixture *f = *state;

	puts_uart(f, "hello, world\r\n");
	puts_uart(f, "\n");
	puts_uart(f, "a\tb\r\r\n");
	assert_int_equal(f->s.n, 3);
	assert_string_equal(f->s.line[0], "hello, world");
	assert_false(f->s.continued[0]);
	assert_string_equal(f->s.line[1], "");
	assert_false(f->s.continued[1]);
	assert_string_equal(f->s.line[2], "a\tb");
	assert_false(f->s.continued[2]);
	/* LSR says "empty" all along: polled output never waits. */
	assert_int_equal(vuart_read(&f->u, VUART_LSR) & 0x60, 0x60);
}

static void test_flush(void **state)
{
	struct fixture *f = *state;

	vuart_flush(&f->u, sink_fn, &f->s);
	assert_int_equal(f->s.n, 0);
	puts_uart(f, "partial");
	assert_int_equal(f->s.n, 0);
	vuart_flush(&f->u, sink_fn, &f->s);
	assert_int_equal(f->s.n, 1);
	assert_string_equal(f->s.line[0], "partial");
	assert_false(f->s.continued[0]);
	vuart_flush(&f->u, sink_fn, &f->s);
	assert_int_equal(f->s.n, 1);
	/* The buffer starts afresh. */
	puts_uart(f, "next\n");
	assert_int_equal(f->s.n, 2);
	assert_string_equal(f->s.line[1], "next");
}

static void test_escapes(void **state)
{
	struct fixture *f = *state;
	static const uint8_t bytes[] = {0x1b, '[',  '2',  'J', 0x00, 0x07,
					0x7f, 0x80, 0xff, '~', ' ',  '\n'};
	unsigned int i;

	for (i = 0; i < sizeof(bytes); i++)
		out(f, VUART_THR, bytes[i]);
	assert_int_equal(f->s.n, 1);
	assert_string_equal(f->s.line[0], "\\x1b[2J\\x00\\x07\\x7f\\x80\\xff~ ");
}

static void test_long_line_split(void **state)
{
	struct fixture *f = *state;
	char expect[VUART_LINE_MAX + 1];
	unsigned int i;

	/* Exactly VUART_LINE_MAX characters is one line, not continued. */
	for (i = 0; i < VUART_LINE_MAX; i++)
		out(f, VUART_THR, (uint8_t)('a' + i % 26));
	out(f, VUART_THR, '\n');
	assert_int_equal(f->s.n, 1);
	assert_int_equal(strlen(f->s.line[0]), VUART_LINE_MAX);
	assert_false(f->s.continued[0]);

	/* 2 * VUART_LINE_MAX + 5 characters: two continued pieces and a tail. */
	for (i = 0; i < 2 * VUART_LINE_MAX + 5; i++)
		out(f, VUART_THR, (uint8_t)('0' + i % 10));
	assert_int_equal(f->s.n, 3);
	out(f, VUART_THR, '\n');
	assert_int_equal(f->s.n, 4);
	for (i = 0; i < VUART_LINE_MAX; i++)
		expect[i] = (char)('0' + i % 10);
	expect[VUART_LINE_MAX] = '\0';
	assert_string_equal(f->s.line[1], expect);
	assert_true(f->s.continued[1]);
	assert_string_equal(f->s.line[2], expect);
	assert_true(f->s.continued[2]);
	assert_string_equal(f->s.line[3], "01234");
	assert_false(f->s.continued[3]);
}

static void test_escape_at_boundary(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	/* 198 characters, then an escape needing 4: the piece is flushed at 198. */
	for (i = 0; i < VUART_LINE_MAX - 2; i++)
		out(f, VUART_THR, 'x');
	out(f, VUART_THR, 0x1b);
	assert_int_equal(f->s.n, 1);
	assert_int_equal(strlen(f->s.line[0]), VUART_LINE_MAX - 2);
	assert_true(f->s.continued[0]);
	out(f, VUART_THR, '\n');
	assert_string_equal(f->s.line[1], "\\x1b");
	assert_false(f->s.continued[1]);

	/* 196 characters plus an escape fit exactly. */
	for (i = 0; i < VUART_LINE_MAX - 4; i++)
		out(f, VUART_THR, 'y');
	out(f, VUART_THR, 0x01);
	assert_int_equal(f->s.n, 2);
	assert_int_equal(f->u.len, VUART_LINE_MAX);
	assert_int_equal(f->u.line[VUART_LINE_MAX], '\0');
	vuart_flush(&f->u, sink_fn, &f->s);
	assert_int_equal(f->s.n, 3);
	assert_int_equal(strlen(f->s.line[2]), VUART_LINE_MAX);
	assert_string_equal(f->s.line[2] + VUART_LINE_MAX - 4, "\\x01");
}

static void test_null_callback(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	for (i = 0; i < 3 * VUART_LINE_MAX; i++)
		vuart_write(&f->u, VUART_THR, 'z', NULL, NULL);
	vuart_write(&f->u, VUART_THR, '\n', NULL, NULL);
	assert_int_equal(f->u.len, 0);
	vuart_write(&f->u, VUART_THR, 'q', NULL, NULL);
	vuart_flush(&f->u, NULL, NULL);
	assert_int_equal(f->u.len, 0);
}

static void test_bad_offsets(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vuart_read(&f->u, 8), 0xff);
	assert_int_equal(vuart_read(&f->u, 0x3f8), 0xff);
	out(f, 8, 'a');
	out(f, 100, 'b');
	assert_int_equal(f->u.len, 0);
	assert_int_equal(vuart_read(&f->u, VUART_SCR), 0);
}

/* Linux-style probing: loopback with RTS and OUT2 must read back CTS and DCD. */
static void test_loopback_msr(void **state)
{
	struct fixture *f = *state;
	struct vuart *u = &f->u;

	out(f, VUART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT2 | VUART_MCR_RTS);
	/* CTS stays, DSR drops, DCD stays: only DSR changed. */
	assert_int_equal(vuart_read(u, VUART_MSR), 0x90 | VUART_MSR_DDSR);
	assert_int_equal(vuart_read(u, VUART_MSR), 0x90);
	out(f, VUART_MCR, VUART_MCR_LOOP | VUART_MCR_DTR | VUART_MCR_OUT1);
	assert_int_equal(vuart_read(u, VUART_MSR), VUART_MSR_DSR | VUART_MSR_RI | VUART_MSR_DCTS |
						       VUART_MSR_DDSR | VUART_MSR_DDCD);
	/* RI going away is a trailing edge; RI arriving is not. */
	out(f, VUART_MCR, VUART_MCR_LOOP | VUART_MCR_DTR);
	assert_int_equal(vuart_read(u, VUART_MSR), VUART_MSR_DSR | VUART_MSR_TERI);
	out(f, VUART_MCR, VUART_MCR_LOOP | VUART_MCR_DTR | VUART_MCR_OUT1);
	assert_int_equal(vuart_read(u, VUART_MSR), VUART_MSR_DSR | VUART_MSR_RI);
	/* Writing the same value changes nothing. */
	out(f, VUART_MCR, VUART_MCR_LOOP | VUART_MCR_DTR | VUART_MCR_OUT1);
	assert_int_equal(vuart_read(u, VUART_MSR), VUART_MSR_DSR | VUART_MSR_RI);
	/* All four outputs map onto all four inputs. */
	out(f, VUART_MCR, VUART_MCR_LOOP | 0x0f);
	assert_int_equal(vuart_read(u, VUART_MSR) & 0xf0, 0xf0);
	out(f, VUART_MCR, VUART_MCR_LOOP);
	assert_int_equal(vuart_read(u, VUART_MSR),
			 VUART_MSR_DCTS | VUART_MSR_DDSR | VUART_MSR_TERI | VUART_MSR_DDCD);
	/* Leaving loopback reconnects the always-ready host side. */
	out(f, VUART_MCR, 0);
	assert_int_equal(vuart_read(u, VUART_MSR),
			 0xb0 | VUART_MSR_DCTS | VUART_MSR_DDSR | VUART_MSR_DDCD);
	assert_int_equal(vuart_read(u, VUART_MSR), 0xb0);
}

static void test_loopback_data(void **state)
{
	struct fixture *f = *state;
	struct vuart *u = &f->u;

	out(f, VUART_MCR, VUART_MCR_LOOP);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x60);
	out(f, VUART_THR, 0x55);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x61);
	assert_int_equal(vuart_read(u, VUART_RBR), 0x55);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x60);
	assert_int_equal(vuart_read(u, VUART_RBR), 0);
	/* Without FIFOs a second byte overwrites the first and flags an overrun. */
	out(f, VUART_THR, 'a');
	out(f, VUART_THR, 'b');
	assert_int_equal(vuart_read(u, VUART_LSR), 0x63);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x61); /* OE cleared by the read */
	assert_int_equal(vuart_read(u, VUART_RBR), 'b');
	assert_int_equal(vuart_read(u, VUART_LSR), 0x60);
	/* Nothing sent in loopback reached the console. */
	out(f, VUART_THR, '\n');
	vuart_read(u, VUART_RBR);
	vuart_flush(u, sink_fn, &f->s);
	assert_int_equal(f->s.n, 0);
	assert_int_equal(u->len, 0);
	/* Received data stays readable after loopback ends; output goes to the console again. */
	out(f, VUART_THR, 'k');
	out(f, VUART_MCR, 0);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x61);
	puts_uart(f, "out\n");
	assert_int_equal(vuart_read(u, VUART_RBR), 'k');
	assert_int_equal(f->s.n, 1);
	assert_string_equal(f->s.line[0], "out");
}

static void test_loopback_fifo(void **state)
{
	struct fixture *f = *state;
	struct vuart *u = &f->u;
	unsigned int i;

	out(f, VUART_FCR, VUART_FCR_ENABLE);
	out(f, VUART_MCR, VUART_MCR_LOOP);
	for (i = 0; i < VUART_RX_FIFO_SIZE + 2; i++)
		out(f, VUART_THR, (uint8_t)(0x30 + i));
	assert_int_equal(vuart_read(u, VUART_LSR), 0x63);
	/* The FIFO kept the first 16 bytes; the later ones were lost. */
	for (i = 0; i < VUART_RX_FIFO_SIZE; i++) {
		assert_int_equal(vuart_read(u, VUART_LSR) & VUART_LSR_DR, VUART_LSR_DR);
		assert_int_equal(vuart_read(u, VUART_RBR), 0x30 + i);
	}
	assert_int_equal(vuart_read(u, VUART_LSR), 0x60);
	/* Wrap around the ring. */
	for (i = 0; i < 10; i++)
		out(f, VUART_THR, (uint8_t)i);
	for (i = 0; i < 10; i++)
		assert_int_equal(vuart_read(u, VUART_RBR), i);
	/* FCR bit 1 clears the receive FIFO. */
	out(f, VUART_THR, 1);
	out(f, VUART_THR, 2);
	out(f, VUART_FCR, VUART_FCR_ENABLE | VUART_FCR_CLR_RX);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x60);
	/* Re-writing FCR with bit 0 but no clear bit keeps the data. */
	out(f, VUART_THR, 3);
	out(f, VUART_FCR, VUART_FCR_ENABLE | VUART_FCR_CLR_TX);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x61);
	/* Leaving FIFO mode clears it. */
	out(f, VUART_FCR, 0);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x60);
	/* So does entering it. */
	out(f, VUART_THR, 4);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x61);
	out(f, VUART_FCR, VUART_FCR_ENABLE);
	assert_int_equal(vuart_read(u, VUART_LSR), 0x60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writable_bits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dlab, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fcr_iir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_simple_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escape_at_boundary, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_null_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_offsets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loopback_msr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loopback_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loopback_fifo, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
