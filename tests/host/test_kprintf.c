/* host-test-sources: kernel/kprintf.c */
/*
 * Host unit tests for kernel/kprintf.c. Most expectations go through
 * EXPECT_FMT, which checks ksnprintf's text and return value and also runs
 * kvformat with a counting sink, so every case checks that the sink was
 * called exactly as many times as the return value says.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/kprintf.h"

/* Intentionally odd formats are wrapped in these so -Wformat stays on elsewhere. */
/* clang-format off */
#define ODD_FORMATS_BEGIN						\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wformat\"")			\
	_Pragma("GCC diagnostic ignored \"-Wformat-extra-args\"")	\
	_Pragma("GCC diagnostic ignored \"-Wformat-zero-length\"")	\
	_Pragma("GCC diagnostic ignored \"-Wformat-overflow\"")
/* clang-format on */
#define ODD_FORMATS_END _Pragma("GCC diagnostic pop")

/* Big enough for the clamped 4096-wide fields plus a little text. */
#define OUT_MAX 8192

struct count_sink {
	char text[OUT_MAX];
	size_t calls;
};

static void count_sink_put(void *ctx, char c)
{
	struct count_sink *cs = ctx;

	if (cs->calls < sizeof(cs->text))
		cs->text[cs->calls] = c;
	cs->calls++;
}

static int format_via_kvformat(struct count_sink *cs, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvformat(count_sink_put, cs, fmt, ap);
	va_end(ap);
	return n;
}

static int format_via_kvsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * The expected text is compared with memcmp over the returned length, so
 * cases that emit a NUL through %c are checked too.
 */
static void check_output(const char *expect, size_t expect_len, int ret, const char *got,
			 const struct count_sink *cs, int sink_ret, const char *file, int line)
{
	_assert_int_equal(ret, expect_len, file, line);
	_assert_int_equal(sink_ret, expect_len, file, line);
	_assert_int_equal(cs->calls, expect_len, file, line);
	_assert_int_equal(got[expect_len], '\0', file, line);
	if (memcmp(got, expect, expect_len) != 0 || memcmp(cs->text, expect, expect_len) != 0) {
		print_error("expected \"%.*s\", got \"%.*s\"\n", (int)expect_len, expect,
			    (int)expect_len, got);
		_fail(file, line);
	}
}

#define EXPECT_FMT_LEN(expect, len, ...)                                                           \
	do {                                                                                       \
		static char got_[OUT_MAX];                                                         \
		static struct count_sink cs_;                                                      \
		int ret_ = ksnprintf(got_, sizeof(got_), __VA_ARGS__);                             \
		int sink_ret_;                                                                     \
		cs_.calls = 0;                                                                     \
		sink_ret_ = format_via_kvformat(&cs_, __VA_ARGS__);                                \
		check_output((expect), (len), ret_, got_, &cs_, sink_ret_, __FILE__, __LINE__);    \
	} while (0)
#define EXPECT_FMT(expect, ...) EXPECT_FMT_LEN(expect, strlen(expect), __VA_ARGS__)

static void test_plain_text(void **state)
{
	(void)state;
	EXPECT_FMT("hello, world", "hello, world");
	ODD_FORMATS_BEGIN
	EXPECT_FMT("", "");
	ODD_FORMATS_END
}

static void test_percent_literal(void **state)
{
	(void)state;
	EXPECT_FMT("100%", "100%%");
	EXPECT_FMT("%%", "%%%%");
	/* C leaves "%3%" undefined; the width is ignored. */
	ODD_FORMATS_BEGIN
	EXPECT_FMT("%", "%3%");
	ODD_FORMATS_END
}

static void test_string(void **state)
{
	(void)state;
	EXPECT_FMT("[abc]", "[%s]", "abc");
	EXPECT_FMT("[  abc]", "[%5s]", "abc");
	EXPECT_FMT("[abc  ]", "[%-5s]", "abc");
	EXPECT_FMT("[abcdef]", "[%3s]", "abcdef");
	EXPECT_FMT("[]", "[%s]", "");
}

