/*
 * The Virtual Machine Control Block: AMD APM vol. 2 (24593) appendix B,
 * Table B-1 (control area, VMCB offsets 0x000-0x3ff) and Table B-2 (state
 * save area, VMCB offset 0x400 on), as of APM rev 3.44, plus the exit codes
 * of appendix C, Table C-1. Page modification logging is from rev 3.45
 * (section 15.25.15) and marked so where it appears.
 *
 * Every field's offset is checked by a _Static_assert at the end of this
 * file, so assembly and C can trust offsetof() instead of literal offsets.
 * Bit definitions sit right under the field they belong to. Reserved gaps
 * are named by the offset they start at: VMCB offsets in the control area,
 * Table B-2 (save-area-relative) offsets in struct vmcb_save, as the APM
 * numbers them.
 */
#ifndef ARCH_X86_SVM_VMCB_H
#define ARCH_X86_SVM_VMCB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Intercepts as one flat bit index (APM Table B-1, vectors 0-5): bit b of
 * the 32-bit word at VMCB offset 4 * w is INTERCEPT_BIT(w, b). For every
 * instruction and event intercept the index equals the exit code it causes
 * (Table C-1), so an exit code below NR_INTERCEPT_BITS names its own bit.
 */
#define NR_INTERCEPT_WORDS	 6
#define NR_INTERCEPT_BITS	 (NR_INTERCEPT_WORDS * 32)
#define INTERCEPT_BIT(word, bit) ((word)*32 + (bit))

/* word 0: VMCB offset 0x000. Reads, then writes, of CR0-CR15. */
#define INTERCEPT_CR_READ(n)  INTERCEPT_BIT(0, (n))
#define INTERCEPT_CR_WRITE(n) INTERCEPT_BIT(0, 16 + (n))
#define INTERCEPT_CR0_READ    INTERCEPT_CR_READ(0)
#define INTERCEPT_CR2_READ    INTERCEPT_CR_READ(2)
#define INTERCEPT_CR3_READ    INTERCEPT_CR_READ(3)
#define INTERCEPT_CR4_READ    INTERCEPT_CR_READ(4)
#define INTERCEPT_CR8_READ    INTERCEPT_CR_READ(8)
#define INTERCEPT_CR0_WRITE   INTERCEPT_CR_WRITE(0)
#define INTERCEPT_CR2_WRITE   INTERCEPT_CR_WRITE(2)
#define INTERCEPT_CR3_WRITE   INTERCEPT_CR_WRITE(3)
#define INTERCEPT_CR4_WRITE   INTERCEPT_CR_WRITE(4)
#define INTERCEPT_CR8_WRITE   INTERCEPT_CR_WRITE(8)

/* word 1: VMCB offset 0x004. Reads, then writes, of DR0-DR15. */
#define INTERCEPT_DR_READ(n)  INTERCEPT_BIT(1, (n))
#define INTERCEPT_DR_WRITE(n) INTERCEPT_BIT(1, 16 + (n))

/*
 * word 2: VMCB offset 0x008. Exception vectors 0-31. The bit for vector 2
 * is not implemented (APM 15.12): use INTERCEPT_NMI.
 */
#define INTERCEPT_EXCEPTION(vec) INTERCEPT_BIT(2, (vec))

/* word 3: VMCB offset 0x00C */
#define INTERCEPT_INTR		INTERCEPT_BIT(3, 0)
#define INTERCEPT_NMI		INTERCEPT_BIT(3, 1)
#define INTERCEPT_SMI		INTERCEPT_BIT(3, 2)
#define INTERCEPT_INIT		INTERCEPT_BIT(3, 3)
#define INTERCEPT_VINTR		INTERCEPT_BIT(3, 4)
#define INTERCEPT_CR0_SEL_WRITE INTERCEPT_BIT(3, 5) /* changes other than TS, MP */
#define INTERCEPT_IDTR_READ	INTERCEPT_BIT(3, 6)
#define INTERCEPT_GDTR_READ	INTERCEPT_BIT(3, 7)
#define INTERCEPT_LDTR_READ	INTERCEPT_BIT(3, 8)
#define INTERCEPT_TR_READ	INTERCEPT_BIT(3, 9)
#define INTERCEPT_IDTR_WRITE	INTERCEPT_BIT(3, 10)
#define INTERCEPT_GDTR_WRITE	INTERCEPT_BIT(3, 11)
#define INTERCEPT_LDTR_WRITE	INTERCEPT_BIT(3, 12)
#define INTERCEPT_TR_WRITE	INTERCEPT_BIT(3, 13)
#define INTERCEPT_RDTSC		INTERCEPT_BIT(3, 14)
#define INTERCEPT_RDPMC		INTERCEPT_BIT(3, 15)
#define INTERCEPT_PUSHF		INTERCEPT_BIT(3, 16)
#define INTERCEPT_POPF		INTERCEPT_BIT(3, 17)
#define INTERCEPT_CPUID		INTERCEPT_BIT(3, 18)
#define INTERCEPT_RSM		INTERCEPT_BIT(3, 19)
#define INTERCEPT_IRET		INTERCEPT_BIT(3, 20)
#define INTERCEPT_INTN		INTERCEPT_BIT(3, 21)
#define INTERCEPT_INVD		INTERCEPT_BIT(3, 22)
#define INTERCEPT_PAUSE		INTERCEPT_BIT(3, 23)
#define INTERCEPT_HLT		INTERCEPT_BIT(3, 24)
#define INTERCEPT_INVLPG	INTERCEPT_BIT(3, 25)
#define INTERCEPT_INVLPGA	INTERCEPT_BIT(3, 26)
#define INTERCEPT_IOIO_PROT	INTERCEPT_BIT(3, 27) /* consult the IOPM */
#define INTERCEPT_MSR_PROT	INTERCEPT_BIT(3, 28) /* consult the MSRPM */
#define INTERCEPT_TASK_SWITCH	INTERCEPT_BIT(3, 29)
#define INTERCEPT_FERR_FREEZE	INTERCEPT_BIT(3, 30)
#define INTERCEPT_SHUTDOWN	INTERCEPT_BIT(3, 31)

