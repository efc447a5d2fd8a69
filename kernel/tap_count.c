/*
 * Following a guest's TAP 13 output for nestvisor's verdict on the guest.
 * Stricter than TAP on one point: "not ok # TODO" counts as a failure, as
 * the host runner's rule is "fails on any not ok".
 */
#include "kernel/kstring.h"
#include "kernel/tap_count.h"

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* TAP 13: "ok" or "not ok" is followed by the end of the line or a space. */
static bool result_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	return strncmp(s, word, n) == 0 && (s[n] == 0 || s[n] == ' ');
}

static bool is_skip(const char *d)
{
	static const char skip[] = "skip";

	for (unsigned int i = 0; i < 4; i++)
		if ((d[i] | 0x20) != skip[i])
			return false;
	return true;
}

static bool parse_plan(const char *s, unsigned int *n)
{
	unsigned int v = 0;

	if (!starts_with(s, "1.."))
		return false;
	s += 3;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > 100000)
			return false;
		v = v * 10 + (unsigned int)(*s - '0');
	}
	if (*s && *s != ' ')
		return false;
	*n = v;
	return true;
}

void tap_count_line(struct tap_count *t, const char *line)
{
	unsigned int n;

	if (result_word(line, "ok")) {
		t->ok++;
		/*
		 * TAP 13: the directive follows the first unescaped '#' and is
		 * case-insensitive; only one counts per result.
		 */
		for (const char *h = line; (h = strchr(h, '#')) != 0; h++) {
			const char *d = h + 1;

			if (h > line && h[-1] == '\\')
				continue;
			while (*d == ' ')
				d++;
			if (is_skip(d))
				t->skipped++;
			break;
		}
	} else if (result_word(line, "not ok")) {
		t->not_ok++;
	} else if (starts_with(line, "Bail out!")) {
		t->bailed_out = true;
	} else if (!t->have_plan && parse_plan(line, &n)) {
		t->have_plan = true;
		t->planned = n;
	}
}

bool tap_count_clean(const struct tap_count *t)
{
	return t->have_plan && !t->bailed_out && !t->not_ok && t->ok == t->planned;
}