static void test_string_precision(void **state)
{
	/* Not NUL-terminated: ASan flags any read past the precision. */
	static const char bounded[3] = {'x', 'y', 'z'};

	(void)state;
	EXPECT_FMT("ab", "%.2s", "abcdef");
	EXPECT_FMT("   ab", "%5.2s", "abcdef");
	EXPECT_FMT("abc", "%.*s", 3, "abcdef");
	EXPECT_FMT("xyz", "%.3s", bounded);
	EXPECT_FMT("xy", "%.*s", 2, bounded);
	EXPECT_FMT("", "%.0s", "abc");
	EXPECT_FMT("", "%.s", "abc");
	/* A negative '*' precision is no precision at all. */
	EXPECT_FMT("abcdef", "%.*s", -1, "abcdef");
	/* A '*' precision only bounds reading, so it is not clamped. */
	EXPECT_FMT("abcdef", "%.*s", 1 << 20, "abcdef");
}

static void test_string_null(void **state)
{
	(void)state;
	ODD_FORMATS_BEGIN
	EXPECT_FMT("(null)", "%s", (char *)NULL);
	EXPECT_FMT("  (null)", "%8s", (char *)NULL);
	EXPECT_FMT("(nu", "%.3s", (char *)NULL);
	ODD_FORMATS_END
}

static void test_char(void **state)
{
	(void)state;
	EXPECT_FMT("x", "%c", 'x');
	EXPECT_FMT("  x", "%3c", 'x');
	EXPECT_FMT("x  |", "%-3c|", 'x');
	/* A NUL from %c is emitted and counted like any other character. */
	EXPECT_FMT_LEN("a\0b", 3, "a%cb", 0);
}

static void test_signed_decimal(void **state)
{
	(void)state;
	EXPECT_FMT("0", "%d", 0);
	EXPECT_FMT("42", "%d", 42);
	EXPECT_FMT("-42", "%d", -42);
	EXPECT_FMT("-42", "%i", -42);
	EXPECT_FMT("2147483647", "%d", INT_MAX);
	EXPECT_FMT("-2147483648", "%d", INT_MIN);
}

static void test_signed_extremes(void **state)
{
	(void)state;
	EXPECT_FMT("-9223372036854775808", "%ld", LONG_MIN);
	EXPECT_FMT("9223372036854775807", "%ld", LONG_MAX);
	EXPECT_FMT("-9223372036854775808", "%lld", LLONG_MIN);
	EXPECT_FMT("9223372036854775807", "%lli", LLONG_MAX);
	EXPECT_FMT("[-9223372036854775808 ]", "[%-21lld]", LLONG_MIN);
	EXPECT_FMT("-09223372036854775808", "%021lld", LLONG_MIN);
}

static void test_size_t(void **state)
{
	(void)state;
	EXPECT_FMT("18446744073709551615", "%zu", SIZE_MAX);
	EXPECT_FMT("ffffffffffffffff", "%zx", SIZE_MAX);
	/* %zd takes a long, the signed type of size_t's width. */
	ODD_FORMATS_BEGIN
	EXPECT_FMT("-5", "%zd", (long)-5);
	EXPECT_FMT("-9223372036854775808", "%zd", LONG_MIN);
	ODD_FORMATS_END
}

static void test_unsigned(void **state)
{
	(void)state;
	EXPECT_FMT("0", "%u", 0u);
	EXPECT_FMT("4294967295", "%u", UINT_MAX);
	EXPECT_FMT("18446744073709551615", "%lu", ULONG_MAX);
	EXPECT_FMT("18446744073709551615", "%llu", ULLONG_MAX);
}

static void test_hex(void **state)
{
	(void)state;
	EXPECT_FMT("0", "%x", 0u);
	EXPECT_FMT("deadbeef", "%x", 0xdeadbeefu);
	EXPECT_FMT("DEADBEEF", "%X", 0xdeadbeefu);
	EXPECT_FMT("00c0ffee", "%08x", 0xc0ffeeu);
	EXPECT_FMT("fffffffffffffffe", "%lx", ULONG_MAX - 1);
	EXPECT_FMT("FEDCBA9876543210", "%llX", 0xfedcba9876543210ull);
}