/* word 4: VMCB offset 0x010. The *_WRITE_TRAP bits exit after the write. */
#define INTERCEPT_VMRUN		    INTERCEPT_BIT(4, 0) /* must be set (APM 15.5.1) */
#define INTERCEPT_VMMCALL	    INTERCEPT_BIT(4, 1)
#define INTERCEPT_VMLOAD	    INTERCEPT_BIT(4, 2)
#define INTERCEPT_VMSAVE	    INTERCEPT_BIT(4, 3)
#define INTERCEPT_STGI		    INTERCEPT_BIT(4, 4)
#define INTERCEPT_CLGI		    INTERCEPT_BIT(4, 5)
#define INTERCEPT_SKINIT	    INTERCEPT_BIT(4, 6)
#define INTERCEPT_RDTSCP	    INTERCEPT_BIT(4, 7)
#define INTERCEPT_ICEBP		    INTERCEPT_BIT(4, 8)
#define INTERCEPT_WBINVD	    INTERCEPT_BIT(4, 9)	 /* and WBNOINVD */
#define INTERCEPT_MONITOR	    INTERCEPT_BIT(4, 10) /* and MONITORX */
#define INTERCEPT_MWAIT		    INTERCEPT_BIT(4, 11) /* and MWAITX, always */
#define INTERCEPT_MWAIT_CONDITIONAL INTERCEPT_BIT(4, 12) /* only if armed */
#define INTERCEPT_XSETBV	    INTERCEPT_BIT(4, 13)
#define INTERCEPT_RDPRU		    INTERCEPT_BIT(4, 14)
#define INTERCEPT_EFER_WRITE_TRAP   INTERCEPT_BIT(4, 15)
#define INTERCEPT_CR_WRITE_TRAP(n)  INTERCEPT_BIT(4, 16 + (n))

/* word 5: VMCB offset 0x014. Bits 31:7 are reserved (SBZ). */
#define INTERCEPT_INVLPGB	  INTERCEPT_BIT(5, 0) /* all INVLPGB */
#define INTERCEPT_INVLPGB_ILLEGAL INTERCEPT_BIT(5, 1) /* illegally specified only */
#define INTERCEPT_INVPCID	  INTERCEPT_BIT(5, 2)
#define INTERCEPT_MCOMMIT	  INTERCEPT_BIT(5, 3)
#define INTERCEPT_TLBSYNC	  INTERCEPT_BIT(5, 4)
#define INTERCEPT_BUS_LOCK	  INTERCEPT_BIT(5, 5) /* when bus_lock_counter is 0 */
#define INTERCEPT_IDLE_HLT	  INTERCEPT_BIT(5, 6) /* HLT, no virtual intr pending */

