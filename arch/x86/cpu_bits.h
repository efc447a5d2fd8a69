/*
 * Architectural bit and MSR numbers (APM vol. 2 ch. 3, 5; vol. 3 CPUID).
 * Plain #defines only: included from assembly as well as C.
 */
#ifndef ARCH_X86_CPU_BITS_H
#define ARCH_X86_CPU_BITS_H

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_TS (1 << 3)
#define CR0_ET (1 << 4)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_AM (1 << 18)
#define CR0_NW (1 << 29)
#define CR0_CD (1 << 30)
#define CR0_PG 0x80000000 /* not (1 << 31): that int is negative */

#define CR4_VME	       (1 << 0)
#define CR4_PVI	       (1 << 1)
#define CR4_TSD	       (1 << 2)
#define CR4_DE	       (1 << 3)
#define CR4_PSE	       (1 << 4)
#define CR4_PAE	       (1 << 5)
#define CR4_MCE	       (1 << 6)
#define CR4_PGE	       (1 << 7)
#define CR4_PCE	       (1 << 8)
#define CR4_OSFXSR     (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)

#define MSR_APIC_BASE	   0x0000001B
#define MSR_PAT		   0x00000277
#define MSR_EFER	   0xC0000080
#define MSR_STAR	   0xC0000081
#define MSR_LSTAR	   0xC0000082
#define MSR_CSTAR	   0xC0000083
#define MSR_SFMASK	   0xC0000084
#define MSR_FS_BASE	   0xC0000100
#define MSR_GS_BASE	   0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102
#define MSR_VM_CR	   0xC0010114
#define MSR_VM_HSAVE_PA	   0xC0010117

#define EFER_SCE  (1 << 0)
#define EFER_LME  (1 << 8)
#define EFER_LMA  (1 << 10)
#define EFER_NXE  (1 << 11)
#define EFER_SVME (1 << 12)

/* APM 15.30.1 VM_CR. */
#define VM_CR_DPD      (1 << 0)
#define VM_CR_R_INIT   (1 << 1)
#define VM_CR_DIS_A20M (1 << 2)
#define VM_CR_LOCK     (1 << 3)
#define VM_CR_SVMDIS   (1 << 4)

#define RFLAGS_CF (1 << 0)
#define RFLAGS_TF (1 << 8)
#define RFLAGS_IF (1 << 9)
#define RFLAGS_VM (1 << 17)

/* Page-table entry bits (APM vol. 2 5.3). */
#define PTE_P	(1 << 0)
#define PTE_W	(1 << 1)
#define PTE_U	(1 << 2)
#define PTE_PWT (1 << 3)
#define PTE_PCD (1 << 4)
#define PTE_A	(1 << 5)
#define PTE_D	(1 << 6)
#define PTE_PS	(1 << 7)
#define PTE_G	(1 << 8)

/* CPUID 8000_0001 EDX. */
#define CPUID_EXT_EDX_PAGE1GB (1 << 26)
#define CPUID_EXT_EDX_LM      (1 << 29)
/* CPUID 8000_0001 ECX. */
#define CPUID_EXT_ECX_SVM (1 << 2)

#endif
