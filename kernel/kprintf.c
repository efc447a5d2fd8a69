/*
 * A printf engine with no state and no calls except the sink, so it works
 * before any console exists and is tested on the host against snprintf.
 */
#include <stdbool.h>
#include <stdint.h>
#include "kernel/kprintf.h"

/*
 * Nothing needs wider fields; the cap keeps parsing from overflowing int and a
 * garbage '*' width from flooding the console. A '*' %s precision is exempt.
 */
#define KFMT_FIELD_MAX 4096

enum kfmt_len { KFMT_LEN_NONE, KFMT_LEN_HH, KFMT_LEN_H, KFMT_LEN_L, KFMT_LEN_LL, KFMT_LEN_Z };

struct kfmt_out {
	kfmt_sink sink;
	void *ctx;
	int count;
};

struct kfmt_spec {
	int width;
	int prec; /* Negative when no precision was given. */
	bool left;
	bool zero;
};

static void put(struct kfmt_out *out, char c)
{
	out->sink(out->ctx, c);
	out->count++;
}

static void put_n(struct kfmt_out *out, char c, int n)
{
	while (n-- > 0)
		put(out, c);
}

static int clamp_field(long long v)
{
	return v > KFMT_FIELD_MAX ? KFMT_FIELD_MAX : (int)v;
}

/* Reads a decimal field, or notes a '*' whose value comes from the arguments. */
static const char *parse_field(const char *p, int *val, bool *star)
{
	long long v = 0;

	*star = *p == '*';
	if (*star)
		return p + 1;
	while (*p >= '0' && *p <= '9')
		v = clamp_field(v * 10 + (*p++ - '0'));
	*val = (int)v;
	return p;
}

/* Bounded strlen: a negative max means unbounded. */
static int bounded_len(const char *s, int max)
{
	int n = 0;

	while ((max < 0 || n < max) && s[n])
		n++;
	return n;
}

/* Lays out prefix, then zeros, then body, padded with spaces to the width. */
static void emit_field(struct kfmt_out *out, const char *prefix, int zeros, const char *body,
		       int len, const struct kfmt_spec *spec)
{
	int plen = bounded_len(prefix, -1), pad = spec->width - plen - zeros - len, i;

	if (!spec->left)
		put_n(out, ' ', pad);
	for (i = 0; i < plen; i++)
		put(out, prefix[i]);
	put_n(out, '0', zeros);
	for (i = 0; i < len; i++)
		put(out, body[i]);
	if (spec->left)
		put_n(out, ' ', pad);
}

/*
 * Prints prefix (a sign or "0x"), then v with at least prec digits. As in C,
 * '0' pads to the width only without a precision, and precision 0 prints no
 * digits for the value 0.
 */
static void emit_number(struct kfmt_out *out, unsigned long long v, unsigned int base, bool upper,
			const char *prefix, const struct kfmt_spec *spec)
{
	const char *xdigits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[20]; /* 2^64 - 1 has 20 decimal digits. */
	int i = sizeof(digits), len, min, fill;

	for (; v; v /= base)
		digits[--i] = xdigits[v % base];
	len = (int)sizeof(digits) - i;
	min = spec->prec < 0 ? 1 : clamp_field(spec->prec);
	fill = spec->width - bounded_len(prefix, -1);
	if (spec->zero && !spec->left && spec->prec < 0 && fill > min)
		min = fill;
	emit_field(out, prefix, min > len ? min - len : 0, digits + i, len, spec);
}

/* Arguments narrower than int arrive as int; h and hh truncate them back. */
static unsigned long long fetch_unsigned(va_list *ap, enum kfmt_len len)
{
	unsigned int v;

	if (len == KFMT_LEN_LL)
		return va_arg(*ap, unsigned long long);
	if (len == KFMT_LEN_L)
		return va_arg(*ap, unsigned long);
	if (len == KFMT_LEN_Z)
		return va_arg(*ap, size_t);
	v = va_arg(*ap, unsigned int);
	return len == KFMT_LEN_HH ? (unsigned char)v : len == KFMT_LEN_H ? (unsigned short)v : v;
}