/* Table B-1. */
struct vmcb_control {
	uint32_t intercepts[NR_INTERCEPT_WORDS]; /* 0x000: INTERCEPT_* words */
	uint8_t reserved_0x018[0x24];
	uint16_t pause_filter_thresh; /* 0x03c */
	uint16_t pause_filter_count;  /* 0x03e */
	uint64_t iopm_base_pa;	      /* 0x040: bits 11:0 ignored */
	uint64_t msrpm_base_pa;	      /* 0x048: bits 11:0 ignored */
	uint64_t tsc_offset;	      /* 0x050: added on RDTSC, RDTSCP */
	uint32_t asid;		      /* 0x058 */
	uint8_t tlb_control;	      /* 0x05c: bits 39:32 of the 0x058 qword */
	/* APM 15.16.1. 3 and 7 need FlushByASID; other encodings reserved. */
#define VMCB_TLB_CONTROL_DO_NOTHING	      0x00
#define VMCB_TLB_CONTROL_FLUSH_ALL	      0x01 /* every ASID: legacy only */
#define VMCB_TLB_CONTROL_FLUSH_ASID	      0x03
#define VMCB_TLB_CONTROL_FLUSH_ASID_NONGLOBAL 0x07
	uint8_t erap_control;		     /* 0x05d: bits 47:40 of 0x058, rev 3.44 */
#define VMCB_ERAP_ALLOW_LARGER_RAP (1u << 0) /* 0x058 bit 40 */
#define VMCB_ERAP_CLEAR_RAP	   (1u << 1) /* 0x058 bit 41 */
	uint8_t reserved_0x05e[2];
	uint32_t int_ctl;			   /* 0x060 bits 31:0; APM 15.21, 15.33.2 */
#define VMCB_INT_CTL_V_TPR_MASK	       0x0000000fu /* bits 7:4 SBZ */
#define VMCB_INT_CTL_V_IRQ	       (1u << 8)
#define VMCB_INT_CTL_V_GIF	       (1u << 9)
#define VMCB_INT_CTL_V_NMI	       (1u << 11) /* pending */
#define VMCB_INT_CTL_V_NMI_MASK	       (1u << 12) /* blocked */
#define VMCB_INT_CTL_V_INTR_PRIO_SHIFT 16
#define VMCB_INT_CTL_V_INTR_PRIO_MASK  (0xfu << 16)
#define VMCB_INT_CTL_V_IGN_TPR	       (1u << 20)
#define VMCB_INT_CTL_V_INTR_MASKING    (1u << 24)
#define VMCB_INT_CTL_V_GIF_ENABLE      (1u << 25)
#define VMCB_INT_CTL_V_NMI_ENABLE      (1u << 26)
#define VMCB_INT_CTL_X2AVIC_ENABLE     (1u << 30)
#define VMCB_INT_CTL_AVIC_ENABLE       (1u << 31)
	uint32_t int_vector; /* 0x064: V_INTR_VECTOR, 0x060 bits 39:32 */
#define VMCB_INT_VECTOR_MASK 0xffu
	uint64_t int_state;		    /* 0x068: APM 15.21.5 */
#define VMCB_INT_STATE_SHADOW	(1ull << 0) /* INTERRUPT_SHADOW */
#define VMCB_INT_STATE_GUEST_IF (1ull << 1) /* GUEST_INTERRUPT_MASK (SEV-ES) */
	/*
	 * A full 64-bit field: the error codes of Table C-1 are negative
	 * 64-bit values, so never compare only the low half.
	 */
	uint64_t exit_code;	/* 0x070: SVM_EXIT_* */
	uint64_t exit_info1;	/* 0x078 */
	uint64_t exit_info2;	/* 0x080 */
	uint64_t exit_int_info; /* 0x088: SVM_EVENT_* format */
	uint64_t misc_ctl;	/* 0x090: APM 15.25.3, 15.25.13-14, 15.34 */
#define VMCB_MISC_NP_ENABLE	   (1ull << 0)
#define VMCB_MISC_SEV_ENABLE	   (1ull << 1)
#define VMCB_MISC_SEV_ES_ENABLE	   (1ull << 2)
#define VMCB_MISC_GMET_ENABLE	   (1ull << 3)	/* guest mode execute trap */
#define VMCB_MISC_SSS_CHECK_ENABLE (1ull << 4)	/* supervisor shadow stack in NPT */
#define VMCB_MISC_VTE_ENABLE	   (1ull << 5)	/* virtual transparent encryption */
#define VMCB_MISC_RO_GPT_ENABLE	   (1ull << 6)	/* read-only guest page tables */
#define VMCB_MISC_INVLPGB_TLBSYNC  (1ull << 7)	/* 0: both #UD in the guest */
#define VMCB_MISC_PML_ENABLE	   (1ull << 11) /* rev 3.45, APM 15.25.15 */
	uint64_t avic_apic_bar;			/* 0x098: bits 51:0 (AVIC: APM 15.29) */
#define VMCB_AVIC_APIC_BAR_MASK 0x000fffffffffffffull
	uint64_t ghcb_pa;			  /* 0x0a0: guest physical address of the GHCB */
	uint64_t event_inj;			  /* 0x0a8: SVM_EVENT_* format */
	uint64_t n_cr3;				  /* 0x0b0: nested page table root */
	uint64_t virt_ext;			  /* 0x0b8: APM 15.23, 15.33.1 */
#define VMCB_VIRT_EXT_LBR_ENABLE      (1ull << 0) /* LBR_VIRTUALIZATION_ENABLE */
#define VMCB_VIRT_EXT_V_VMSAVE_VMLOAD (1ull << 1)
#define VMCB_VIRT_EXT_IBS_ENABLE      (1ull << 2)
#define VMCB_VIRT_EXT_PMC_ENABLE      (1ull << 3)
	/*
	 * APM 15.15: a set bit lets the CPU use its cached copy of that
	 * group; a clear bit forces a reload. Bits this file does not know
	 * must be clear whenever anything cached changed, and bit 31 is the
	 * hypervisor's own. TLB_CONTROL, int_state, the exit fields,
	 * event_inj, RFLAGS, RIP, RSP and RAX are never cached.
	 */
	uint32_t clean;		/* 0x0c0 */
#define VMCB_CLEAN_I	      0 /* intercepts, pause filter, TSC offset */
#define VMCB_CLEAN_IOPM	      1 /* IOPM_BASE_PA, MSRPM_BASE_PA */
#define VMCB_CLEAN_ASID	      2
#define VMCB_CLEAN_TPR	      3 /* int_ctl, int_vector */
#define VMCB_CLEAN_NP	      4 /* n_cr3, g_pat */
#define VMCB_CLEAN_CRX	      5 /* CR0, CR3, CR4, EFER */
#define VMCB_CLEAN_DRX	      6 /* DR6, DR7 */
#define VMCB_CLEAN_DT	      7 /* GDTR, IDTR */
#define VMCB_CLEAN_SEG	      8 /* CS, DS, SS, ES, CPL */
#define VMCB_CLEAN_CR2	      9
#define VMCB_CLEAN_LBR	      10 /* DBGCTL, BR_*, LASTEXCP* */
#define VMCB_CLEAN_AVIC	      11 /* APIC_BAR, backing page, tables */
#define VMCB_CLEAN_CET	      12 /* S_CET, SSP, ISST_ADDR */
#define VMCB_CLEAN_KNOWN_MASK ((1u << 13) - 1)
	uint8_t reserved_0x0c4[4];
	uint64_t next_rip;	    /* 0x0c8: nRIP (NRIPS feature) */
	uint8_t insn_len;	    /* 0x0d0: bytes fetched (APM 15.8.4) */
#define VMCB_INSN_LEN_MASK 0x0fu    /* bits 7:4 are 0 */
	uint8_t insn_bytes[15];	    /* 0x0d1: guest instruction bytes */
	uint64_t avic_backing_page; /* 0x0e0: bits 51:0 */
	uint8_t reserved_0x0e8[8];
	uint64_t avic_logical_table; /* 0x0f0: bits 51:12 */
	/*
	 * MAX_INDEX is bits 11:0 in rev 3.44; older revisions (before x2AVIC)
	 * defined only bits 7:0 and reserved the rest.
	 */
	uint64_t avic_physical_table; /* 0x0f8: bits 51:12, MAX_INDEX 11:0 */
#define VMCB_AVIC_TABLE_ADDR_MASK	  0x000ffffffffff000ull
#define VMCB_AVIC_PHYSICAL_MAX_INDEX_MASK 0xfffull
	uint8_t reserved_0x100[8];
	uint64_t vmsa_pa; /* 0x108: SEV-ES VMSA pointer, bits 51:12 */
#define VMCB_VMSA_PA_MASK 0x000ffffffffff000ull
	uint64_t vmgexit_rax; /* 0x110 */
	uint8_t vmgexit_cpl;  /* 0x118 */
	uint8_t reserved_0x119[7];
	uint16_t bus_lock_counter; /* 0x120: Bus Lock Threshold Counter */
	uint8_t reserved_0x122[0x12];
	uint32_t update_irr;				     /* 0x134: bit 0 UPDATE_IRR */
	uint64_t allowed_sev_features;			     /* 0x138 */
#define VMCB_ALLOWED_SEV_FEATURES_MASK 0x3fffffffffffffffull /* bits 61:0 */
#define VMCB_ALLOWED_SEV_FEATURES_EN   (1ull << 63)
	uint64_t guest_sev_features; /* 0x140: bits 61:0 */
	uint8_t reserved_0x148[8];
	uint32_t requested_irr[8]; /* 0x150: REQUESTED_IRR, 256 bits */
	uint8_t reserved_0x170[0x58];
	/*
	 * Page modification logging, APM rev 3.45 section 15.25.15 (newer
	 * than Table B-1 of rev 3.44, which lists 170h-3DFh as reserved).
	 */
	uint64_t pml_addr;  /* 0x1c8: 4 KiB log of dirtied GPAs */
	uint16_t pml_index; /* 0x1d0: next entry, 0x1ff down to 0 */
	uint8_t reserved_0x1d2[0x20e];
	uint8_t reserved_0x3e0[0x20]; /* for the hypervisor; the CPU ignores it */
} __attribute__((packed));

/*
 * A segment register as SVM stores it (Table B-2). attrib packs descriptor
 * bits 47:40 into 7:0 and bits 55:52 into 11:8 (APM 15.5.1).
 */
struct vmcb_seg {
	uint16_t selector;
	uint16_t attrib;
#define SVM_SEG_ATTR_TYPE_MASK 0x000fu
#define SVM_SEG_ATTR_S	       (1u << 4) /* code/data, not system */
#define SVM_SEG_ATTR_DPL_SHIFT 5
#define SVM_SEG_ATTR_DPL_MASK  (3u << 5)
#define SVM_SEG_ATTR_P	       (1u << 7)
#define SVM_SEG_ATTR_AVL       (1u << 8)
#define SVM_SEG_ATTR_L	       (1u << 9)
#define SVM_SEG_ATTR_DB	       (1u << 10)
#define SVM_SEG_ATTR_G	       (1u << 11)
	uint32_t limit; /* expanded by G, in bytes */
	uint64_t base;
} __attribute__((packed));

