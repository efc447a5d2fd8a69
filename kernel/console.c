#include "drivers/uart16550.h"
#include "kernel/console.h"
#include "kernel/kprintf.h"

static void console_sink(void *ctx, char c)
{
	(void)ctx;
	uart_putc(c);
}

void console_init(void)
{
	uart_init(COM1_PORT);
}

int kvprintf(const char *fmt, va_list ap)
{
	return kvformat(console_sink, 0, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}