static void test_short_lengths(void **state)
{
	(void)state;
	/* Promoted ints are truncated back to char and short, as C does. */
	ODD_FORMATS_BEGIN
	EXPECT_FMT("44", "%hhd", 300);
	EXPECT_FMT("-56", "%hhd", 200);
	EXPECT_FMT("200", "%hhu", 200);
	EXPECT_FMT("ff", "%hhx", -1);
	EXPECT_FMT("4464", "%hd", 70000);
	EXPECT_FMT("-1", "%hi", 65535);
	EXPECT_FMT("65535", "%hu", -1);
	EXPECT_FMT("FFFF", "%hX", -1);
	ODD_FORMATS_END
}

static void test_pointer(void **state)
{
	(void)state;
	EXPECT_FMT("0x0000000000000000", "%p", (void *)NULL);
	EXPECT_FMT("0xffff800000001000", "%p", (void *)0xffff800000001000ull);
	EXPECT_FMT("0x00000000deadbeef", "%p", (void *)0xdeadbeefull);
	EXPECT_FMT("[  0x0000000000000001]", "[%20p]", (void *)1);
	EXPECT_FMT("[0x0000000000000001  ]", "[%-20p]", (void *)1);
	/* The fixed 16 digits act as a precision, which turns off '0' padding. */
	ODD_FORMATS_BEGIN
	EXPECT_FMT("[  0x0000000000000001]", "[%020p]", (void *)1);
	ODD_FORMATS_END
}

static void test_zero_and_left_flags(void **state)
{
	(void)state;
	EXPECT_FMT("00042", "%05d", 42);
	EXPECT_FMT("-0042", "%05d", -42);
	EXPECT_FMT("[42   ]", "[%-5d]", 42);
	EXPECT_FMT("0", "%01d", 0);
	EXPECT_FMT("00000", "%05u", 0u);
	EXPECT_FMT("-42", "%02d", -42);
	/* '-' wins over '0', in either order. */
	ODD_FORMATS_BEGIN
	EXPECT_FMT("[-42  ]", "[%-05d]", -42);
	EXPECT_FMT("[-42  ]", "[%0-5d]", -42);
	ODD_FORMATS_END
}

static void test_integer_precision(void **state)
{
	(void)state;
	EXPECT_FMT("007", "%.3d", 7);
	EXPECT_FMT("-007", "%.3d", -7);
	EXPECT_FMT("", "%.0d", 0);
	EXPECT_FMT("   ", "%3.0u", 0u);
	EXPECT_FMT("  0ff", "%5.3x", 0xffu);
	/* As in C, a precision turns '0' padding off. */
	ODD_FORMATS_BEGIN
	EXPECT_FMT("  007", "%05.3d", 7);
	ODD_FORMATS_END
}

static void test_star_width(void **state)
{
	(void)state;
	EXPECT_FMT("[   42]", "[%*d]", 5, 42);
	EXPECT_FMT("[42   ]", "[%*d]", -5, 42);
	EXPECT_FMT("[  ab]", "[%*.*s]", 4, 2, "abcdef");
	EXPECT_FMT("[ab  ]", "[%-*s]", 4, "ab");
	EXPECT_FMT("[0042]", "[%0*d]", 4, 42);
	EXPECT_FMT("[42]", "[%*d]", 0, 42);
	/* A negative '*' precision is none, so '0' padding still applies. */
	ODD_FORMATS_BEGIN
	EXPECT_FMT("[00042]", "[%0*.*d]", 5, -1, 42);
	ODD_FORMATS_END
}