/*
 * Table B-2; offsets in comments are relative to the save area (add 0x400
 * for the VMCB offset). The ES, CS, SS and DS bases implement only bits
 * 31:0; GDTR and IDTR have reserved selector/attrib and a 16-bit limit.
 */
struct vmcb_save {
	struct vmcb_seg es;   /* +0x000 */
	struct vmcb_seg cs;   /* +0x010 */
	struct vmcb_seg ss;   /* +0x020 */
	struct vmcb_seg ds;   /* +0x030 */
	struct vmcb_seg fs;   /* +0x040 */
	struct vmcb_seg gs;   /* +0x050 */
	struct vmcb_seg gdtr; /* +0x060 */
	struct vmcb_seg ldtr; /* +0x070 */
	struct vmcb_seg idtr; /* +0x080 */
	struct vmcb_seg tr;   /* +0x090 */
	uint8_t reserved_0x0a0[0x2a];
	/*
	 * VMPL exists only in the SEV-SNP VMSA (Table B-4); Table B-2 lists
	 * 0A0h-0CAh as reserved. Named so a dump shows it; keep it 0.
	 */
	uint8_t vmpl; /* +0x0ca */
	uint8_t cpl;  /* +0x0cb: forced to 0 in real mode, 3 in v86 */
	uint8_t reserved_0x0cc[4];
	uint64_t efer; /* +0x0d0 */
	uint8_t reserved_0x0d8[8];
	/* +0x0e0-0x1d7: PMC virtualization (virt_ext PMC_ENABLE) state. */
	uint64_t perf_ctl0;	   /* +0x0e0 */
	uint64_t perf_ctr0;	   /* +0x0e8 */
	uint64_t perf_ctl1;	   /* +0x0f0 */
	uint64_t perf_ctr1;	   /* +0x0f8 */
	uint64_t perf_ctl2;	   /* +0x100 */
	uint64_t perf_ctr2;	   /* +0x108 */
	uint64_t perf_ctl3;	   /* +0x110 */
	uint64_t perf_ctr3;	   /* +0x118 */
	uint64_t perf_ctl4;	   /* +0x120 */
	uint64_t perf_ctr4;	   /* +0x128 */
	uint64_t perf_ctl5;	   /* +0x130 */
	uint64_t perf_ctr5;	   /* +0x138 */
	uint8_t reserved_0x140[8]; /* unlisted in B-2; XSS in the VMSA */
	uint64_t cr4;		   /* +0x148 */
	uint64_t cr3;		   /* +0x150 */
	uint64_t cr0;		   /* +0x158 */
	uint64_t dr7;		   /* +0x160 */
	uint64_t dr6;		   /* +0x168 */
	uint64_t rflags;	   /* +0x170 */
	uint64_t rip;		   /* +0x178 */
	uint8_t reserved_0x180[0x40];
	uint64_t instr_retired_ctr;   /* +0x1c0 */
	uint64_t perf_ctr_global_sts; /* +0x1c8 */
	/*
	 * B-2 calls this a qword yet reserves 1D4h-1D7h; B-4 (VMSA) says
	 * dword. Follow B-4: the upper half is reserved either way.
	 */
	uint32_t perf_ctr_global_ctl; /* +0x1d0 */
	uint8_t reserved_0x1d4[4];
	uint64_t rsp;		 /* +0x1d8 */
	uint64_t s_cet;		 /* +0x1e0 */
	uint64_t ssp;		 /* +0x1e8 */
	uint64_t isst_addr;	 /* +0x1f0 */
	uint64_t rax;		 /* +0x1f8 */
	uint64_t star;		 /* +0x200 */
	uint64_t lstar;		 /* +0x208 */
	uint64_t cstar;		 /* +0x210 */
	uint64_t sfmask;	 /* +0x218 */
	uint64_t kernel_gs_base; /* +0x220 */
	uint64_t sysenter_cs;	 /* +0x228 */
	uint64_t sysenter_esp;	 /* +0x230 */
	uint64_t sysenter_eip;	 /* +0x238 */
	uint64_t cr2;		 /* +0x240 */
	uint8_t reserved_0x248[0x20];
	uint64_t g_pat; /* +0x268: used only with nested paging */
	/* +0x270-0x29f: used only with LBR virtualization (virt_ext bit 0). */
	uint64_t dbgctl;	      /* +0x270 */
	uint64_t br_from;	      /* +0x278 */
	uint64_t br_to;		      /* +0x280 */
	uint64_t last_excp_from;      /* +0x288 */
	uint64_t last_excp_to;	      /* +0x290 */
	uint64_t dbgextnctl;	      /* +0x298: with LBR stack virtualization */
	uint8_t reserved_0x2a0[0x40]; /* APM says "72 bytes"; 2A0h-2DFh is 64 */
	uint64_t spec_ctrl;	      /* +0x2e0 */
	uint8_t reserved_0x2e8[0x388];
	/*
	 * LastBranchStackFromIp/ToIp "in MSR address order": those MSRs
	 * interleave (From[n] = C001_0300h + 2n, To[n] = From[n] + 1), so
	 * entry 2n is From[n] and entry 2n + 1 is To[n].
	 */
	uint64_t lbr_stack[32]; /* +0x670 */
	uint64_t lbr_select;	/* +0x770 */
	/* +0x778-0x7c7: IBS virtualization (virt_ext bit 2) state. */
	uint64_t ibs_fetch_ctl;	    /* +0x778 */
	uint64_t ibs_fetch_linaddr; /* +0x780 */
	uint64_t ibs_op_ctl;	    /* +0x788 */
	uint64_t ibs_op_rip;	    /* +0x790 */
	uint64_t ibs_op_data;	    /* +0x798 */
	uint64_t ibs_op_data2;	    /* +0x7a0 */
	uint64_t ibs_op_data3;	    /* +0x7a8 */
	uint64_t ibs_dc_linaddr;    /* +0x7b0 */
	uint64_t bp_ibstgt_rip;	    /* +0x7b8 */
	uint64_t ic_ibs_extd_ctl;   /* +0x7c0 */
} __attribute__((packed));

/* VMRUN, VMLOAD and VMSAVE take a 4 KiB-aligned VMCB physical address. */
struct vmcb {
	struct vmcb_control control; /* 0x000 */
	struct vmcb_save save;	     /* 0x400 */
	uint8_t reserved_0xbc8[0x1000 - 0xbc8];
} __attribute__((packed, aligned(4096)));

