/*
 * Short names for SVM exit codes (APM vol. 2 appendix C, Table C-1), for
 * VMCB dumps and exit traces.
 */
#include "arch/x86/svm/vmcb.h"

/* Sixteen numbered names, e.g. "cr0_read" .. "cr15_read", from base on. */
#define NAMES16(base, pre, post)                                                                   \
	[(base) + 0] = pre "0" post, [(base) + 1] = pre "1" post, [(base) + 2] = pre "2" post,     \
		  [(base) + 3] = pre "3" post, [(base) + 4] = pre "4" post,                        \
		  [(base) + 5] = pre "5" post, [(base) + 6] = pre "6" post,                        \
		  [(base) + 7] = pre "7" post, [(base) + 8] = pre "8" post,                        \
		  [(base) + 9] = pre "9" post, [(base) + 10] = pre "10" post,                      \
		  [(base) + 11] = pre "11" post, [(base) + 12] = pre "12" post,                    \
		  [(base) + 13] = pre "13" post, [(base) + 14] = pre "14" post,                    \
		  [(base) + 15] = pre "15" post

/* The dense part of Table C-1, 0x000 to 0x0a6; gaps stay NULL. */
static const char *const exit_names[] = {
    NAMES16(SVM_EXIT_CR_READ(0), "cr", "_read"),
    NAMES16(SVM_EXIT_CR_WRITE(0), "cr", "_write"),
    NAMES16(SVM_EXIT_DR_READ(0), "dr", "_read"),
    NAMES16(SVM_EXIT_DR_WRITE(0), "dr", "_write"),
    /* Every vector has an exit code, reserved ones included. */
    [SVM_EXIT_EXCP(0)] = "excp_de",
    [SVM_EXIT_EXCP(1)] = "excp_db",
    [SVM_EXIT_EXCP(2)] = "excp_2", /* not implemented: NMI exits instead */
    [SVM_EXIT_EXCP(3)] = "excp_bp",
    [SVM_EXIT_EXCP(4)] = "excp_of",
    [SVM_EXIT_EXCP(5)] = "excp_br",
    [SVM_EXIT_EXCP(6)] = "excp_ud",
    [SVM_EXIT_EXCP(7)] = "excp_nm",
    [SVM_EXIT_EXCP(8)] = "excp_df",
    [SVM_EXIT_EXCP(9)] = "excp_9",
    [SVM_EXIT_EXCP(10)] = "excp_ts",
    [SVM_EXIT_EXCP(11)] = "excp_np",
    [SVM_EXIT_EXCP(12)] = "excp_ss",
    [SVM_EXIT_EXCP(13)] = "excp_gp",
    [SVM_EXIT_EXCP(14)] = "excp_pf",
    [SVM_EXIT_EXCP(15)] = "excp_15",
    [SVM_EXIT_EXCP(16)] = "excp_mf",
    [SVM_EXIT_EXCP(17)] = "excp_ac",
    [SVM_EXIT_EXCP(18)] = "excp_mc",
    [SVM_EXIT_EXCP(19)] = "excp_xf",
    [SVM_EXIT_EXCP(20)] = "excp_20",
    [SVM_EXIT_EXCP(21)] = "excp_cp",
    [SVM_EXIT_EXCP(22)] = "excp_22",
    [SVM_EXIT_EXCP(23)] = "excp_23",
    [SVM_EXIT_EXCP(24)] = "excp_24",
    [SVM_EXIT_EXCP(25)] = "excp_25",
    [SVM_EXIT_EXCP(26)] = "excp_26",
    [SVM_EXIT_EXCP(27)] = "excp_27",
    [SVM_EXIT_EXCP(28)] = "excp_hv",
    [SVM_EXIT_EXCP(29)] = "excp_vc",
    [SVM_EXIT_EXCP(30)] = "excp_sx",
    [SVM_EXIT_EXCP(31)] = "excp_31",
    [SVM_EXIT_INTR] = "intr",
    [SVM_EXIT_NMI] = "nmi",
    [SVM_EXIT_SMI] = "smi",
    [SVM_EXIT_INIT] = "init",
    [SVM_EXIT_VINTR] = "vintr",
    [SVM_EXIT_CR0_SEL_WRITE] = "cr0_sel_write",
    [SVM_EXIT_IDTR_READ] = "idtr_read",
    [SVM_EXIT_GDTR_READ] = "gdtr_read",
    [SVM_EXIT_LDTR_READ] = "ldtr_read",
    [SVM_EXIT_TR_READ] = "tr_read",
    [SVM_EXIT_IDTR_WRITE] = "idtr_write",
    [SVM_EXIT_GDTR_WRITE] = "gdtr_write",
    [SVM_EXIT_LDTR_WRITE] = "ldtr_write",
    [SVM_EXIT_TR_WRITE] = "tr_write",
    [SVM_EXIT_RDTSC] = "rdtsc",
    [SVM_EXIT_RDPMC] = "rdpmc",
    [SVM_EXIT_PUSHF] = "pushf",
    [SVM_EXIT_POPF] = "popf",
    [SVM_EXIT_CPUID] = "cpuid",
    [SVM_EXIT_RSM] = "rsm",
    [SVM_EXIT_IRET] = "iret",
    [SVM_EXIT_SWINT] = "swint",
    [SVM_EXIT_INVD] = "invd",
    [SVM_EXIT_PAUSE] = "pause",
    [SVM_EXIT_HLT] = "hlt",
    [SVM_EXIT_INVLPG] = "invlpg",
    [SVM_EXIT_INVLPGA] = "invlpga",
    [SVM_EXIT_IOIO] = "ioio",
    [SVM_EXIT_MSR] = "msr",
    [SVM_EXIT_TASK_SWITCH] = "task_switch",
    [SVM_EXIT_FERR_FREEZE] = "ferr_freeze",
    [SVM_EXIT_SHUTDOWN] = "shutdown",
    [SVM_EXIT_VMRUN] = "vmrun",
    [SVM_EXIT_VMMCALL] = "vmmcall",
    [SVM_EXIT_VMLOAD] = "vmload",
    [SVM_EXIT_VMSAVE] = "vmsave",
    [SVM_EXIT_STGI] = "stgi",
    [SVM_EXIT_CLGI] = "clgi",
    [SVM_EXIT_SKINIT] = "skinit",
    [SVM_EXIT_RDTSCP] = "rdtscp",
    [SVM_EXIT_ICEBP] = "icebp",
    [SVM_EXIT_WBINVD] = "wbinvd",
    [SVM_EXIT_MONITOR] = "monitor",
    [SVM_EXIT_MWAIT] = "mwait",
    [SVM_EXIT_MWAIT_CONDITIONAL] = "mwait_conditional",
    [SVM_EXIT_XSETBV] = "xsetbv",
    [SVM_EXIT_RDPRU] = "rdpru",
    [SVM_EXIT_EFER_WRITE_TRAP] = "efer_write_trap",
    NAMES16(SVM_EXIT_CR_WRITE_TRAP(0), "cr", "_write_trap"),
    [SVM_EXIT_INVLPGB] = "invlpgb",
    [SVM_EXIT_INVLPGB_ILLEGAL] = "invlpgb_illegal",
    [SVM_EXIT_INVPCID] = "invpcid",
    [SVM_EXIT_MCOMMIT] = "mcommit",
    [SVM_EXIT_TLBSYNC] = "tlbsync",
    [SVM_EXIT_BUS_LOCK] = "bus_lock",
    [SVM_EXIT_IDLE_HLT] = "idle_hlt",
};

_Static_assert(sizeof(exit_names) / sizeof(exit_names[0]) == SVM_EXIT_IDLE_HLT + 1,
	       "exit_names ends at the last dense exit code");

const char *svm_exit_name(uint64_t exit_code)
{
	/* The whole 64 bits count: 0x1_0000_0080 is not VMRUN. */
	if (exit_code < sizeof(exit_names) / sizeof(exit_names[0]))
		return exit_names[exit_code];

	switch (exit_code) {
	case SVM_EXIT_NPF:
		return "npf";
	case SVM_EXIT_AVIC_INCOMPLETE_IPI:
		return "avic_incomplete_ipi";
	case SVM_EXIT_AVIC_NOACCEL:
		return "avic_noaccel";
	case SVM_EXIT_VMGEXIT:
		return "vmgexit";
	case SVM_EXIT_PML_FULL:
		return "pml_full";
	case SVM_EXIT_INVALID:
		return "invalid";
	case SVM_EXIT_BUSY:
		return "busy";
	case SVM_EXIT_IDLE_REQUIRED:
		return "idle_required";
	case SVM_EXIT_INVALID_PMC:
		return "invalid_pmc";
	default:
		return NULL;
	}
}
