/*
 * nested_maps: which L2 MSR and I/O accesses the permission maps reflect
 * to L1 (APM vol. 2 15.10 "IOIO Intercepts", 15.10.1 "I/O Permissions
 * Map", 15.11 "MSR Intercepts").
 *  - MSRPM: two bits per MSR, read at bit 2k and write at bit 2k + 1, in
 *    three 2 KiB vectors for MSRs 0-1FFF, C000_0000-C000_1FFF and
 *    C001_0000-C001_1FFF. With MSR_PROT, an MSR outside them always exits.
 *  - IOPM: one bit per port; an access of N bytes exits if any of its N
 *    bits is set, also across an IOPM byte boundary and past port FFFF
 *    (the third IOPM page exists for that).
 * An access that is not reflected acts as on L1's hardware: L2 reads the
 * MSR L1 holds (STAR is not switched by VMRUN), writes it for L1 to see,
 * reads an unassigned port as L1 does.
 * nestvisor only (decision 4): map bytes that lie outside L1's RAM read as
 * all ones, so such accesses are reflected.
 *
 * One case per line of the table: fill the map, set at most one MSR's
 * bits or one port's bit, run an L2 that does one access, and see whether
 * L1 got the #VMEXIT (with the right EXITINFO1) or the access happened.
 */
#include "arch/x86/cpu.h"
#include "kernel/console.h"
#include "kernel/kprintf.h"
#include "kernel/kstring.h"
#include "tests/lib/fault.h"
#include "tests/lib/guest.h"
#include "tests/lib/svm.h"
#include "tests/lib/svm_test.h"

#define MSR_SYSENTER_CS 0x00000174
#define MSR_PERF_CTL0	0xC0010000 /* first MSR of the third range */
#define MSR_LAST_R0	0x00001FFF
#define MSR_LAST_R2	0xC0011FFF
#define STAR_L1		0x0023001000000000ull /* L1's STAR while L2 runs */
#define STAR_L2		0x0033002312345678ull /* what L2 writes */
/* Unassigned ports, away from every device QEMU or nestvisor has. */
#define PORT	   0x1230
#define NOT_RAM_PA 0xFEC00000ull
#define PAGE_SIZE  4096

#define IOIO_CHECKED                                                                               \
	(SVM_IOIO_TYPE_IN | SVM_IOIO_STR | SVM_IOIO_REP | SVM_IOIO_SZ8 | SVM_IOIO_SZ16 |           \
	 SVM_IOIO_SZ32 | SVM_IOIO_PORT_MASK)

enum op_kind { OP_RDMSR, OP_WRMSR, OP_IN, OP_OUT };

struct l2_op {
	enum op_kind kind;
	uint32_t target; /* MSR or port */
	unsigned int size;
	uint64_t value;
};

/* What to set in the map after filling it: one MSR's R/W bits, or one port's bit. */
#define SET_R	 1u
#define SET_W	 2u
#define SET_PORT 4u

/* Where the map lives: the guest's own pages, or nestvisor-only bases outside RAM. */
enum map_base { BASE_OWN, BASE_NOT_RAM, BASE_RAM_EDGE };

struct map_case {
	const char *name;
	struct l2_op op;
	bool prot; /* MSR_PROT or IOIO_PROT, for the op's kind */
	uint8_t fill;
	uint32_t set; /* MSR or port (up to 0x10002) */
	unsigned int set_how;
	bool reflected;
	enum map_base base;
};

/* clang-format off */
#define RD(m)		{OP_RDMSR, (m), 8, 0}
#define WR(m, v)	{OP_WRMSR, (m), 8, (v)}
#define IN(p, n)	{OP_IN, (p), (n), 0}
#define OUT(p, n, v)	{OP_OUT, (p), (n), (v)}
/* clang-format on */

/*
 * Columns: name; the access L2 makes; MSR_PROT/IOIO_PROT set; the byte the
 * map is filled with; the MSR or port whose bit(s) are then set, and which
 * (SET_R/SET_W for an MSR, SET_PORT); whether L1 gets a #VMEXIT; where
 * the map lives.
 */