/*
 * EVENTINJ (APM 15.20) and EXITINTINFO (APM 15.7.2) share one format.
 * TYPE 1 and 5-7 are reserved; VMRUN fails with them.
 */
#define SVM_EVENT_VECTOR_MASK	 0xffull /* ignored for TYPE_NMI */
#define SVM_EVENT_TYPE_SHIFT	 8
#define SVM_EVENT_TYPE_MASK	 (7ull << 8)
#define SVM_EVENT_TYPE_INTR	 0
#define SVM_EVENT_TYPE_NMI	 2
#define SVM_EVENT_TYPE_EXCEPTION 3
#define SVM_EVENT_TYPE_SOFT	 4	      /* INTn */
#define SVM_EVENT_EV		 (1ull << 11) /* error code valid */
#define SVM_EVENT_VALID		 (1ull << 31)
#define SVM_EVENT_ERROR_SHIFT	 32
#define SVM_EVENT_ERROR_MASK	 (0xffffffffull << 32)
#define SVM_EVENT_RESERVED_MASK	 0x7ffff000ull /* bits 30:12 */

/* IOIO intercept EXITINFO1 (APM 15.10.2); EXITINFO2 is the next RIP. */
#define SVM_IOIO_TYPE_IN    (1ull << 0) /* 0 = OUT */
#define SVM_IOIO_STR	    (1ull << 2)
#define SVM_IOIO_REP	    (1ull << 3)
#define SVM_IOIO_SZ8	    (1ull << 4)
#define SVM_IOIO_SZ16	    (1ull << 5)
#define SVM_IOIO_SZ32	    (1ull << 6)
#define SVM_IOIO_A16	    (1ull << 7)
#define SVM_IOIO_A32	    (1ull << 8)
#define SVM_IOIO_A64	    (1ull << 9)
#define SVM_IOIO_SEG_SHIFT  10 /* 0 = ES .. 5 = GS (15.10.3) */
#define SVM_IOIO_SEG_MASK   (7ull << 10)
#define SVM_IOIO_PORT_SHIFT 16
#define SVM_IOIO_PORT_MASK  (0xffffull << 16)

/*
 * Nested page fault EXITINFO1 (APM 15.25.6; the SEV-SNP bits from APM
 * 15.36.10); EXITINFO2 is the faulting guest physical address. Walks of
 * guest page tables count as user writes (RW and US set) unless read-only
 * guest page tables are enabled.
 */
#define SVM_NPF_P		  (1ull << 0) /* clear: not present */
#define SVM_NPF_RW		  (1ull << 1)
#define SVM_NPF_US		  (1ull << 2)
#define SVM_NPF_RSV		  (1ull << 3)
#define SVM_NPF_ID		  (1ull << 4)
#define SVM_NPF_SS		  (1ull << 6) /* shadow stack access */
#define SVM_NPF_RMP		  (1ull << 31)
#define SVM_NPF_FINAL_TRANSLATION (1ull << 32) /* the access's own GPA */
#define SVM_NPF_GUEST_PAGE_TABLES (1ull << 33) /* a guest page-table walk */
#define SVM_NPF_ENC		  (1ull << 34)
#define SVM_NPF_SIZE_MISMATCH	  (1ull << 35)
#define SVM_NPF_VMPL		  (1ull << 36)
#define SVM_NPF_SSS		  (1ull << 37) /* supervisor shadow stack page */

/*
 * Decode assists (APM 15.8). MOV CRx/DRx: the GPR number, and bit 63 set
 * for MOV CRx but clear for LMSW, CLTS and SMSW (which give no GPR).
 * INTn: the vector. INVLPG: the linear address, all 64 bits.
 */
#define SVM_EXITINFO_CR_DR_GPR_MASK   0xfull
#define SVM_EXITINFO_CR_MOV	      (1ull << 63)
#define SVM_EXITINFO_INTN_VECTOR_MASK 0xffull

/* MSR intercept EXITINFO1 (APM 15.11); ECX holds the MSR number. */
#define SVM_EXITINFO_MSR_READ  0
#define SVM_EXITINFO_MSR_WRITE 1

/* Task switch intercept (APM 15.14.1): EXITINFO1[15:0] is the new TSS selector. */
#define SVM_EXITINFO_TS_ERROR_MASK 0xffffffffull /* EXITINFO2 from here on */
#define SVM_EXITINFO_TS_IRET	   (1ull << 36)
#define SVM_EXITINFO_TS_JMP	   (1ull << 38)
#define SVM_EXITINFO_TS_HAS_ERROR  (1ull << 44)
#define SVM_EXITINFO_TS_RF	   (1ull << 48) /* RF the old TSS would get */

/*
 * Permission maps (APM 15.10.1, 15.11), 4 KiB aligned. The IOPM has one
 * bit per port; its third page holds the 3 bits that multi-byte accesses
 * near port 0xFFFF reach. The MSRPM has two bits per MSR, read at bit 2k
 * and write at bit 2k + 1, in four 2 KiB vectors, the fourth reserved.
 * With MSR_PROT set, an MSR outside the three ranges always exits.
 */
#define SVM_IOPM_SIZE		 0x3000 /* 12 KiB */
#define SVM_IOPM_PAGES		 3
#define SVM_MSRPM_SIZE		 0x2000 /* 8 KiB */
#define SVM_MSRPM_PAGES		 2
#define SVM_MSRPM_MSRS_PER_RANGE 0x2000
#define SVM_MSRPM_RANGE0_MSR	 0x00000000u /* MSRs 0000_0000-0000_1FFF */
#define SVM_MSRPM_RANGE0_OFFSET	 0x0000	     /* byte offset in the MSRPM */
#define SVM_MSRPM_RANGE1_MSR	 0xc0000000u /* MSRs C000_0000-C000_1FFF */
#define SVM_MSRPM_RANGE1_OFFSET	 0x0800
#define SVM_MSRPM_RANGE2_MSR	 0xc0010000u /* MSRs C001_0000-C001_1FFF */
#define SVM_MSRPM_RANGE2_OFFSET	 0x1000

/*
 * Exit codes, APM Table C-1. Ranges the APM numbers in order (CR0-CR15,
 * DR0-DR15, exception vectors 0-31) have function-like forms.
 */
