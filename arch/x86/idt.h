/* Exception entry: the frame the stubs build and the vectors' names. */
#ifndef ARCH_X86_IDT_H
#define ARCH_X86_IDT_H

#include <stdint.h>

#define EXC_DE	      0
#define EXC_DB	      1
#define EXC_NMI	      2
#define EXC_BP	      3
#define EXC_OF	      4
#define EXC_BR	      5
#define EXC_UD	      6
#define EXC_NM	      7
#define EXC_DF	      8
#define EXC_TS	      10
#define EXC_NP	      11
#define EXC_SS	      12
#define EXC_GP	      13
#define EXC_PF	      14
#define EXC_MF	      16
#define EXC_AC	      17
#define EXC_MC	      18
#define EXC_XM	      19
#define EXC_VE	      20
#define EXC_CP	      21
#define EXC_HV	      28
#define EXC_VC	      29
#define EXC_SX	      30
#define NR_EXCEPTIONS 32

/* Pushed by arch/x86/exc.S; the layout is its contract, lowest address first. */
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	/* Pushed by the CPU. */
	uint64_t rip, cs, rflags, rsp, ss;
};

#define NR_VECTORS 256

typedef void (*vector_handler)(struct exc_frame *frame);

void idt_init(void);
/* Routes a vector to handler (NULL restores the default: fixup or unhandled). */
void idt_set_handler(unsigned int vector, vector_handler handler);
/* The short mnemonic of an exception vector ("#GP"), or "#??" past the known ones. */
const char *exception_mnemonic(unsigned int vector);
const char *exception_name(unsigned int vector);

/* Called by the stubs: a registered handler, else an extable fixup, else unhandled. */
void exception_dispatch(struct exc_frame *frame);
/* What to do when no fixup applies: the kernel panics, a test guest bails out. */
void __attribute__((noreturn)) exception_unhandled(struct exc_frame *frame);

#endif
