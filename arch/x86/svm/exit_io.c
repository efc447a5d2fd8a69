/*
 * IN/OUT of an L1 guest (every port is intercepted). The guest's platform
 * is COM1 (a 16550 model), the debug-exit port 0xF4, and nothing else:
 * other ports read as all ones and ignore writes, like an empty ISA bus.
 * String forms (INS/OUTS, with REP) are emulated element by element.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/svm/exits.h"
#include "arch/x86/svm/vcpu.h"
#include "kernel/guest.h"
#include "kernel/guest_walk.h"
#include "kernel/insn_decode.h"
#include "kernel/kstring.h"
#include "kernel/vuart.h"

#define DEBUG_EXIT_PORT	   0xF4
#define STRING_IO_MAX_STEP 4096 /* elements per exit; REP resumes for the rest */

static uint8_t port_read(struct guest *g, uint16_t port)
{
	if (port >= VUART_COM1_BASE && port < VUART_COM1_BASE + VUART_NR_PORTS)
		return vuart_read(&g->uart, port - VUART_COM1_BASE);
	return 0xFF;
}

static void port_write(struct guest *g, uint16_t port, uint8_t val)
{
	if (port >= VUART_COM1_BASE && port < VUART_COM1_BASE + VUART_NR_PORTS)
		vuart_write(&g->uart, port - VUART_COM1_BASE, val, guest_console_line, g);
	else if (port == DEBUG_EXIT_PORT && g->end == GUEST_RUNNING) {
		g->exit_value = val;
		guest_stop(g, GUEST_EXITED, "status %u", val);
	}
}

/* A wide access is the bytes of consecutive ports, low byte first. */
static uint32_t io_in(struct guest *g, uint16_t port, unsigned int size)
{
	uint32_t val = 0;

	for (unsigned int i = 0; i < size; i++)
		val |= (uint32_t)port_read(g, (uint16_t)(port + i)) << (8 * i);
	return val;
}

static void io_out(struct guest *g, uint16_t port, unsigned int size, uint32_t val)
{
	for (unsigned int i = 0; i < size && g->end == GUEST_RUNNING; i++)
		port_write(g, (uint16_t)(port + i), (uint8_t)(val >> (8 * i)));
}

static void set_in_result(uint64_t *rax, unsigned int size, uint32_t val)
{
	/* A 32-bit result zero-extends into RAX; 8 and 16 bits merge (APM 3.1.2). */
	if (size == 4)
		*rax = val;
	else if (size == 2)
		*rax = (*rax & ~0xFFFFull) | val;
	else
		*rax = (*rax & ~0xFFull) | val;
}

static uint64_t seg_base(const struct vmcb_save *s, int seg)
{
	switch (seg) {
	case INSN_SEG_ES:
		return s->es.base;
	case INSN_SEG_CS:
		return s->cs.base;
	case INSN_SEG_SS:
		return s->ss.base;
	case INSN_SEG_FS:
		return s->fs.base;
	case INSN_SEG_GS:
		return s->gs.base;
	default:
		return s->ds.base;
	}
}

/* Takes the guest's fault on the string operand as the CPU would have. */
static enum vcpu_action string_fault(struct vcpu *v, const struct walk_result *w)
{
	if (w->status == WALK_PAGE_FAULT) {
		v->vmcb->save.cr2 = w->fault_va;
		vcpu_inject_exception(v, EXC_PF, true, w->pf_error);
		return VCPU_RESUME;
	}
	if (w->status == WALK_GP) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return VCPU_RESUME;
	}
	guest_stop(v->guest, GUEST_NPF, "string I/O operand at guest-physical 0x%lx outside RAM",
		   w->bad_gpa);
	return VCPU_STOP;
}

