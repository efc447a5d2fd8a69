/*
 * The IDT: 256 interrupt gates (IF stays clear in every handler). Vectors
 * go to a registered C handler, else to the exception fixup table, else to
 * exception_unhandled() (the kernel panics, a test guest bails out).
 */
#include <stdint.h>
#include "arch/x86/cpu.h"
#include "arch/x86/extable.h"
#include "arch/x86/gdt.h"
#include "arch/x86/idt.h"

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "APM 4.8.4: 64-bit gates are 16 bytes");

#define GATE_INTERRUPT_PRESENT 0x8E /* P=1, DPL=0, type 0xE */

static struct idt_gate idt[256] __attribute__((aligned(16)));
extern const uint64_t exc_stub_table[NR_VECTORS];
static vector_handler handlers[NR_VECTORS];

static const struct {
	const char *mnemonic, *name;
} exceptions[NR_EXCEPTIONS] = {
    [EXC_DE] = {"#DE", "divide error"},
    [EXC_DB] = {"#DB", "debug"},
    [EXC_NMI] = {"#NMI", "non-maskable interrupt"},
    [EXC_BP] = {"#BP", "breakpoint"},
    [EXC_OF] = {"#OF", "overflow"},
    [EXC_BR] = {"#BR", "bound range"},
    [EXC_UD] = {"#UD", "invalid opcode"},
    [EXC_NM] = {"#NM", "device not available"},
    [EXC_DF] = {"#DF", "double fault"},
    [9] = {"#CSO", "coprocessor segment overrun"},
    [EXC_TS] = {"#TS", "invalid TSS"},
    [EXC_NP] = {"#NP", "segment not present"},
    [EXC_SS] = {"#SS", "stack fault"},
    [EXC_GP] = {"#GP", "general protection"},
    [EXC_PF] = {"#PF", "page fault"},
    [EXC_MF] = {"#MF", "x87 floating point"},
    [EXC_AC] = {"#AC", "alignment check"},
    [EXC_MC] = {"#MC", "machine check"},
    [EXC_XM] = {"#XM", "SIMD floating point"},
    [EXC_VE] = {"#VE", "virtualization"},
    [EXC_CP] = {"#CP", "control protection"},
    [EXC_HV] = {"#HV", "hypervisor injection"},
    [EXC_VC] = {"#VC", "VMM communication"},
    [EXC_SX] = {"#SX", "security"},
};

const char *exception_mnemonic(unsigned int vector)
{
	if (vector < NR_EXCEPTIONS && exceptions[vector].mnemonic)
		return exceptions[vector].mnemonic;
	return vector < NR_EXCEPTIONS ? "#??" : "INT";
}

const char *exception_name(unsigned int vector)
{
	if (vector < NR_EXCEPTIONS && exceptions[vector].name)
		return exceptions[vector].name;
	return vector < NR_EXCEPTIONS ? "reserved" : "unexpected interrupt";
}

static void set_gate(unsigned int vector, uint64_t handler, unsigned int ist)
{
	idt[vector] = (struct idt_gate){
	    .offset_lo = (uint16_t)handler,
	    .selector = GDT_KERNEL_CS,
	    .ist = (uint8_t)ist,
	    .type_attr = GATE_INTERRUPT_PRESENT,
	    .offset_mid = (uint16_t)(handler >> 16),
	    .offset_hi = (uint32_t)(handler >> 32),
	};
}

void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (uint64_t)idt};

	for (unsigned int v = 0; v < NR_VECTORS; v++)
		set_gate(v, exc_stub_table[v], 0);
	/*
	 * A fresh stack for the exceptions that can strike on a broken one:
	 * #DF after a stack overflow into the guard page, NMI and #MC at any
	 * instruction (APM 8.9.4).
	 */
	idt[EXC_DF].ist = IST_DOUBLE_FAULT;
	idt[EXC_NMI].ist = IST_NMI;
	idt[EXC_MC].ist = IST_MACHINE_CHECK;
	asm volatile("lidt %0" ::"m"(idtr));
}

void idt_set_handler(unsigned int vector, vector_handler handler)
{
	if (vector < NR_VECTORS)
		handlers[vector] = handler;
}

void exception_dispatch(struct exc_frame *frame)
{
	if (handlers[frame->vector]) {
		handlers[frame->vector](frame);
		return;
	}
	if (extable_fixup(frame))
		return;
	exception_unhandled(frame);
}