#define SVM_EXIT_CR_READ(n)	     (0x000 + (n))
#define SVM_EXIT_CR_WRITE(n)	     (0x010 + (n))
#define SVM_EXIT_DR_READ(n)	     (0x020 + (n))
#define SVM_EXIT_DR_WRITE(n)	     (0x030 + (n))
#define SVM_EXIT_EXCP(vec)	     (0x040 + (vec))
#define SVM_EXIT_CR_WRITE_TRAP(n)    (0x090 + (n))
#define SVM_EXIT_CR0_READ	     0x000
#define SVM_EXIT_CR2_READ	     0x002
#define SVM_EXIT_CR3_READ	     0x003
#define SVM_EXIT_CR4_READ	     0x004
#define SVM_EXIT_CR8_READ	     0x008
#define SVM_EXIT_CR0_WRITE	     0x010
#define SVM_EXIT_CR2_WRITE	     0x012
#define SVM_EXIT_CR3_WRITE	     0x013
#define SVM_EXIT_CR4_WRITE	     0x014
#define SVM_EXIT_CR8_WRITE	     0x018
#define SVM_EXIT_EXCP_BASE	     0x040
#define SVM_EXIT_EXCP_LAST	     0x05f
#define SVM_EXIT_INTR		     0x060
#define SVM_EXIT_NMI		     0x061
#define SVM_EXIT_SMI		     0x062
#define SVM_EXIT_INIT		     0x063
#define SVM_EXIT_VINTR		     0x064
#define SVM_EXIT_CR0_SEL_WRITE	     0x065
#define SVM_EXIT_IDTR_READ	     0x066
#define SVM_EXIT_GDTR_READ	     0x067
#define SVM_EXIT_LDTR_READ	     0x068
#define SVM_EXIT_TR_READ	     0x069
#define SVM_EXIT_IDTR_WRITE	     0x06a
#define SVM_EXIT_GDTR_WRITE	     0x06b
#define SVM_EXIT_LDTR_WRITE	     0x06c
#define SVM_EXIT_TR_WRITE	     0x06d
#define SVM_EXIT_RDTSC		     0x06e
#define SVM_EXIT_RDPMC		     0x06f
#define SVM_EXIT_PUSHF		     0x070
#define SVM_EXIT_POPF		     0x071
#define SVM_EXIT_CPUID		     0x072
#define SVM_EXIT_RSM		     0x073
#define SVM_EXIT_IRET		     0x074
#define SVM_EXIT_SWINT		     0x075 /* INTn */
#define SVM_EXIT_INVD		     0x076
#define SVM_EXIT_PAUSE		     0x077
#define SVM_EXIT_HLT		     0x078
#define SVM_EXIT_INVLPG		     0x079
#define SVM_EXIT_INVLPGA	     0x07a
#define SVM_EXIT_IOIO		     0x07b
#define SVM_EXIT_MSR		     0x07c
#define SVM_EXIT_TASK_SWITCH	     0x07d
#define SVM_EXIT_FERR_FREEZE	     0x07e
#define SVM_EXIT_SHUTDOWN	     0x07f /* save area undefined (15.14.3) */
#define SVM_EXIT_VMRUN		     0x080
#define SVM_EXIT_VMMCALL	     0x081
#define SVM_EXIT_VMLOAD		     0x082
#define SVM_EXIT_VMSAVE		     0x083
#define SVM_EXIT_STGI		     0x084
#define SVM_EXIT_CLGI		     0x085
#define SVM_EXIT_SKINIT		     0x086
#define SVM_EXIT_RDTSCP		     0x087
#define SVM_EXIT_ICEBP		     0x088
#define SVM_EXIT_WBINVD		     0x089
#define SVM_EXIT_MONITOR	     0x08a
#define SVM_EXIT_MWAIT		     0x08b
#define SVM_EXIT_MWAIT_CONDITIONAL   0x08c
#define SVM_EXIT_XSETBV		     0x08d
#define SVM_EXIT_RDPRU		     0x08e
#define SVM_EXIT_EFER_WRITE_TRAP     0x08f
#define SVM_EXIT_CR0_WRITE_TRAP	     0x090
#define SVM_EXIT_CR3_WRITE_TRAP	     0x093
#define SVM_EXIT_CR4_WRITE_TRAP	     0x094
#define SVM_EXIT_CR8_WRITE_TRAP	     0x098
#define SVM_EXIT_INVLPGB	     0x0a0
#define SVM_EXIT_INVLPGB_ILLEGAL     0x0a1
#define SVM_EXIT_INVPCID	     0x0a2
#define SVM_EXIT_MCOMMIT	     0x0a3
#define SVM_EXIT_TLBSYNC	     0x0a4
#define SVM_EXIT_BUS_LOCK	     0x0a5
#define SVM_EXIT_IDLE_HLT	     0x0a6
#define SVM_EXIT_NPF		     0x400
#define SVM_EXIT_AVIC_INCOMPLETE_IPI 0x401
#define SVM_EXIT_AVIC_NOACCEL	     0x402 /* unaccelerated vAPIC access */
#define SVM_EXIT_VMGEXIT	     0x403
#define SVM_EXIT_PML_FULL	     0x407	    /* rev 3.45, APM 15.25.15 */
#define SVM_EXIT_INVALID	     ((uint64_t)-1) /* invalid guest state */
#define SVM_EXIT_BUSY		     ((uint64_t)-2) /* VMSA BUSY bit was set */
#define SVM_EXIT_IDLE_REQUIRED	     ((uint64_t)-3) /* sibling thread not idle */
#define SVM_EXIT_INVALID_PMC	     ((uint64_t)-4)

/* A short lowercase name for an exit code ("vmrun", "npf"), or NULL. */
const char *svm_exit_name(uint64_t exit_code);

/* Clear one VMCB_CLEAN_* bit so the next VMRUN reloads that group. */
static inline void vmcb_mark_dirty(struct vmcb_control *c, unsigned int clean_bit)
{
	c->clean &= ~(1u << clean_bit);
}

/*
 * bit is an INTERCEPT_* index; anything past NR_INTERCEPT_BITS is a
 * hypervisor bug, hence the trap. Changing intercepts dirties clean bit I.
 */
static inline void vmcb_set_intercept(struct vmcb_control *c, unsigned int bit)
{
	if (bit >= NR_INTERCEPT_BITS)
		__builtin_trap();
	c->intercepts[bit / 32] |= 1u << (bit % 32);
	vmcb_mark_dirty(c, VMCB_CLEAN_I);
}

static inline void vmcb_clear_intercept(struct vmcb_control *c, unsigned int bit)
{
	if (bit >= NR_INTERCEPT_BITS)
		__builtin_trap();
	c->intercepts[bit / 32] &= ~(1u << (bit % 32));
	vmcb_mark_dirty(c, VMCB_CLEAN_I);
}

/*
 * False for bits past NR_INTERCEPT_BITS, so it can be asked about any
 * exit code (NPF, VMEXIT_INVALID...) that has no intercept bit.
 */