static void test_width_clamp(void **state)
{
	char expect[4097];

	(void)state;
	memset(expect, ' ', 4095);
	expect[4095] = '7';
	expect[4096] = '\0';
	/* Overlong fields stop at 4096 rather than overflowing int. */
	ODD_FORMATS_BEGIN
	EXPECT_FMT(expect, "%99999999999999999999999d", 7);
	EXPECT_FMT(expect, "%*d", 1 << 30, 7);
	ODD_FORMATS_END
	/* INT_MIN has no int magnitude; it becomes a clamped left-aligned width. */
	memmove(expect, expect + 4095, 1);
	memset(expect + 1, ' ', 4095);
	ODD_FORMATS_BEGIN
	EXPECT_FMT(expect, "%*d", INT_MIN, 7);
	ODD_FORMATS_END
	memset(expect, '0', 4095);
	expect[4095] = '7';
	EXPECT_FMT(expect, "%.*d", 1 << 30, 7);
	ODD_FORMATS_BEGIN
	EXPECT_FMT(expect, "%.99999999999999999999u", 7u);
	ODD_FORMATS_END
}

static void test_unknown_conversion(void **state)
{
	(void)state;
	ODD_FORMATS_BEGIN
	EXPECT_FMT("%q", "%q");
	/* The argument meant for %d is still there: unknowns read nothing. */
	EXPECT_FMT("%q 5", "%q %d", 5);
	EXPECT_FMT("%-08.3lq 5", "%-08.3lq %d", 5);
	EXPECT_FMT("%*q 7", "%*q %d", 7);
	EXPECT_FMT("%.*w 7", "%.*w %d", 7);
	EXPECT_FMT("%+d 3", "%+d %d", 3);
	EXPECT_FMT("%#x", "%#x");
	EXPECT_FMT("%n", "%n");
	EXPECT_FMT("%hhhd", "%hhhd");
	EXPECT_FMT("%lllu", "%lllu");
	ODD_FORMATS_END
}

static void test_trailing_percent(void **state)
{
	(void)state;
	ODD_FORMATS_BEGIN
	EXPECT_FMT("%", "%");
	EXPECT_FMT("abc%", "abc%");
	EXPECT_FMT("%5", "%5");
	EXPECT_FMT("%-0", "%-0");
	EXPECT_FMT("%l", "%l");
	EXPECT_FMT("%ll", "%ll");
	EXPECT_FMT("%hh", "%hh");
	EXPECT_FMT("%z", "%z");
	EXPECT_FMT("%.*", "%.*");
	ODD_FORMATS_END
}

enum arg_kind {
	ARG_INT,
	ARG_UINT,
	ARG_LONG,
	ARG_ULONG,
	ARG_LLONG,
	ARG_ULLONG,
	ARG_SIZE,
	ARG_STR,
	ARG_CHAR
};

struct host_case {
	const char *fmt;
	enum arg_kind kind;
};

/* Formats whose meaning is the same in ksnprintf and glibc's snprintf. */
static const struct host_case host_cases[] = {
    {"%d", ARG_INT},	    {"%i", ARG_INT},	   {"<%7d>", ARG_INT},
    {"<%-7d>", ARG_INT},    {"<%07d>", ARG_INT},   {"%.4d", ARG_INT},
    {"<%9.4d>", ARG_INT},   {"<%-9.4d>", ARG_INT}, {"%.0d", ARG_INT},
    {"%hd", ARG_INT},	    {"%hhd", ARG_INT},	   {"%u", ARG_UINT},
    {"%x", ARG_UINT},	    {"%X", ARG_UINT},	   {"<%012x>", ARG_UINT},
    {"<%-12X>", ARG_UINT},  {"%.0x", ARG_UINT},	   {"%hu", ARG_UINT},
    {"%hhx", ARG_UINT},	    {"%ld", ARG_LONG},	   {"<%25ld>", ARG_LONG},
    {"<%025li>", ARG_LONG}, {"%lu", ARG_ULONG},	   {"%lx", ARG_ULONG},
    {"%.20lX", ARG_ULONG},  {"%lld", ARG_LLONG},   {"<%-22lld>", ARG_LLONG},
    {"%llu", ARG_ULLONG},   {"%llx", ARG_ULLONG},  {"<%018llX>", ARG_ULLONG},
    {"%zu", ARG_SIZE},	    {"%zx", ARG_SIZE},	   {"%s", ARG_STR},
    {"<%12s>", ARG_STR},    {"<%-12s>", ARG_STR},  {"%.3s", ARG_STR},
    {"<%8.2s>", ARG_STR},   {"%c", ARG_CHAR},	   {"<%4c>", ARG_CHAR},
    {"<%-4c>", ARG_CHAR},   {"a%%b%c", ARG_INT},
};