/* There is no ssize_t here; %zd takes a long, which is size_t's width on x86-64. */
static long long fetch_signed(va_list *ap, enum kfmt_len len)
{
	int v;

	if (len == KFMT_LEN_LL)
		return va_arg(*ap, long long);
	if (len == KFMT_LEN_L || len == KFMT_LEN_Z)
		return va_arg(*ap, long);
	v = va_arg(*ap, int);
	return len == KFMT_LEN_HH ? (signed char)v : len == KFMT_LEN_H ? (short)v : v;
}

/*
 * Formats the directive that starts at the '%' in start and returns where the
 * format resumes. The whole directive is parsed before any '*' argument is
 * read, so an unknown conversion consumes nothing from ap.
 */
static const char *format_one(struct kfmt_out *out, const char *start, va_list *ap)
{
	struct kfmt_spec spec = {.prec = -1};
	enum kfmt_len len = KFMT_LEN_NONE;
	bool width_star, prec_star = false;
	const char *p = start + 1, *known = "scdiuxXp%", *s;
	long long sval;
	int n;
	char c;

	for (; *p == '-' || *p == '0'; p++) {
		spec.left |= *p == '-';
		spec.zero |= *p == '0';
	}
	p = parse_field(p, &spec.width, &width_star);
	if (*p == '.') {
		spec.prec = 0;
		p = parse_field(p + 1, &spec.prec, &prec_star);
	}
	if (*p == 'h' || *p == 'l') {
		bool twice = p[1] == p[0];

		if (*p == 'h')
			len = twice ? KFMT_LEN_HH : KFMT_LEN_H;
		else
			len = twice ? KFMT_LEN_LL : KFMT_LEN_L;
		p += twice ? 2 : 1;
	} else if (*p == 'z') {
		len = KFMT_LEN_Z;
		p++;
	}

	while (*known && *known != *p)
		known++;
	if (!*p || !*known) {
		/* Echo the directive so the bad format shows in the output. */
		n = (int)(p - start) + (*p != '\0');
		emit_field(out, "", 0, start, n, &(struct kfmt_spec){0});
		return start + n;
	}
	if (width_star) {
		/* As in C, a negative '*' width means '-' with its magnitude. */
		n = va_arg(*ap, int);
		spec.left |= n < 0;
		spec.width = clamp_field(n < 0 ? -(long long)n : n);
	}
	/* As in C, a negative '*' precision counts as none: every use tests prec < 0. */
	if (prec_star)
		spec.prec = va_arg(*ap, int);

	switch (*p) {
	case 's':
		s = va_arg(*ap, const char *);
		if (!s)
			s = "(null)";
		/* Never read past the precision: the string may be unterminated. */
		emit_field(out, "", 0, s, bounded_len(s, spec.prec), &spec);
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		emit_field(out, "", 0, &c, 1, &spec);
		break;
	case 'd':
	case 'i':
		sval = fetch_signed(ap, len);
		/* Negate in unsigned arithmetic so LLONG_MIN has a magnitude. */
		emit_number(out, sval < 0 ? -(unsigned long long)sval : (unsigned long long)sval,
			    10, false, sval < 0 ? "-" : "", &spec);
		break;
	case 'u':
	case 'x':
	case 'X':
		emit_number(out, fetch_unsigned(ap, len), *p == 'u' ? 10 : 16, *p == 'X', "",
			    &spec);
		break;
	case 'p':
		/* A fixed 16 digits so addresses line up in dumps. */
		spec.prec = 16;
		emit_number(out, (uintptr_t)va_arg(*ap, void *), 16, false, "0x", &spec);
		break;
	default: /* '%' */
		put(out, '%');
		break;
	}
	return p + 1;
}

int kvformat(kfmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
	struct kfmt_out out = {.sink = sink, .ctx = ctx, .count = 0};
	va_list args;

	/* A copy, because a va_list parameter cannot portably be passed on by address. */
	va_copy(args, ap);
	while (*fmt) {
		if (*fmt == '%')
			fmt = format_one(&out, fmt, &args);
		else
			put(&out, *fmt++);
	}
	va_end(args);
	return out.count;
}

struct kfmt_buf {
	char *buf;
	size_t size;
	size_t pos;
};

/* Counts every character but stores only those that leave room for the NUL. */
static void buf_sink(void *ctx, char c)
{
	struct kfmt_buf *b = ctx;

	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct kfmt_buf b = {.buf = buf, .size = size, .pos = 0};
	int n = kvformat(buf_sink, &b, fmt, ap);

	if (size > 0)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