static inline bool vmcb_test_intercept(const struct vmcb_control *c, unsigned int bit)
{
	if (bit >= NR_INTERCEPT_BITS)
		return false;
	return (c->intercepts[bit / 32] >> (bit % 32)) & 1;
}

/* A valid EVENTINJ value; type is an SVM_EVENT_TYPE_*. */
static inline uint64_t svm_event(unsigned int vector, unsigned int type, bool has_error,
				 uint32_t error_code)
{
	uint64_t ev = SVM_EVENT_VALID | ((uint64_t)(type & 7) << SVM_EVENT_TYPE_SHIFT) |
		      (vector & SVM_EVENT_VECTOR_MASK);

	if (has_error)
		ev |= SVM_EVENT_EV | ((uint64_t)error_code << SVM_EVENT_ERROR_SHIFT);
	return ev;
}

static inline unsigned int svm_event_vector(uint64_t ev)
{
	return (unsigned int)(ev & SVM_EVENT_VECTOR_MASK);
}

static inline unsigned int svm_event_type(uint64_t ev)
{
	return (unsigned int)((ev & SVM_EVENT_TYPE_MASK) >> SVM_EVENT_TYPE_SHIFT);
}

static inline uint32_t svm_event_error(uint64_t ev)
{
	return (uint32_t)(ev >> SVM_EVENT_ERROR_SHIFT);
}

/* The 12-bit SVM attrib of an 8-byte GDT/LDT descriptor. */
static inline uint16_t svm_seg_attrib_from_desc(uint64_t desc)
{
	return (uint16_t)(((desc >> 40) & 0x0ff) | ((desc >> 44) & 0xf00));
}

