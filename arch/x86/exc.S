/*
 * Entry stubs for all 256 vectors. Each pushes a dummy error code where the
 * CPU pushes none (APM vol. 2 8.2, table 8-1; interrupts never push one),
 * then the vector, so every frame has one shape: struct exc_frame in idt.h.
 * Register contract of exc_common: Req: vector and error code on the stack.
 * Clob: nothing visible to the interrupted code (all GPRs restored).
 */

	.text
	.altmacro
.macro exc_stub v
	.balign 16
exc_stub_\v:
	.if !((\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30))
	pushq $0
	.endif
	pushq $\v
	jmp exc_common
.endm

	.set v, 0
	.rept 256
	exc_stub %v
	.set v, v + 1
	.endr

exc_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	/* The CPU aligned RSP to 16 before its 5 pushes; 2 + 15 more keep it aligned. */
	movq %rsp, %rdi
	cld
	call exception_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rbp
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp		/* vector and error code */
	iretq

.macro stub_addr v
	.quad exc_stub_\v
.endm
	.section .rodata
	.balign 8
	.global exc_stub_table
exc_stub_table:
	.set v, 0
	.rept 256
	stub_addr %v
	.set v, v + 1
	.endr