static enum vcpu_action string_io(struct vcpu *v, uint16_t port, unsigned int size, bool in,
				  bool rep, uint64_t addr_mask)
{
	struct vmcb_save *s = &v->vmcb->save;
	struct guest *g = v->guest;
	uint64_t *r = v->regs.gpr;
	struct guest_ram ram = vcpu_guest_ram(v);
	struct guest_paging pg = vcpu_paging(v);
	enum gpr index_reg = in ? GPR_RDI : GPR_RSI;
	int64_t step = (s->rflags & (1u << 10)) ? -(int64_t)size : (int64_t)size; /* DF */
	uint64_t count = rep ? r[GPR_RCX] & addr_mask : 1;
	struct insn insn;
	unsigned int len = vcpu_decode_insn(v, &insn);
	uint64_t base;

	if (!len)
		return VCPU_STOP;
	/* INS always writes ES:rDI; OUTS reads DS:rSI unless overridden (APM vol. 3). */
	base =
	    in ? s->es.base
	       : seg_base(s, insn.seg_override == INSN_SEG_NONE ? INSN_SEG_DS : insn.seg_override);
	for (uint64_t done = 0; done < count && done < STRING_IO_MAX_STEP; done++) {
		uint64_t va = base + (r[index_reg] & addr_mask);
		uint32_t val = 0;
		struct walk_result w;

		if (in) {
			w = guest_walk(&ram, &pg, va, WALK_WRITE | (s->cpl == 3 ? WALK_USER : 0));
			if (w.status == WALK_OK && (w.gpa >= ram.size || ram.size - w.gpa < size))
				w = (struct walk_result){.status = WALK_NOT_RAM, .bad_gpa = w.gpa};
			if (w.status != WALK_OK)
				return string_fault(v, &w);
			val = io_in(g, port, size);
			memcpy(ram.base + w.gpa, &val, size);
		} else {
			w = guest_read_virt(&ram, &pg, va, &val, size, s->cpl == 3 ? WALK_USER : 0);
			if (w.status != WALK_OK)
				return string_fault(v, &w);
			io_out(g, port, size, val);
		}
		r[index_reg] = (r[index_reg] & ~addr_mask) | ((r[index_reg] + step) & addr_mask);
		if (rep)
			r[GPR_RCX] = (r[GPR_RCX] & ~addr_mask) | ((r[GPR_RCX] - 1) & addr_mask);
		if (g->end != GUEST_RUNNING)
			return VCPU_STOP;
	}
	/* A REP with elements left runs again from the same RIP. */
	if (!rep || !(r[GPR_RCX] & addr_mask))
		vcpu_skip_insn(v, len);
	return VCPU_RESUME;
}

/*
 * APM 15.10.2: EXITINFO1 bits 9:7 give the address size of the access.
 * QEMU TCG leaves them clear; then the instruction itself says.
 */
uint64_t ioio_info_with_address_size(struct vcpu *v, uint64_t info)
{
	struct insn insn;

	if ((info & (SVM_IOIO_A16 | SVM_IOIO_A32 | SVM_IOIO_A64)) || !vcpu_decode_insn(v, &insn))
		return info;
	return info | (insn.addr_size == 8   ? SVM_IOIO_A64
		       : insn.addr_size == 4 ? SVM_IOIO_A32
					     : SVM_IOIO_A16);
}

enum vcpu_action handle_ioio(struct vcpu *v)
{
	uint64_t info = ioio_info_with_address_size(v, v->vmcb->control.exit_info1);
	uint16_t port = (uint16_t)((info & SVM_IOIO_PORT_MASK) >> SVM_IOIO_PORT_SHIFT);
	unsigned int size = (info & SVM_IOIO_SZ32) ? 4 : (info & SVM_IOIO_SZ16) ? 2 : 1;
	bool in = info & SVM_IOIO_TYPE_IN;
	uint64_t addr_mask = (info & SVM_IOIO_A64)   ? ~0ull
			     : (info & SVM_IOIO_A32) ? 0xFFFFFFFFull
						     : 0xFFFFull;
	struct guest *g = v->guest;

	if (info & SVM_IOIO_STR)
		return string_io(v, port, size, in, info & SVM_IOIO_REP, addr_mask);
	if (in)
		set_in_result(&v->regs.gpr[GPR_RAX], size, io_in(g, port, size));
	else
		io_out(g, port, size, (uint32_t)v->regs.gpr[GPR_RAX]);
	/* APM 15.10.2: EXITINFO2 holds the RIP of the next instruction. */
	v->vmcb->save.rip = v->vmcb->control.exit_info2;
	v->vmcb->control.int_state &= ~VMCB_INT_STATE_SHADOW;
	return g->end == GUEST_RUNNING ? VCPU_RESUME : VCPU_STOP;
}
