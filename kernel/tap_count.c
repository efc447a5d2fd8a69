#include "kernel/kstring.h"
#include "kernel/tap_count.h"

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* TAP 13: "ok" or "not ok" must be followed by end of line, space or digit. */
static bool result_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	return strncmp(s, word, n) == 0 && (s[n] == 0 || s[n] == ' ');
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
		/* A directive is introduced by '#' and is case-insensitive (TAP 13). */
		for (const char *h = line; (h = strchr(h, '#')) != 0; h++) {
			const char *d = h + 1;

			while (*d == ' ')
				d++;
			if (!strncmp(d, "SKIP", 4) || !strncmp(d, "skip", 4))
				t->skipped++;
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