/* Layout checks: absolute VMCB offsets, so they match what asm would use. */
#define VMCB_AT(table, field, off)                                                                 \
	_Static_assert(offsetof(struct vmcb, field) == (off), "APM " table ": " #field)

_Static_assert(sizeof(struct vmcb_seg) == 16, "APM B-2: segment is 16 bytes");
_Static_assert(offsetof(struct vmcb_seg, attrib) == 2, "APM B-2: seg attrib");
_Static_assert(offsetof(struct vmcb_seg, limit) == 4, "APM B-2: seg limit");
_Static_assert(offsetof(struct vmcb_seg, base) == 8, "APM B-2: seg base");
_Static_assert(sizeof(struct vmcb_control) == 0x400, "APM B-1: control area is 1 KiB");
_Static_assert(sizeof(struct vmcb_save) == 0x7c8, "APM B-2: save area ends at 7C8h");
_Static_assert(sizeof(struct vmcb) == 4096, "APM B: the VMCB is one page");
_Static_assert(sizeof(((struct vmcb_control *)0)->intercepts) == NR_INTERCEPT_WORDS * 4,
	       "APM B-1: intercept words");
_Static_assert(INTERCEPT_IDLE_HLT < NR_INTERCEPT_BITS, "APM B-1: last intercept fits");
/* Intercept index == exit code, for each word with instruction intercepts. */
_Static_assert(INTERCEPT_CR_WRITE(8) == SVM_EXIT_CR8_WRITE, "APM C-1: word 0");
_Static_assert(INTERCEPT_DR_WRITE(7) == SVM_EXIT_DR_WRITE(7), "APM C-1: word 1");
_Static_assert(INTERCEPT_EXCEPTION(14) == SVM_EXIT_EXCP(14), "APM C-1: word 2");
_Static_assert(INTERCEPT_SHUTDOWN == SVM_EXIT_SHUTDOWN, "APM C-1: word 3");
_Static_assert(INTERCEPT_CR_WRITE_TRAP(8) == SVM_EXIT_CR8_WRITE_TRAP, "APM C-1: word 4");
_Static_assert(INTERCEPT_IDLE_HLT == SVM_EXIT_IDLE_HLT, "APM C-1: word 5");

VMCB_AT("B-1", control.intercepts[0], 0x000);
VMCB_AT("B-1", control.intercepts[1], 0x004);
VMCB_AT("B-1", control.intercepts[2], 0x008);
VMCB_AT("B-1", control.intercepts[3], 0x00c);
VMCB_AT("B-1", control.intercepts[4], 0x010);
VMCB_AT("B-1", control.intercepts[5], 0x014);
VMCB_AT("B-1", control.reserved_0x018, 0x018);
VMCB_AT("B-1", control.pause_filter_thresh, 0x03c);
VMCB_AT("B-1", control.pause_filter_count, 0x03e);
VMCB_AT("B-1", control.iopm_base_pa, 0x040);
VMCB_AT("B-1", control.msrpm_base_pa, 0x048);
VMCB_AT("B-1", control.tsc_offset, 0x050);
VMCB_AT("B-1", control.asid, 0x058);
VMCB_AT("B-1", control.tlb_control, 0x05c);
VMCB_AT("B-1", control.erap_control, 0x05d);
VMCB_AT("B-1", control.reserved_0x05e, 0x05e);
VMCB_AT("B-1", control.int_ctl, 0x060);
VMCB_AT("B-1", control.int_vector, 0x064);
VMCB_AT("B-1", control.int_state, 0x068);
VMCB_AT("B-1", control.exit_code, 0x070);
VMCB_AT("B-1", control.exit_info1, 0x078);
VMCB_AT("B-1", control.exit_info2, 0x080);
VMCB_AT("B-1", control.exit_int_info, 0x088);
VMCB_AT("B-1", control.misc_ctl, 0x090);
VMCB_AT("B-1", control.avic_apic_bar, 0x098);
VMCB_AT("B-1", control.ghcb_pa, 0x0a0);
VMCB_AT("B-1", control.event_inj, 0x0a8);
VMCB_AT("B-1", control.n_cr3, 0x0b0);
VMCB_AT("B-1", control.virt_ext, 0x0b8);
VMCB_AT("B-1", control.clean, 0x0c0);
VMCB_AT("B-1", control.reserved_0x0c4, 0x0c4);
VMCB_AT("B-1", control.next_rip, 0x0c8);
VMCB_AT("B-1", control.insn_len, 0x0d0);
VMCB_AT("B-1", control.insn_bytes, 0x0d1);
VMCB_AT("B-1", control.avic_backing_page, 0x0e0);
VMCB_AT("B-1", control.reserved_0x0e8, 0x0e8);
VMCB_AT("B-1", control.avic_logical_table, 0x0f0);
VMCB_AT("B-1", control.avic_physical_table, 0x0f8);
VMCB_AT("B-1", control.reserved_0x100, 0x100);
VMCB_AT("B-1", control.vmsa_pa, 0x108);
VMCB_AT("B-1", control.vmgexit_rax, 0x110);
VMCB_AT("B-1", control.vmgexit_cpl, 0x118);
VMCB_AT("B-1", control.reserved_0x119, 0x119);
VMCB_AT("B-1", control.bus_lock_counter, 0x120);
VMCB_AT("B-1", control.reserved_0x122, 0x122);
VMCB_AT("B-1", control.update_irr, 0x134);
VMCB_AT("B-1", control.allowed_sev_features, 0x138);
VMCB_AT("B-1", control.guest_sev_features, 0x140);
VMCB_AT("B-1", control.reserved_0x148, 0x148);
VMCB_AT("B-1", control.requested_irr, 0x150);
VMCB_AT("B-1", control.reserved_0x170, 0x170);
VMCB_AT("15.25.15", control.pml_addr, 0x1c8);
VMCB_AT("15.25.15", control.pml_index, 0x1d0);
VMCB_AT("B-1", control.reserved_0x1d2, 0x1d2);
VMCB_AT("B-1", control.reserved_0x3e0, 0x3e0);

VMCB_AT("B-2", save.es, 0x400);
VMCB_AT("B-2", save.cs, 0x410);
VMCB_AT("B-2", save.ss, 0x420);
VMCB_AT("B-2", save.ds, 0x430);
VMCB_AT("B-2", save.fs, 0x440);
VMCB_AT("B-2", save.gs, 0x450);
VMCB_AT("B-2", save.gdtr, 0x460);
VMCB_AT("B-2", save.ldtr, 0x470);
VMCB_AT("B-2", save.idtr, 0x480);
VMCB_AT("B-2", save.tr, 0x490);
VMCB_AT("B-2", save.reserved_0x0a0, 0x4a0);
VMCB_AT("B-4", save.vmpl, 0x4ca);
VMCB_AT("B-2", save.cpl, 0x4cb);
VMCB_AT("B-2", save.reserved_0x0cc, 0x4cc);
VMCB_AT("B-2", save.efer, 0x4d0);
VMCB_AT("B-2", save.reserved_0x0d8, 0x4d8);
VMCB_AT("B-2", save.perf_ctl0, 0x4e0);
VMCB_AT("B-2", save.perf_ctr0, 0x4e8);
VMCB_AT("B-2", save.perf_ctl1, 0x4f0);
VMCB_AT("B-2", save.perf_ctr1, 0x4f8);
VMCB_AT("B-2", save.perf_ctl2, 0x500);
VMCB_AT("B-2", save.perf_ctr2, 0x508);
VMCB_AT("B-2", save.perf_ctl3, 0x510);
VMCB_AT("B-2", save.perf_ctr3, 0x518);
VMCB_AT("B-2", save.perf_ctl4, 0x520);
VMCB_AT("B-2", save.perf_ctr4, 0x528);
VMCB_AT("B-2", save.perf_ctl5, 0x530);
VMCB_AT("B-2", save.perf_ctr5, 0x538);
VMCB_AT("B-2", save.reserved_0x140, 0x540);
VMCB_AT("B-2", save.cr4, 0x548);
VMCB_AT("B-2", save.cr3, 0x550);
VMCB_AT("B-2", save.cr0, 0x558);
VMCB_AT("B-2", save.dr7, 0x560);
VMCB_AT("B-2", save.dr6, 0x568);
VMCB_AT("B-2", save.rflags, 0x570);
VMCB_AT("B-2", save.rip, 0x578);
VMCB_AT("B-2", save.reserved_0x180, 0x580);
VMCB_AT("B-2", save.instr_retired_ctr, 0x5c0);
VMCB_AT("B-2", save.perf_ctr_global_sts, 0x5c8);
VMCB_AT("B-2", save.perf_ctr_global_ctl, 0x5d0);
VMCB_AT("B-2", save.reserved_0x1d4, 0x5d4);
VMCB_AT("B-2", save.rsp, 0x5d8);
VMCB_AT("B-2", save.s_cet, 0x5e0);
VMCB_AT("B-2", save.ssp, 0x5e8);
VMCB_AT("B-2", save.isst_addr, 0x5f0);
VMCB_AT("B-2", save.rax, 0x5f8);
VMCB_AT("B-2", save.star, 0x600);
VMCB_AT("B-2", save.lstar, 0x608);
VMCB_AT("B-2", save.cstar, 0x610);
VMCB_AT("B-2", save.sfmask, 0x618);
VMCB_AT("B-2", save.kernel_gs_base, 0x620);
VMCB_AT("B-2", save.sysenter_cs, 0x628);
VMCB_AT("B-2", save.sysenter_esp, 0x630);
VMCB_AT("B-2", save.sysenter_eip, 0x638);
VMCB_AT("B-2", save.cr2, 0x640);
VMCB_AT("B-2", save.reserved_0x248, 0x648);
VMCB_AT("B-2", save.g_pat, 0x668);
VMCB_AT("B-2", save.dbgctl, 0x670);
VMCB_AT("B-2", save.br_from, 0x678);
VMCB_AT("B-2", save.br_to, 0x680);
VMCB_AT("B-2", save.last_excp_from, 0x688);
VMCB_AT("B-2", save.last_excp_to, 0x690);
VMCB_AT("B-2", save.dbgextnctl, 0x698);
VMCB_AT("B-2", save.reserved_0x2a0, 0x6a0);
VMCB_AT("B-2", save.spec_ctrl, 0x6e0);
VMCB_AT("B-2", save.reserved_0x2e8, 0x6e8);
VMCB_AT("B-2", save.lbr_stack, 0xa70);
VMCB_AT("B-2", save.lbr_select, 0xb70);
VMCB_AT("B-2", save.ibs_fetch_ctl, 0xb78);
VMCB_AT("B-2", save.ibs_fetch_linaddr, 0xb80);
VMCB_AT("B-2", save.ibs_op_ctl, 0xb88);
VMCB_AT("B-2", save.ibs_op_rip, 0xb90);
VMCB_AT("B-2", save.ibs_op_data, 0xb98);
VMCB_AT("B-2", save.ibs_op_data2, 0xba0);
VMCB_AT("B-2", save.ibs_op_data3, 0xba8);
VMCB_AT("B-2", save.ibs_dc_linaddr, 0xbb0);
VMCB_AT("B-2", save.bp_ibstgt_rip, 0xbb8);
VMCB_AT("B-2", save.ic_ibs_extd_ctl, 0xbc0);
VMCB_AT("B-2", reserved_0xbc8, 0xbc8);

#undef VMCB_AT

#endif