static const struct map_case cases[] = {
    /* MSRPM, APM 15.11. */
    {"STAR read bit: RDMSR STAR reflected", RD(MSR_STAR), true, 0, MSR_STAR, SET_R, true, BASE_OWN},
    {"STAR read bit: WRMSR STAR not reflected, L1 sees L2's value", WR(MSR_STAR, STAR_L2), true, 0,
     MSR_STAR, SET_R, false, BASE_OWN},
    {"STAR write bit: WRMSR STAR reflected, STAR unchanged", WR(MSR_STAR, STAR_L2), true, 0,
     MSR_STAR, SET_W, true, BASE_OWN},
    {"STAR write bit: RDMSR STAR not reflected, L2 reads L1's STAR", RD(MSR_STAR), true, 0,
     MSR_STAR, SET_W, false, BASE_OWN},
    {"STAR bits: RDMSR LSTAR (next MSR) not reflected", RD(MSR_LSTAR), true, 0, MSR_STAR,
     SET_R | SET_W, false, BASE_OWN},
    {"STAR bits: RDMSR 0xC0010081 (same offset, range 2) not reflected", RD(0xC0010081), true, 0,
     MSR_STAR, SET_R | SET_W, false, BASE_OWN},
    {"STAR bits: RDMSR 0x81 (same offset, range 0) not reflected", RD(0x81), true, 0, MSR_STAR,
     SET_R | SET_W, false, BASE_OWN},
    {"SYSENTER_CS write bit: WRMSR SYSENTER_CS reflected", WR(MSR_SYSENTER_CS, 0x10), true, 0,
     MSR_SYSENTER_CS, SET_W, true, BASE_OWN},
    {"MSR 0x1FFF read bit (end of range 0): RDMSR reflected", RD(MSR_LAST_R0), true, 0, MSR_LAST_R0,
     SET_R, true, BASE_OWN},
    {"MSR 0xC0010000 read bit (start of range 2): RDMSR reflected", RD(MSR_PERF_CTL0), true, 0,
     MSR_PERF_CTL0, SET_R, true, BASE_OWN},
    {"all-zero MSRPM: RDMSR STAR not reflected, L2 reads L1's STAR", RD(MSR_STAR), true, 0, 0, 0,
     false, BASE_OWN},
    {"all-zero MSRPM: WRMSR STAR not reflected, L1 sees L2's value", WR(MSR_STAR, STAR_L2), true, 0,
     0, 0, false, BASE_OWN},
    {"all-zero MSRPM: RDMSR VM_HSAVE_PA not reflected, L2 reads L1's", RD(MSR_VM_HSAVE_PA), true, 0,
     0, 0, false, BASE_OWN},
    {"all-ones MSRPM: RDMSR TSC reflected", RD(0x10), true, 0xFF, 0, 0, true, BASE_OWN},
    {"all-ones MSRPM: WRMSR EFER reflected", WR(MSR_EFER, 0), true, 0xFF, 0, 0, true, BASE_OWN},
    {"all-ones MSRPM: WRMSR VM_HSAVE_PA reflected", WR(MSR_VM_HSAVE_PA, 0), true, 0xFF, 0, 0, true,
     BASE_OWN},
    {"all-ones MSRPM: RDMSR 0xC0011FFF (end of range 2) reflected", RD(MSR_LAST_R2), true, 0xFF, 0,
     0, true, BASE_OWN},
    {"outside the ranges: RDMSR 0x2000 reflected", RD(0x2000), true, 0, 0, 0, true, BASE_OWN},
    {"outside the ranges: RDMSR 0xC0002000 reflected", RD(0xC0002000), true, 0, 0, 0, true,
     BASE_OWN},
    {"outside the ranges: RDMSR 0xC0012000 reflected", RD(0xC0012000), true, 0, 0, 0, true,
     BASE_OWN},
    {"outside the ranges: RDMSR 0x40000000 reflected", RD(0x40000000), true, 0, 0, 0, true,
     BASE_OWN},
    {"outside the ranges: WRMSR 0xFFFFFFFF reflected", WR(0xFFFFFFFF, 0), true, 0, 0, 0, true,
     BASE_OWN},
    {"MSR_PROT clear, all-ones MSRPM: RDMSR STAR not reflected", RD(MSR_STAR), false, 0xFF, 0, 0,
     false, BASE_OWN},

    /* IOPM, APM 15.10.1. */
    {"port 0x1230 bit: IN 0x1230 (1 byte) reflected", IN(PORT, 1), true, 0, PORT, SET_PORT, true,
     BASE_OWN},
    {"port 0x1230 bit: IN 0x1231 (1 byte) not reflected", IN(PORT + 1, 1), true, 0, PORT, SET_PORT,
     false, BASE_OWN},
    {"port 0x1230 bit: OUT 0x1230 (1 byte) reflected", OUT(PORT, 1, 0x5A), true, 0, PORT, SET_PORT,
     true, BASE_OWN},
    {"port 0x1238 bit: IN 0x1237 (2 bytes, across an IOPM byte) reflected", IN(PORT + 7, 2), true,
     0, PORT + 8, SET_PORT, true, BASE_OWN},
    {"port 0x1238 bit: IN 0x1235 (4 bytes, across an IOPM byte) reflected", IN(PORT + 5, 4), true,
     0, PORT + 8, SET_PORT, true, BASE_OWN},
    {"port 0x1238 bit: OUT 0x1237 (2 bytes) reflected", OUT(PORT + 7, 2, 0x1234), true, 0, PORT + 8,
     SET_PORT, true, BASE_OWN},
    {"port 0x1238 bit: IN 0x1236 (2 bytes) not reflected", IN(PORT + 6, 2), true, 0, PORT + 8,
     SET_PORT, false, BASE_OWN},
    {"port 0x1238 bit: IN 0x1237 (1 byte) not reflected", IN(PORT + 7, 1), true, 0, PORT + 8,
     SET_PORT, false, BASE_OWN},
    {"port 0xFFFF bit: IN 0xFFFF (1 byte) reflected", IN(0xFFFF, 1), true, 0, 0xFFFF, SET_PORT,
     true, BASE_OWN},
    {"bit 0x10000 (third page): IN 0xFFFF (2 bytes) reflected", IN(0xFFFF, 2), true, 0, 0x10000,
     SET_PORT, true, BASE_OWN},
    {"bit 0x10002 (third page): IN 0xFFFF (4 bytes) reflected", IN(0xFFFF, 4), true, 0, 0x10002,
     SET_PORT, true, BASE_OWN},
    {"bit 0x10000 (third page): IN 0xFFFF (1 byte) not reflected", IN(0xFFFF, 1), true, 0, 0x10000,
     SET_PORT, false, BASE_OWN},
    {"all-zero IOPM: IN 0x1230 not reflected, reads what L1 reads", IN(PORT, 1), true, 0, 0, 0,
     false, BASE_OWN},
    {"all-zero IOPM: OUT 0x1230 (4 bytes) not reflected", OUT(PORT, 4, 0x12345678), true, 0, 0, 0,
     false, BASE_OWN},
    {"all-ones IOPM: IN 0x1230 (4 bytes) reflected", IN(PORT, 4), true, 0xFF, 0, 0, true, BASE_OWN},
    {"all-ones IOPM: OUT 0x80 (1 byte) reflected", OUT(0x80, 1, 0), true, 0xFF, 0, 0, true,
     BASE_OWN},
    {"all-ones IOPM: OUT 0xFFFE (2 bytes) reflected", OUT(0xFFFE, 2, 0), true, 0xFF, 0, 0, true,
     BASE_OWN},
    {"IOIO_PROT clear, all-ones IOPM: IN 0x1230 not reflected", IN(PORT, 1), false, 0xFF, 0, 0,
     false, BASE_OWN},

    /* nestvisor decision 4: map bytes outside L1's RAM read as all ones. */
    {"MSRPM at 0xFEC00000 (not RAM): RDMSR STAR reflected", RD(MSR_STAR), true, 0, 0, 0, true,
     BASE_NOT_RAM},
    {"IOPM at 0xFEC00000 (not RAM): IN 0x1230 reflected", IN(PORT, 1), true, 0, 0, 0, true,
     BASE_NOT_RAM},
    {"MSRPM at top of RAM - 4K: RDMSR STAR (RAM page, bit clear) not reflected", RD(MSR_STAR), true,
     0, 0, 0, false, BASE_RAM_EDGE},
    {"MSRPM at top of RAM - 4K: RDMSR 0xC0010000 (page past RAM) reflected", RD(MSR_PERF_CTL0),
     true, 0, 0, 0, true, BASE_RAM_EDGE},
    {"IOPM at top of RAM - 8K: IN 0xFFFF (1 byte, RAM page) not reflected", IN(0xFFFF, 1), true, 0,
     0, 0, false, BASE_RAM_EDGE},
    {"IOPM at top of RAM - 8K: IN 0xFFFF (2 bytes, bit 0x10000 past RAM) reflected", IN(0xFFFF, 2),
     true, 0, 0, 0, true, BASE_RAM_EDGE},
};

