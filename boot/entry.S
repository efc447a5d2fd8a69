/*
 * 32-bit multiboot entry to 64-bit kmain(magic, info), for the hypervisor
 * and for test guests alike. Contract on entry (Multiboot 0.6.96 3.2 and
 * Multiboot2 3.3): 32-bit protected mode, flat segments, paging off,
 * EAX = loader magic, EBX = physical address of the info block. No BIOS
 * call is made, so a UEFI-booted GRUB can hand over the same way.
 */
#include "arch/x86/cpu_bits.h"
#include "arch/x86/gdt.h"
#include "kernel/exit_status.h"

#define BOOT_STACK_SIZE	(16 * 1024)
#define COM1		0x3F8
#define DEBUG_EXIT_PORT	0xF4

	.section .boot.text, "ax"
	.code32
	.global _start
_start:
	cli
	cld
	/* .data is not cleared below, so the loader's registers survive there. */
	movl %eax, boot_magic
	movl %ebx, boot_info_pa

	/* Loaders zero BSS in practice; nothing obliges them to. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	movl $boot_stack_top, %esp

	/* Long mode is CPUID 8000_0001 EDX[29]. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode
	movl %edx, %ebp

	/* PML4[0] -> PDPT; PDPT[0..3] -> four PDs of 2 MiB pages = 4 GiB. */
	movl $boot_pdpt + (PTE_P | PTE_W), boot_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd + (PTE_P | PTE_W), %eax
	movl %eax, boot_pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_W | PTE_PS), %eax
	movl %eax, boot_pd(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b
	movl $1, boot_identity_limit + 4		/* 4 GiB */

	/*
	 * With 1 GiB pages, PDPT[4..511] extend the identity map to 512 GiB so
	 * that RAM above 4 GiB is reachable without building tables in C.
	 */
	btl $26, %ebp
	jnc 4f
	movl $4, %ecx
3:	movl %ecx, %eax
	shll $30, %eax
	orl $(PTE_P | PTE_W | PTE_PS), %eax
	movl %eax, boot_pdpt(, %ecx, 8)
	movl %ecx, %eax
	shrl $2, %eax
	movl %eax, boot_pdpt + 4(, %ecx, 8)
	incl %ecx
	cmpl $512, %ecx
	jb 3b
	movl $0x80, boot_identity_limit + 4	/* 512 GiB */
4:
	/* APM 14.6.1: PAE, CR3, EFER.LME, then CR0.PG activates long mode. */
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	andl $~(CR0_CD | CR0_NW), %eax
	orl $(CR0_PE | CR0_WP | CR0_PG), %eax
	movl %eax, %cr0
	lgdt boot_gdt_ptr
	ljmp $GDT_KERNEL_CS, $long_entry

/* Say why on COM1 (polled, bounded wait), ask QEMU to exit, else halt. */
no_long_mode:
	movl $no_long_mode_msg, %esi
1:	lodsb
	testb %al, %al
	jz 3f
	movb %al, %bl
	movl $100000, %ecx
	movw $COM1 + 5, %dx
2:	inb %dx, %al
	testb $0x20, %al
	loopz 2b
	movw $COM1, %dx
	movb %bl, %al
	outb %al, %dx
	jmp 1b
3:	movb $EXIT_UNSUPPORTED, %al
	outb %al, $DEBUG_EXIT_PORT
4:	hlt
	jmp 4b

	.code64
long_entry:
	movw $GDT_KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	/* A zero frame pointer ends every backtrace here. */
	xorl %ebp, %ebp
	movl boot_magic(%rip), %edi
	movl boot_info_pa(%rip), %esi
	call kmain
5:	cli
	hlt
	jmp 5b

	.section .rodata
no_long_mode_msg:
	.asciz "nestvisor: CPU has no long mode\r\n"

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF	/* GDT_KERNEL_CS: 64-bit code, DPL 0 */
	.quad 0x00CF92000000FFFF	/* GDT_KERNEL_DS: data, DPL 0 */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .data
	.balign 8
	.global boot_magic, boot_info_pa, boot_identity_limit
boot_magic:		.long 0
boot_info_pa:		.long 0
boot_identity_limit:	.quad 0

	.section .bss
	.balign 4096
	.global boot_stack_guard, boot_stack_bottom, boot_stack_top
	.global boot_pml4, boot_pdpt, boot_pd
boot_stack_guard:	.skip 4096
boot_stack_bottom:	.skip BOOT_STACK_SIZE
boot_stack_top:
boot_pml4:		.skip 4096
boot_pdpt:		.skip 4096
boot_pd:		.skip 4 * 4096
