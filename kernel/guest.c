/*
 * Guest lifecycle: options from the module string, private RAM, the image
 * loaded as a multiboot loader would, nested page tables, the vCPU, and at
 * the end one TAP line with how the guest ended and its own TAP counts.
 * Everything a guest was given is scrubbed and returned afterwards.
 */
#include <stdarg.h>
#include "arch/x86/cpu.h"
#include "arch/x86/svm/npt.h"
#include "arch/x86/svm/svm.h"
#include "kernel/boot.h"
#include "kernel/console.h"
#include "kernel/guest.h"
#include "kernel/kprintf.h"
#include "kernel/kstring.h"
#include "kernel/tap.h"
#include "kernel/time.h"

#define GUEST_MEM_DEFAULT    (32ull << 20)
#define GUEST_BUDGET_DEFAULT 60000 /* ms */
#define GUEST_RAM_ALIGN	     (2ull << 20)

static const char *const end_names[NR_GUEST_ENDS] = {
    [GUEST_RUNNING] = "running", [GUEST_EXITED] = "exit",     [GUEST_SHUTDOWN] = "shutdown",
    [GUEST_TIMEOUT] = "timeout", [GUEST_REFUSED] = "refused", [GUEST_NPF] = "npf",
    [GUEST_HALTED] = "halt",	 [GUEST_STOPPED] = "stopped",
};

void guest_stop(struct guest *g, enum guest_end end, const char *fmt, ...)
{
	va_list ap;

	if (g->end != GUEST_RUNNING)
		return;
	g->end = end;
	g->vcpu.stopped = true;
	va_start(ap, fmt);
	kvsnprintf(g->reason, sizeof(g->reason), fmt, ap);
	va_end(ap);
}

void guest_console_line(void *ctx, const char *line, bool continued)
{
	struct guest *g = ctx;

	kprintf("[%s] %s%s\n", g->name, line, continued ? " \\" : "");
	/* A long line arrives in pieces: its TAP keyword is at the start of the first. */
	if (!g->line_continues)
		tap_count_line(&g->tap, line);
	g->line_continues = continued;
}

/* "32M", "512K", "1G" or bytes; 0 when malformed. */
static uint64_t parse_size(const char *s)
{
	uint64_t v = 0;

	if (!*s)
		return 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (1ull << 40))
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	switch (*s) {
	case 'G':
		v <<= 10;
		/* fall through */
	case 'M':
		v <<= 10;
		/* fall through */
	case 'K':
		v <<= 10;
		s++;
	}
	return *s ? 0 : v;
}

static bool has_char(const char *s, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == c)
			return true;
	return false;
}

/* The first word of a module string, if it has no '=', is its path (ARCHITECTURE "Boot"). */
static void default_name(const char *opts, unsigned int index, char *name)
{
	const char *end = opts, *base = opts;

	while (*end && *end != ' ')
		end++;
	if (end == opts || has_char(opts, '=', (size_t)(end - opts))) {
		ksnprintf(name, GUEST_NAME_MAX, "guest%u", index + 1);
		return;
	}
	for (const char *p = opts; p < end; p++)
		if (*p == '/')
			base = p + 1;
	ksnprintf(name, GUEST_NAME_MAX, "%.*s", (int)(end - base), base);
	/* Drop an .elf suffix: the name is for people. */
	if (strlen(name) > 4 && !strcmp(name + strlen(name) - 4, ".elf"))
		name[strlen(name) - 4] = 0;
}

struct guest_options {
	char name[GUEST_NAME_MAX];
	uint64_t mem;
	uint64_t budget_ms;
	enum guest_end expect;
};

/* budget=MS from an option string into *ms (untouched when absent). */
static const char *parse_budget(const char *opts, uint64_t *ms)
{
	char buf[GUEST_NAME_MAX];
	bool too_long = false;

	if (boot_option(opts, "budget", buf, sizeof(buf), &too_long)) {
		*ms = parse_size(buf);
		if (!*ms || *ms > 3600000)
			return "budget= must be 1 to 3600000 (milliseconds)";
	} else if (too_long) {
		return "budget= value too long";
	}
	return 0;
}

/*
 * A value that does not parse is refused by name: no silent default.
 * nestvisor's own command line may set budget= for every guest; a
 * module's own budget= wins.
 */
static const char *parse_options(const char *hv_cmdline, const char *opts, unsigned int index,
				 struct guest_options *o)
{
	char buf[GUEST_NAME_MAX];
	bool too_long = false;
	const char *err;