static struct l2 l2;
static uint8_t msrpm[SVM_MSRPM_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t iopm[SVM_IOPM_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* The access L2 makes, and what it saw. */
static volatile struct l2_op op;
static volatile uint64_t l2_value;
static volatile uint32_t l2_fault;
static volatile bool l2_done;

static uint64_t port_in(uint16_t port, unsigned int size)
{
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void port_out(uint16_t port, unsigned int size, uint32_t v)
{
	if (size == 1)
		outb(port, (uint8_t)v);
	else if (size == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

/* L2: one access, under a fixup so that a #GP it takes as L1 would is recorded, not fatal. */
static void l2_access(void)
{
	uint64_t v = 0;
	uint32_t fault = 0;

	switch (op.kind) {
	case OP_RDMSR:
		fault = rdmsr_safe(op.target, &v);
		break;
	case OP_WRMSR:
		fault = wrmsr_safe(op.target, op.value);
		break;
	case OP_IN:
		v = port_in((uint16_t)op.target, op.size);
		break;
	case OP_OUT:
		port_out((uint16_t)op.target, op.size, (uint32_t)op.value);
		break;
	}
	l2_value = v;
	l2_fault = fault;
	l2_done = true;
}

static bool is_msr(const struct map_case *c)
{
	return c->op.kind == OP_RDMSR || c->op.kind == OP_WRMSR;
}

/* APM 15.11 MSRPM layout. */
static void msrpm_set(uint8_t *map, uint32_t msr, unsigned int how)
{
	uint32_t off, bit;

	if (msr <= 0x1FFF)
		off = SVM_MSRPM_RANGE0_OFFSET, bit = msr * 2;
	else if (msr - SVM_MSRPM_RANGE1_MSR < SVM_MSRPM_MSRS_PER_RANGE)
		off = SVM_MSRPM_RANGE1_OFFSET, bit = (msr - SVM_MSRPM_RANGE1_MSR) * 2;
	else
		off = SVM_MSRPM_RANGE2_OFFSET, bit = (msr - SVM_MSRPM_RANGE2_MSR) * 2;
	if (how & SET_R)
		map[off + bit / 8] |= 1u << (bit % 8);
	if (how & SET_W)
		map[off + (bit + 1) / 8] |= 1u << ((bit + 1) % 8);
}

/* The map's guest-physical base for this case; zero what of it lies in RAM. */
static uint64_t map_base(const struct map_case *c, uint8_t *own)
{
	uint64_t top = guest_ram_top();

	switch (c->base) {
	case BASE_NOT_RAM:
		return NOT_RAM_PA;
	case BASE_RAM_EDGE:
		/* The first page (MSRPM) or two (IOPM) are the last of RAM, the rest is not. */
		if (is_msr(c)) {
			memset((void *)(top - PAGE_SIZE), 0, PAGE_SIZE);
			return top - PAGE_SIZE;
		}
		memset((void *)(top - 2 * PAGE_SIZE), 0, 2 * PAGE_SIZE);
		return top - 2 * PAGE_SIZE;
	case BASE_OWN:
	default:
		if (is_msr(c)) {
			memset(own, c->fill, SVM_MSRPM_SIZE);
			if (c->set_how)
				msrpm_set(own, c->set, c->set_how);
		} else {
			memset(own, c->fill, SVM_IOPM_SIZE);
			if (c->set_how)
				own[c->set / 8] |= 1u << (c->set % 8);
		}
		return (uint64_t)own;
	}
}

struct outcome {
	bool reflected, finished;
	uint64_t code, info1, info2, rip, rcx;
};

static struct outcome run_case(const struct map_case *c)
{
	struct vmcb_control *ctl = &l2.vmcb.control;
	struct outcome o = {0};
	uint64_t code;

	op.kind = c->op.kind;
	op.target = c->op.target;
	op.size = c->op.size;
	op.value = c->op.value;
	/* A write that must be reflected writes what the MSR holds: harmless should it land. */
	if (c->op.target == MSR_EFER || c->op.target == MSR_VM_HSAVE_PA)
		op.value = rdmsr(c->op.target);
	l2_done = false;
	l2_value = 0;
	l2_fault = 0;
	svm_vmcb_init(&l2, l2_access);
	if (is_msr(c)) {
		ctl->msrpm_base_pa = map_base(c, msrpm);
		if (c->prot)
			vmcb_set_intercept(ctl, INTERCEPT_MSR_PROT);
	} else {
		ctl->iopm_base_pa = map_base(c, iopm);
		if (c->prot)
			vmcb_set_intercept(ctl, INTERCEPT_IOIO_PROT);
	}
	code = svm_run(&l2);
	if (code == SVM_EXIT_MSR || code == SVM_EXIT_IOIO) {
		o.reflected = true;
		o.code = code;
		o.info1 = ctl->exit_info1;
		o.info2 = ctl->exit_info2;
		o.rip = l2.vmcb.save.rip;
		o.rcx = l2.regs.rcx;
		/* Skip the access unemulated: RDMSR/WRMSR are 2 bytes, IOIO gives the next RIP. */
		if (code == SVM_EXIT_MSR)
			svm_skip(&l2, 2);
		else
			l2.vmcb.save.rip = ctl->exit_info2;
		code = svm_run(&l2);
	}
	o.finished = code == SVM_EXIT_VMMCALL && l2_done;
	if (!o.finished)
		kprintf("# L2 did not finish: exit 0x%lx\n", code);
	return o;
}

/* The #VMEXIT L1 should have got for the case's access. */
static bool exit_ok(const struct map_case *c, const struct outcome *o)
{
	uint64_t want;

	if (is_msr(c))
		return o->code == SVM_EXIT_MSR && o->rcx == c->op.target &&
		       o->info1 == (c->op.kind == OP_WRMSR ? SVM_EXITINFO_MSR_WRITE
							   : SVM_EXITINFO_MSR_READ);
	want = (c->op.kind == OP_IN ? SVM_IOIO_TYPE_IN : 0) | (uint64_t)c->op.target
								  << SVM_IOIO_PORT_SHIFT;
	want |= c->op.size == 1 ? SVM_IOIO_SZ8 : c->op.size == 2 ? SVM_IOIO_SZ16 : SVM_IOIO_SZ32;
	/* IN/OUT with DX: 1 byte, plus the 0x66 prefix for 16 bits. */
	return o->code == SVM_EXIT_IOIO && (o->info1 & IOIO_CHECKED) == want &&
	       o->info2 == o->rip + (c->op.size == 2 ? 2 : 1);
}

static void run_map_case(struct tap *tap, const struct map_case *c)
{
	uint64_t l1_value = 0, after = 0;
	uint32_t l1_fault = 0;
	struct outcome o;
	bool ok;

	if (c->base != BASE_OWN && !nestvisor_only(tap, c->name))
		return;
	/* What L1 itself gets for a read, for comparison with an unreflected L2 read. */
	if (c->op.kind == OP_RDMSR)
		l1_fault = rdmsr_safe(c->op.target, &l1_value);
	else if (c->op.kind == OP_IN)
		l1_value = port_in((uint16_t)c->op.target, c->op.size);
	wrmsr(MSR_STAR, STAR_L1);

	o = run_case(c);
	after = rdmsr(MSR_STAR);
	wrmsr(MSR_STAR, STAR_L1);

	ok = o.finished && o.reflected == c->reflected;
	if (ok && o.reflected)
		ok = exit_ok(c, &o);
	else if (ok && (c->op.kind == OP_RDMSR || c->op.kind == OP_IN))
		ok = l2_value == l1_value && l2_fault == l1_fault;
	/* A write to STAR lands exactly when it is not reflected. */
	if (ok && c->op.kind == OP_WRMSR && c->op.target == MSR_STAR)
		ok = after == (c->reflected ? STAR_L1 : STAR_L2);
	if (!tap_check(tap, ok, "%s", c->name))
		kprintf("# reflected %d (exit 0x%lx info1 0x%lx info2 0x%lx rip 0x%lx rcx 0x%lx); "
			"L2 read 0x%lx fault %d, L1 reads 0x%lx fault %d; STAR after 0x%lx\n",
			o.reflected, o.code, o.info1, o.info2, o.rip, o.rcx, l2_value,
			fault_vector(l2_fault), l1_value, fault_vector(l1_fault), after);
}

void guest_main(struct tap *tap)
{
	uint64_t star;

	tap_plan(tap, ARRAY_SIZE(cases));
	if (!svm_enable())
		guest_bail_out("no SVM");
	kprintf("# top of RAM 0x%lx, MAXPHYADDR %u\n", guest_ram_top(), cpu_maxphyaddr());
	star = rdmsr(MSR_STAR);
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		run_map_case(tap, &cases[i]);
	wrmsr(MSR_STAR, star);
}