static const long long host_ints[] = {0,       1,	 -1,	   9,	     10,
				      -10,     255,	 4096,	   -65536,   INT_MAX,
				      INT_MIN, UINT_MAX, LONG_MAX, LONG_MIN, LLONG_MIN};
static const char *const host_strs[] = {"", "a", "kernel", "0123456789abcdef"};

/*
 * Runs one format with one value through both printers. The value is cast to
 * the type the conversion expects, so both see the same argument.
 */
static void compare_with_host(const struct host_case *hc, long long v, const char *s)
{
	char want[256], got[256];
	int want_n = 0, got_n = 0;

	ODD_FORMATS_BEGIN
	switch (hc->kind) {
	case ARG_INT:
	case ARG_CHAR:
		want_n = snprintf(want, sizeof(want), hc->fmt, (int)v);
		got_n = ksnprintf(got, sizeof(got), hc->fmt, (int)v);
		break;
	case ARG_UINT:
		want_n = snprintf(want, sizeof(want), hc->fmt, (unsigned int)v);
		got_n = ksnprintf(got, sizeof(got), hc->fmt, (unsigned int)v);
		break;
	case ARG_LONG:
		want_n = snprintf(want, sizeof(want), hc->fmt, (long)v);
		got_n = ksnprintf(got, sizeof(got), hc->fmt, (long)v);
		break;
	case ARG_ULONG:
		want_n = snprintf(want, sizeof(want), hc->fmt, (unsigned long)v);
		got_n = ksnprintf(got, sizeof(got), hc->fmt, (unsigned long)v);
		break;
	case ARG_LLONG:
		want_n = snprintf(want, sizeof(want), hc->fmt, v);
		got_n = ksnprintf(got, sizeof(got), hc->fmt, v);
		break;
	case ARG_ULLONG:
		want_n = snprintf(want, sizeof(want), hc->fmt, (unsigned long long)v);
		got_n = ksnprintf(got, sizeof(got), hc->fmt, (unsigned long long)v);
		break;
	case ARG_SIZE:
		want_n = snprintf(want, sizeof(want), hc->fmt, (size_t)v);
		got_n = ksnprintf(got, sizeof(got), hc->fmt, (size_t)v);
		break;
	case ARG_STR:
		want_n = snprintf(want, sizeof(want), hc->fmt, s);
		got_n = ksnprintf(got, sizeof(got), hc->fmt, s);
		break;
	}
	ODD_FORMATS_END
	if (want_n != got_n || memcmp(want, got, (size_t)want_n + 1) != 0) {
		print_error(
		    "format \"%s\" value %lld: snprintf gave \"%s\" (%d), ksnprintf \"%s\" (%d)\n",
		    hc->fmt, v, want, want_n, got, got_n);
		fail();
	}
}

static void test_matches_host_snprintf(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(host_cases) / sizeof(host_cases[0]); i++) {
		const struct host_case *hc = &host_cases[i];

		if (hc->kind == ARG_STR) {
			for (j = 0; j < sizeof(host_strs) / sizeof(host_strs[0]); j++)
				compare_with_host(hc, 0, host_strs[j]);
		} else if (hc->kind == ARG_CHAR) {
			for (j = ' '; j < 127; j++)
				compare_with_host(hc, (long long)j, NULL);
		} else {
			for (j = 0; j < sizeof(host_ints) / sizeof(host_ints[0]); j++)
				compare_with_host(hc, host_ints[j], NULL);
		}
	}
}

