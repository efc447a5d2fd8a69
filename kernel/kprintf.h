/*
 * The kernel's printf formatter: a pure function from a format and arguments to
 * a stream of characters, so consoles, logs and buffers can all share it.
 *
 * Supported: %s %c %d %i %u %x %X %p %%, length modifiers hh h l ll z, flags
 * '-' and '0', a field width (decimal or '*') and a precision ('.N' or '.*';
 * for %s it bounds how many bytes are read, for integers it is the minimum
 * digit count as in C). %s of NULL prints "(null)"; %p prints "0x" and 16 hex
 * digits. Any other directive is printed literally and reads no argument.
 */
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*kfmt_sink)(void *ctx, char c);

/* Formats fmt into sink one character at a time; returns the number of characters emitted. */
int kvformat(kfmt_sink sink, void *ctx, const char *fmt, va_list ap);

/*
 * snprintf semantics: always NUL-terminates when size > 0, returns the length
 * the full output would have had.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