	*o = (struct guest_options){
	    .mem = GUEST_MEM_DEFAULT, .budget_ms = GUEST_BUDGET_DEFAULT, .expect = GUEST_EXITED};
	default_name(opts, index, o->name);
	if (boot_option(opts, "name", buf, sizeof(buf), &too_long))
		memcpy(o->name, buf, sizeof(buf));
	else if (too_long)
		return "name= is longer than 31 characters";
	if (boot_option(opts, "mem", buf, sizeof(buf), &too_long)) {
		o->mem = parse_size(buf);
		if (o->mem < LOADER_RAM_MIN || o->mem > LOADER_RAM_MAX || o->mem % PAGE_SIZE)
			return "mem= must be 2M to 4G in 4 KiB steps (e.g. mem=32M)";
	} else if (too_long) {
		return "mem= value too long";
	}
	err = parse_budget(hv_cmdline, &o->budget_ms);
	if (err)
		return err;
	err = parse_budget(opts, &o->budget_ms);
	if (err)
		return err;
	if (boot_option(opts, "expect", buf, sizeof(buf), &too_long)) {
		o->expect = NR_GUEST_ENDS;
		for (unsigned int e = GUEST_EXITED; e < NR_GUEST_ENDS; e++)
			if (!strcmp(buf, end_names[e]))
				o->expect = e;
		if (o->expect == NR_GUEST_ENDS)
			return "expect= must be exit, shutdown, timeout, refused, npf, halt or "
			       "stopped";
	} else if (too_long) {
		return "expect= value too long";
	}
	return 0;
}

/* ASIDs 1..n-1 in turn; vcpu_init flushes the TLB since one may be reused. */
static unsigned int next_asid(void)
{
	static unsigned int last;

	last = last + 1 < svm_host.caps.nr_asids ? last + 1 : 1;
	return last;
}

static const char *setup(struct guest *g, const struct boot_module *m,
			 const struct guest_options *o)
{
	struct guest_boot boot;
	const char *err;

	g->ram_size = o->mem;
	g->ram_pa = pmm_alloc(g->pmm, o->mem / PAGE_SIZE, GUEST_RAM_ALIGN);
	if (!g->ram_pa)
		return "not enough free memory for mem=";
	err = loader_load(pmm_virt(g->pmm, m->start), m->end - m->start,
			  pmm_virt(g->pmm, g->ram_pa), g->ram_size, m->string, &boot);
	if (err)
		return err;
	kprintf("guest %s: multiboot%u image [0x%lx-0x%lx), entry 0x%x, %lu MiB RAM\n", g->name,
		boot.protocol, boot.image_lo, boot.image_hi, boot.entry, g->ram_size >> 20);
	err = npt_build(g->pmm, g->ram_pa, g->ram_size, &g->npt_root);
	if (err)
		return err;
	g->asid = next_asid();
	return vcpu_init(&g->vcpu, g, &boot);
}

static void teardown(struct guest *g)
{
	vcpu_destroy(&g->vcpu);
	npt_destroy(g->pmm, g->npt_root);
	if (g->ram_pa) {
		/* The next owner of these frames must not see this guest's data. */
		memset(pmm_virt(g->pmm, g->ram_pa), 0, g->ram_size);
		pmm_free(g->pmm, g->ram_pa, g->ram_size / PAGE_SIZE);
	}
	g->ram_pa = 0;
	g->npt_root = 0;
}

static bool met_expectation(const struct guest *g, const struct guest_options *o)
{
	if (o->expect != GUEST_EXITED)
		return g->end == o->expect;
	return g->end == GUEST_EXITED && g->exit_value == 0 && tap_count_clean(&g->tap);
}

static struct guest guest;

bool guest_run_module(struct hv *hv, unsigned int index, struct tap *tap)
{
	const struct boot_module *m = &hv->boot.modules[index];
	struct guest *g = &guest;
	struct guest_options o;
	const char *err;
	bool ok;

	memset(g, 0, sizeof(*g));
	g->pmm = &hv->pmm;
	vuart_init(&g->uart);
	err = parse_options(hv->boot.cmdline, m->string, index, &o);
	memcpy(g->name, o.name, sizeof(g->name));
	if (!err)
		err = setup(g, m, &o);
	if (err) {
		g->end = GUEST_REFUSED;
		ksnprintf(g->reason, sizeof(g->reason), "%s", err);
	} else {
		g->start_tsc = rdtsc();
		g->deadline_tsc = g->start_tsc + ms_to_tsc(o.budget_ms);
		vcpu_run(&g->vcpu);
		vuart_flush(&g->uart, guest_console_line, g);
	}
	teardown(g);
	ok = met_expectation(g, &o);
	if (g->vcpu.nested.nr_vmruns)
		kprintf("guest %s: %lu nested VMRUNs (%lu refused), %lu L2 exits reflected to it\n",
			g->name, g->vcpu.nested.nr_vmruns, g->vcpu.nested.nr_failed_vmruns,
			g->vcpu.nested.nr_reflected);
	tap_check(tap, ok, "%s: %s: %s; TAP %u/%u ok%s, %u not ok; %lu exits (expect %s)", g->name,
		  end_names[g->end], g->reason, g->tap.ok, g->tap.planned,
		  g->tap.have_plan ? "" : " (no plan)", g->tap.not_ok, g->vcpu.nr_exits,
		  end_names[o.expect]);
	return ok;
}