static void test_truncation_size_zero(void **state)
{
	char buf[4] = "xyz";

	(void)state;
	/* Size 0 writes nothing at all, so even a NULL buffer is fine. */
	assert_int_equal(ksnprintf(NULL, 0, "value=%d", 1234), 10);
	assert_int_equal(ksnprintf(buf, 0, "value=%d", 1234), 10);
	assert_string_equal(buf, "xyz");
}

static void test_truncation_size_one(void **state)
{
	char buf[4] = "xyz";

	(void)state;
	assert_int_equal(ksnprintf(buf, 1, "value=%d", 1234), 10);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'y');
}

static void test_truncation_exact_fit(void **state)
{
	char buf[12];

	(void)state;
	memset(buf, '#', sizeof(buf));
	assert_int_equal(ksnprintf(buf, 11, "value=%d", 1234), 10);
	assert_string_equal(buf, "value=1234");
	assert_int_equal(buf[11], '#');
}

static void test_truncation_one_short(void **state)
{
	char buf[12];

	(void)state;
	memset(buf, '#', sizeof(buf));
	assert_int_equal(ksnprintf(buf, 10, "value=%d", 1234), 10);
	assert_string_equal(buf, "value=123");
	assert_int_equal(buf[10], '#');
}

static void test_truncation_matches_host(void **state)
{
	char want[32], got[32];
	size_t size;

	(void)state;
	for (size = 0; size <= sizeof(got); size++) {
		int want_n, got_n;

		memset(want, '#', sizeof(want));
		memset(got, '#', sizeof(got));
		want_n = snprintf(want, size, "%s:%-6d|%05x", "id", -17, 0xbeefu);
		got_n = ksnprintf(got, size, "%s:%-6d|%05x", "id", -17, 0xbeefu);
		assert_int_equal(got_n, want_n);
		assert_memory_equal(got, want, sizeof(got));
	}
}

static void test_kvsnprintf(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(format_via_kvsnprintf(buf, sizeof(buf), "%s-%u", "abc", 12345u), 9);
	assert_string_equal(buf, "abc-123");
}

static void test_sink_calls_match_return(void **state)
{
	static struct count_sink cs;
	int n;

	(void)state;
	cs.calls = 0;
	n = format_via_kvformat(&cs, "%s|%5d|%-4c|%p|%%|%llx", "str", -3, 'q', (void *)&cs,
				0x1234567890ull);
	assert_int_equal(n, 3 + 1 + 5 + 1 + 4 + 1 + 18 + 1 + 1 + 1 + 10);
	assert_int_equal(cs.calls, (size_t)n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_text),
	    cmocka_unit_test(test_percent_literal),
	    cmocka_unit_test(test_string),
	    cmocka_unit_test(test_string_precision),
	    cmocka_unit_test(test_string_null),
	    cmocka_unit_test(test_char),
	    cmocka_unit_test(test_signed_decimal),
	    cmocka_unit_test(test_signed_extremes),
	    cmocka_unit_test(test_size_t),
	    cmocka_unit_test(test_unsigned),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_short_lengths),
	    cmocka_unit_test(test_pointer),
	    cmocka_unit_test(test_zero_and_left_flags),
	    cmocka_unit_test(test_integer_precision),
	    cmocka_unit_test(test_star_width),
	    cmocka_unit_test(test_width_clamp),
	    cmocka_unit_test(test_unknown_conversion),
	    cmocka_unit_test(test_trailing_percent),
	    cmocka_unit_test(test_matches_host_snprintf),
	    cmocka_unit_test(test_truncation_size_zero),
	    cmocka_unit_test(test_truncation_size_one),
	    cmocka_unit_test(test_truncation_exact_fit),
	    cmocka_unit_test(test_truncation_one_short),
	    cmocka_unit_test(test_truncation_matches_host),
	    cmocka_unit_test(test_kvsnprintf),
	    cmocka_unit_test(test_sink_calls_match_return),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
